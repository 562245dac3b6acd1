"""``opt-offload sweep``: the simulation over M and B with several seeds, on local processes or
a Dask cluster; figures in the style of PRADA Figs. 5-8 and the exact-vs-threshold table."""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

from ..errors import InputError
from ..io import dumps_strict, write_output
from .common import console, number
from .simulate import (
    BANDWIDTH,
    CAPACITY_M,
    SURROGATE_NOTE,
    add_run_arguments,
    progress_bar,
    run_config,
)

MAX_GRID = 1_000  # points of each axis
MAX_RUNS = 100_000  # simulations of a sweep: points x seeds x strategies


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..prada import CAPACITY, TABLE3_BANDWIDTH_HZ

    parser = subparsers.add_parser(
        "sweep",
        help="simulate over grids of M and B, several seeds, with figures",
        description="Run the simulation for every strategy and seed over M (at the base B) and "
        "over B (at the base M), in parallel; write every run, the means with 95% confidence "
        "intervals, the exact-minus-threshold differences and Figs. 5-8 (PNG) into --out. "
        "Results are the same whichever executor runs them (each run is seeded from "
        "(seed, M, B)); only the timing columns differ.",
    )
    add_run_arguments(parser)
    # The default grids reach past the knees the sweep reports (critical.json): at PRADA
    # Table 3's load the accuracy and objective flatten only near M = 16-20, and the band stops
    # binding between 1e5 and 1e6 Hz, so M 1..15 or B from 1e5 would cut a knee off (docs: the
    # simulation's sweep page).
    parser.add_argument("--capacities", default="1:30", help="M grid: A:B or a list (1:30)")
    parser.add_argument(
        "--bandwidths", default="1e3:1e9", help="B grid, Hz: LOW:HIGH (log) or a list (1e3:1e9)"
    )
    parser.add_argument(
        "--per-decade", type=number(1, 100, integer=True), default=4, help="B points a decade (4)"
    )
    parser.add_argument("--base-M", type=CAPACITY_M, default=CAPACITY, help="M of the B sweep (9)")
    parser.add_argument(
        "--base-B", type=BANDWIDTH, default=TABLE3_BANDWIDTH_HZ, help="B of the M sweep (4e7)"
    )
    parser.add_argument(
        "--seeds", type=number(1, 1000, integer=True), default=5, help="seeds 0..N-1 (5)"
    )
    parser.add_argument(
        "--strategies",
        default="prada,exact,random-policy,random-scheduler",
        help="lines: prada, exact, random-policy, random-scheduler, all-local",
    )
    parser.add_argument(
        "--workers",
        type=number(1, 1024, integer=True),
        help="local processes (default: every core)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on the dask.distributed scheduler at ADDRESS ('local': a LocalCluster of "
        "--workers processes)",
    )
    parser.add_argument("--out", default="sweep", metavar="DIR", help="output folder (sweep)")
    parser.set_defaults(run=run)


def parse_capacities(text: str) -> tuple[int, ...]:
    """``A:B`` (A <= B) or ``a,b,...``: every value a valid --M, at most MAX_GRID of them."""
    try:
        parts = [CAPACITY_M(part) for part in text.split(":" if ":" in text else ",")]
        if ":" in text:
            low, high = parts
            if low > high:
                raise argparse.ArgumentTypeError(f"A:B needs A <= B, got {low}:{high}")
            parts = list(range(low, high + 1))
        return tuple(grid_size(parts))
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise InputError(
            f"--capacities {text!r}: expected A:B or a list of --M values ({exc})"
        ) from None


def parse_bandwidths(text: str, per_decade: int) -> tuple[float, ...]:
    """``LOW:HIGH`` (log grid, LOW <= HIGH) or ``a,b,...``: every value a valid --B."""
    from ..simulation.sweep import log_grid

    try:
        parts = [BANDWIDTH(part) for part in text.split(":" if ":" in text else ",")]
        if ":" in text:
            low, high = parts
            if low > high:
                raise argparse.ArgumentTypeError(f"LOW:HIGH needs LOW <= HIGH, got {text}")
            grid_size(range(round(math.log10(high / low) * per_decade) + 1))
            parts = log_grid(low, high, per_decade)
        return tuple(grid_size(parts))
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise InputError(
            f"--bandwidths {text!r}: expected LOW:HIGH or a list of --B ({exc})"
        ) from None


def grid_size(points):
    if len(points) > MAX_GRID:
        raise argparse.ArgumentTypeError(f"{len(points)} points, above the limit of {MAX_GRID}")
    return points


def executor_of(args: argparse.Namespace):
    """The executor the options ask for, and the LocalCluster to close after (or None)."""
    from ..simulation.sweep import dask_executor, distributed_module, local_executor

    if not args.dask:
        return local_executor(args.workers), None
    if args.dask != "local":
        return dask_executor(args.dask), None
    cluster = distributed_module().LocalCluster(
        n_workers=args.workers, threads_per_worker=1, dashboard_address=None
    )
    return dask_executor(cluster.scheduler_address), cluster


def run(args: argparse.Namespace) -> int:
    from ..simulation.sweep import SweepPlan, run_sweep

    base = run_config(args, capacity=args.base_M, bandwidth_hz=args.base_B)
    base.check()
    plan = SweepPlan(
        base=base,
        capacities=parse_capacities(args.capacities),
        bandwidths=parse_bandwidths(args.bandwidths, args.per_decade),
        seeds=tuple(range(args.seeds)),
        strategies=tuple(s.strip() for s in args.strategies.split(",") if s.strip()),
    )
    runs = len(plan.runs())
    if runs > MAX_RUNS:
        raise InputError(f"--capacities/--bandwidths/--seeds: {runs} runs, above {MAX_RUNS}")
    folder = Path(args.out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {folder}: cannot create: {exc.strerror or exc}") from None
    executor, cluster = executor_of(args)
    try:
        with progress_bar("runs", runs) as show:
            finished = itertools.count(1)
            rows = run_sweep(plan, executor, lambda: show(next(finished)))
    finally:
        if cluster is not None:
            cluster.close()
    write_outputs(rows, folder, args.preset)
    return 0


def write_outputs(rows: list[dict], folder: Path, preset: str) -> None:
    from ..io import csv_text
    from ..simulation.plots import sweep_figures
    from ..simulation.sweep import critical_values, paired_differences, summarise_runs

    summary = summarise_runs(rows)
    differences = paired_differences(rows)
    critical = critical_values(summary)
    write_output(folder / "runs.csv", csv_text(rows))
    write_output(folder / "summary.csv", csv_text(summary))
    if differences:
        write_output(folder / "exact_minus_threshold.csv", csv_text(differences))
    write_output(
        folder / "critical.json",
        dumps_strict({"strategy": "prada", "critical": critical, "note": SURROGATE_NOTE}, indent=2)
        + "\n",
    )
    figures = sweep_figures(summary, folder, preset)
    print_critical(critical)
    if differences:
        print_differences(differences)
    console.print(SURROGATE_NOTE)
    console.print(f"{len(rows)} runs; tables and {len(figures)} figures written to {folder}")


def print_critical(critical: dict) -> None:
    from rich.table import Table

    table = Table(title="critical values (PRADA line): from here on, 90% of the change is done")
    for column in ("axis", "accuracy (SURROGATE)", "objective U - beta Delta"):
        table.add_column(column)
    for axis in ("M", "B"):
        if f"{axis}:objective" in critical:
            table.add_row(
                axis,
                format_x(critical[f"{axis}:accuracy_surrogate"]),
                format_x(critical[f"{axis}:objective"]),
            )
    console.print(table)


DIFFERENCE_COLUMNS = {
    "objective": "U - beta Delta",
    "accuracy_surrogate": "U (SURROGATE)",
    "penalty_processing": "beta proc.",
    "penalty_communication": "beta comm.",
    "penalty_queuing": "beta queue",
}


def print_differences(differences: list[dict]) -> None:
    from rich.table import Table

    table = Table(title="exact - threshold rules, x 1e-3, same seeds: mean +- 95% CI")
    for column in ("axis", "x", "seeds", *DIFFERENCE_COLUMNS.values()):
        table.add_column(column, justify="right")
    for row in differences:
        cells = [f"{1e3 * row[c]:+.3f}+-{1e3 * row[f'{c}_ci']:.3f}" for c in DIFFERENCE_COLUMNS]
        table.add_row(row["axis"], format_x(row["x"]), str(row["seeds"]), *cells)
    console.print(table)


def format_x(x) -> str:
    return "-" if x is None else f"{x:g}"
