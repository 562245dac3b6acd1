"""``opt-offload compare FILES... --solvers a,b``: gaps and times of several solvers."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.progress import track
from rich.table import Table

from ..compare import aggregate, compare_all, parse_solver_options
from ..errors import InputError
from ..io import check_output, csv_text, dumps_strict, load_instance, write_output
from ..registry import check_time_limit
from .common import EXIT_NO_SOLUTION, EXIT_OK, add_solver_arguments, console, parse_key_values

PER_INSTANCE_ROWS = 30  # more instances than this print the aggregate only (or use --csv)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare solvers on instance files",
        description="Solve every file with every solver; print objective, gap to the reference "
        "(default: the first exact solver listed; positive = worse) and time per instance and "
        "in aggregate (mean, worst). A gap is to the optimum only where the reference proved "
        "it; otherwise it is 'vs best known', next to the reference's own bound gap. Exit 1 "
        "when a reference run holds no solution.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--solvers", required=True, help="comma-separated solver names")
    parser.add_argument("--reference", help="solver the gaps are measured against")
    add_solver_arguments(parser, per_solver=True)
    parser.add_argument("--csv", metavar="PATH", help="write one row per instance and solver")
    parser.add_argument(
        "--json", action="store_true", help="print {rows, aggregate} as JSON instead of tables"
    )
    parser.set_defaults(run=run)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def per_instance_table(rows) -> Table:
    table = Table(title="per instance")
    columns = ("instance", "solver", "status", "objective", "gap %", "against", "ref gap %")
    for column in (*columns, "time ms"):
        table.add_column(
            column, justify="left" if column in ("instance", "solver", "status") else "right"
        )
    for row in rows:
        s = row.solution
        table.add_row(
            s.instance,
            s.solver,
            s.status.value,
            _fmt(s.objective, ".6g"),
            _fmt(None if row.gap is None else 100 * row.gap, ".3f"),
            "vs best known" if row.against == "best known" else row.against,
            _fmt(None if row.reference_gap is None else 100 * row.reference_gap, ".3g"),
            f"{1e3 * s.wall_s:.3f}",
        )
    return table


def aggregate_table(summary, reference: str) -> Table:
    table = Table(title=f"aggregate (gaps against {reference}'s proven optima)")
    for column in (
        "solver",
        "instances",
        "solved",
        "mean gap %",
        "worst gap %",
        "vs best known",
        "worst vs best known %",
        "mean ms",
        "median ms",
    ):
        table.add_column(column, justify="left" if column == "solver" else "right")
    for entry in summary:
        table.add_row(
            entry["solver"],
            str(entry["instances"]),
            str(entry["solved"]),
            _fmt(entry["mean_gap_pct"], ".3f"),
            _fmt(entry["worst_gap_pct"], ".3f"),
            str(entry["vs_best_known"]),
            _fmt(entry["worst_vs_best_known_pct"], ".3f"),
            f"{1e3 * entry['mean_wall_s']:.3f}",
            f"{1e3 * entry['median_wall_s']:.3f}",
        )
    return table


def run(args: argparse.Namespace) -> int:
    check_time_limit(args.time_limit)
    solvers = [name.strip() for name in args.solvers.split(",") if name.strip()]
    if not solvers:
        raise InputError("--solvers: name at least one solver")
    options = parse_solver_options(parse_key_values(args.option))
    for solver in options:
        if solver not in [*solvers, args.reference]:
            raise InputError(
                f"--option {solver}.*: {solver!r} is neither in --solvers nor the --reference"
            )
    if args.csv:
        check_output(args.csv, flag="--csv", inputs=args.files)
    instances = [(path, load_instance(path)) for path in args.files]
    progress_console = Console(stderr=True)
    rows = compare_all(
        instances,
        solvers,
        reference=args.reference,
        time_limit=args.time_limit,
        options=options,
        progress=lambda items: track(
            items,
            description="solving",
            console=progress_console,
            transient=True,
            disable=len(items) < 5,
        ),
    )
    records, summary = [row.as_record() for row in rows], aggregate(rows)
    if args.csv:
        write_output(args.csv, csv_text(records), flag="--csv", inputs=args.files)
    if args.json:
        print(dumps_strict({"rows": records, "aggregate": summary}, indent=2))
    else:
        if len(instances) <= PER_INSTANCE_ROWS:
            console.print(per_instance_table(rows))
        console.print(aggregate_table(summary, rows[0].reference))
        if args.csv:
            console.print(f"{len(rows)} rows written to {args.csv}")
    unsolved = sorted({r.solution.instance for r in rows if r.against == "none"})
    if unsolved:
        message = f"the reference {rows[0].reference} holds no solution on: {', '.join(unsolved)}"
        print(f"opt-offload: {message}", file=sys.stderr)
        return EXIT_NO_SOLUTION
    return EXIT_OK
