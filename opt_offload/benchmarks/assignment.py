"""``opt-offload bench assignment``: the targets of the edge/cloud assignment issue.

``orlib``: every problem of the OR-Library GAP files (gap1-gap12, types A-D, imported as strict
instances by :mod:`opt_offload.importers.orlib_gap`) through both formulations, ``exact``
(Pyomo + HiGHS) and ``exact-cvxpy`` (CVXPY + HiGHS). The value is the evaluator's total
transmission latency T turned back into the GAP objective (profit n Cmax - T for gap1-gap12,
cost T otherwise), and likewise the bound. Target: gap1-gap12 and types A-C proven optimal at
the published optimum. Type D has no proven optimum in the literature: its value and bound are
reported, and checked only against the published bounds (value >= lower, bound <= upper).
Time limits: ``--time-limit`` per solve of gap1-12 and A-C (a limit reached is a failure),
``--d-time-limit`` per solve of type D.

``scale``: the generator's ``scale`` preset (1,000 tasks, 20 edges + cloud, 3 models, placement
free) solved lexicographically by ``exact``; target: proven optimal in under 60 s. Build time
is measured apart, after the solve, by building the models of both stages again (Pyomo:
``models.assignment.build_pyomo``; CVXPY: ``build_cvxpy`` plus its compilation to HiGHS's
matrices); solve time is the rest of the solver's wall time. The same instance through
``exact-cvxpy`` is timed under the same ``--scale-limit``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..console import console
from ..errors import InputError
from ..importers.orlib_gap import (
    DATA_DIR,
    GapProblem,
    PublishedValue,
    gap_files,
    published_value,
    read_gap_file,
)
from ..schemas import AssignmentInstance, Solution, Status
from ..solve import solve
from .placement import fmt, write_csv

KIND = "assignment"
DESCRIPTION = (
    "assignment MILP: OR-Library GAP optima through both formulations, and the 1,000-task "
    "scale instance to proven optimality"
)
FORMULATIONS = ("exact", "exact-cvxpy")
REPORT_ONLY = ("gapd.txt",)  # type D: no proven optimum published
SCALE_WITHIN_S = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", choices=("orlib", "scale"), help="run one part only")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds per solve of gap1-gap12 and types A-C (default 120; they need < 30)",
    )
    parser.add_argument(
        "--d-time-limit",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds per solve of type D, which runs into it (default 30)",
    )
    parser.add_argument(
        "--file",
        action="append",
        metavar="NAME",
        help="only these GAP files, e.g. --file gap1 --file gapd (repeatable)",
    )
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, help="folder of the OR-Library files"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the scale instance (default 0)"
    )
    parser.add_argument(
        "--scale-limit",
        type=float,
        default=300.0,
        metavar="S",
        help="time limit of each scale solve (default 300; the target is 60)",
    )
    parser.add_argument("--csv", metavar="PATH", help="write the rows as CSV")


# -- OR-Library -------------------------------------------------------------------------------


def selected_files(args: argparse.Namespace) -> list[Path]:
    if not args.data.is_dir():
        raise InputError(
            f"--data: {args.data} is not a folder (the OR-Library files ship with the package, "
            "in data/orlib-gap)"
        )
    files = gap_files(args.data)
    if not args.file:
        return files
    known = {f.stem: f for f in files}
    unknown = [name for name in args.file if name not in known]
    if unknown:
        raise InputError(f"--file: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    return [known[name] for name in args.file]


def gap_record(problem: GapProblem, solver: str, solution: Solution, data_dir: Path) -> dict:
    """One row: the GAP value and bound of a solution, the published value, and the verdict."""
    published = published_value(problem.file, problem.index, problem.sense, data_dir=data_dir)
    value = None if solution.objective is None else problem.value(solution.objective)
    bound = None if solution.bound is None else problem.value(solution.bound)
    return {
        "case": problem.name,
        "size": f"{problem.agents}x{problem.jobs}",
        "sense": problem.sense,
        "solver": solver,
        "status": solution.status.value,
        "value": value,
        "bound": bound,
        "published": published_text(published),
        "wall_s": solution.wall_s,
        "result": gap_verdict(problem, solution, value, bound, published),
    }


def published_text(published: PublishedValue | None) -> str | None:
    """The optimum, or ``lower-upper`` where the literature has only bounds."""
    if published is None:
        return None
    if published.optimum is not None:
        return f"{published.optimum:.10g}"
    return f"{published.lower:.10g}-{published.upper:.10g}"


def gap_verdict(problem, solution, value, bound, published) -> str:
    if problem.file not in REPORT_ONLY:
        proven = solution.status is Status.OPTIMAL
        return "pass" if proven and published and value == published.optimum else "FAIL"
    if published is None:
        return "report"
    return "report" if within_published_bounds(problem.sense, value, bound, published) else "FAIL"


def within_published_bounds(sense, value, bound, published) -> bool:
    """Our incumbent cannot beat the published bound on the optimum, nor our bound the published
    incumbent; either would be a bug (in us or in the literature)."""
    lower, upper = published.lower, published.upper
    if sense == "max":
        lower, upper, value, bound = -upper, -lower, *(v and -v for v in (value, bound))
    return (value is None or value >= lower) and (bound is None or bound <= upper)


def orlib_records(args: argparse.Namespace) -> list[dict]:
    records = []
    for path in selected_files(args):
        for problem in read_gap_file(path):
            instance = problem.to_instance()
            for solver in FORMULATIONS:
                limit = args.d_time_limit if path.name in REPORT_ONLY else args.time_limit
                solution = solve(instance, solver, time_limit=limit)
                records.append(gap_record(problem, solver, solution, args.data))
    return records


def orlib_table(records: list[dict]) -> Table:
    columns = ("case", "size", "sense", "solver", "status", "value", "bound", "published")
    columns += ("wall_s", "result")
    out = Table(title="OR-Library GAP (value = GAP objective: profit for max, cost for min)")
    for column in columns:
        out.add_column(column, no_wrap=True)
    for record in records:
        out.add_row(*(exact_fmt(record[c]) if c in EXACT else fmt(record[c]) for c in columns))
    return out


EXACT = ("value", "bound")  # integers of the GAP: every digit shown


def exact_fmt(value) -> str:
    return fmt(value) if not isinstance(value, float) else f"{value:.10g}"


# -- scale ------------------------------------------------------------------------------------


def lexicographic_stages(best: int) -> list[tuple[str, int | None]]:
    """The two MILPs a lexicographic solve builds: max S, then min T with S >= S*."""
    return [("throughput", None), ("transmission", best)]


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def pyomo_build_s(instance: AssignmentInstance, best: int) -> float:
    from opt_offload.models.assignment import build_pyomo

    return sum(
        timed(build_pyomo, instance, objective=stage, min_throughput=floor)
        for stage, floor in lexicographic_stages(best)
    )


def cvxpy_build_s(instance: AssignmentInstance, best: int) -> float:
    """CVXPY builds lazily: the model and its compilation to HiGHS's matrices."""
    import cvxpy as cp

    from opt_offload.models.assignment import build_cvxpy

    def build_and_compile(stage: str, floor: int | None) -> None:
        problem, _, _ = build_cvxpy(instance, objective=stage, min_throughput=floor)
        problem.get_problem_data(cp.HIGHS)

    return sum(
        timed(build_and_compile, stage, floor) for stage, floor in lexicographic_stages(best)
    )


BUILD_TIME = {"exact": pyomo_build_s, "exact-cvxpy": cvxpy_build_s}


def scale_records(args: argparse.Namespace) -> list[dict]:
    from ..generators.assignment import generate_assignment

    instance = generate_assignment(preset="scale", seed=args.seed)
    records = []
    for solver, build_time in BUILD_TIME.items():
        solution = solve(instance, solver, time_limit=args.scale_limit)
        throughput = solution.metrics.get("throughput")
        # measured after the solve, which gives S* for the second stage's constraint
        build_s = build_time(instance, throughput) if throughput is not None else None
        records.append(
            {
                "case": f"{instance.name} (seed {args.seed})",
                "size": f"{len(instance.tasks)} tasks x {len(instance.servers)} servers",
                "solver": solver,
                "status": solution.status.value,
                "throughput": throughput,
                "transmission_s": solution.metrics.get("transmission_s"),
                "build_s": build_s,
                "solve_s": None if build_s is None else solution.wall_s - build_s,
                "wall_s": solution.wall_s,
                "message": solution.message,
            }
        )
    return records


def scale_table(records: list[dict]) -> Table:
    columns = ("case", "size", "solver", "status", "throughput", "transmission_s", "build_s")
    columns += ("solve_s", "wall_s")
    out = Table(title="scale instance, lexicographic (max throughput, then min transmission)")
    for column in columns:
        out.add_column(column, no_wrap=True)
    for record in records:
        out.add_row(*(fmt(record[c]) for c in columns))
    return out


def scale_met(records: list[dict]) -> bool:
    exact = next(r for r in records if r["solver"] == "exact")
    return exact["status"] == Status.OPTIMAL.value and exact["wall_s"] < SCALE_WITHIN_S


# -- driver -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    limits = {"--time-limit": args.time_limit, "--d-time-limit": args.d_time_limit}
    limits["--scale-limit"] = args.scale_limit
    bad = [
        f"{name}: must be positive, got {value:g}" for name, value in limits.items() if value <= 0
    ]
    if bad:
        raise InputError(bad)
    # import the backends first, so that the first solve's time is not their import time
    import cvxpy  # noqa: F401
    import highspy  # noqa: F401
    import pyomo.contrib.solver.solvers.highs  # noqa: F401
    import pyomo.environ  # noqa: F401

    wide = Console(highlight=False, width=160)
    records, verdicts = [], []
    if args.only in (None, "orlib"):
        rows = orlib_records(args)
        wide.print(orlib_table(rows))
        failed = [f"{r['case']} ({r['solver']})" for r in rows if r["result"] == "FAIL"]
        verdicts.append(
            "orlib: gap1-12 and A-C at the published optimum, D within the published bounds: "
            + ("met" if not failed else f"NOT met: {', '.join(failed)}")
        )
        records += rows
    if args.only in (None, "scale"):
        rows = scale_records(args)
        wide.print(scale_table(rows))
        verdicts.append(
            f"scale: exact proven optimal in < {SCALE_WITHIN_S:g} s: "
            + ("met" if scale_met(rows) else "NOT met")
        )
        records += rows
    for verdict in verdicts:
        console.print(verdict)
    if args.csv:
        # one header for both parts: the union of their columns, blank where a part has none
        columns = dict.fromkeys(key for record in records for key in record)
        write_csv(args.csv, [{c: record.get(c) for c in columns} for record in records])
    return 0 if all(v.endswith(": met") for v in verdicts) else 1
