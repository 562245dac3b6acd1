"""``opt-offload bench trace-replay``: how fast a trace replays. K-P-FCFS on a whole trace
(target: the conversation hour, 19,366 requests, in under 30 s, reading and building included)
and the rolling MILP at W = 1 s (target: faster than real time, i.e. wall time / replayed time
below 1), both on the testbed servers. Each line's ratio is measured in this run: the replayed
period against the wall time it took.
"""

from __future__ import annotations

import argparse
import time

from ..errors import InputError
from ..io import dumps_strict

KIND = "trace-replay"
DESCRIPTION = "trace replay speed: K-P-FCFS on a whole trace, the rolling MILP against real time"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trace", default="conv", help="code, conv or a file (conv)")
    parser.add_argument(
        "--milp-window", type=float, default=1.0, metavar="W", help="rolling MILP W, s (1)"
    )
    parser.add_argument(
        "--milp-duration",
        type=float,
        metavar="S",
        help="replay the first S trace seconds under the MILP (default: the whole trace)",
    )
    parser.add_argument("--no-milp", action="store_true", help="K-P-FCFS only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def kpfcfs_record(trace_name: str) -> dict:
    from ..generators.trace_assignment import trace_assignment
    from ..importers.azure_llm_trace import read_trace
    from ..simulation.replay import Policy, replay

    started = time.perf_counter()
    trace = read_trace(trace_name)
    instance = trace_assignment(trace)
    built = time.perf_counter() - started
    run = replay(instance, trace, Policy("kpfcfs", rule="fcfs", k=16))
    wall = time.perf_counter() - started
    return {
        "run": "K-P-FCFS fcfs, K_q = 16",
        "requests": len(trace),
        "replayed_s": trace.duration_s,
        "read_and_build_s": built,
        "solver_s": None,
        "wall_s": wall,
        "wall_per_replayed": wall / trace.duration_s,
        "target": "wall_s < 30",
        "met": wall < 30.0,
        "goodput_fraction": run.metrics.goodput_fraction,
    }


def milp_record(trace_name: str, window_s: float, duration_s: float | None) -> dict:
    import math

    from ..cli.simulate import progress_bar
    from ..generators.trace_assignment import trace_assignment
    from ..importers.azure_llm_trace import read_trace
    from ..simulation.replay import Policy, replay

    started = time.perf_counter()
    trace = read_trace(trace_name, window_s=duration_s)
    instance = trace_assignment(trace)
    built = time.perf_counter() - started
    windows = math.floor(trace.arrivals_s[-1] / window_s) + 1
    with progress_bar("MILP windows", windows) as show:
        run = replay(
            instance,
            trace,
            Policy("milp", window_s=window_s),
            progress=lambda done, total: show(done),
        )
    return {
        "run": f"rolling MILP, W = {window_s:g} s",
        "requests": len(trace),
        "replayed_s": trace.duration_s,
        "read_and_build_s": built,
        "solver_s": run.solve_wall_s,
        "wall_s": built + run.wall_s,
        "wall_per_replayed": (built + run.wall_s) / trace.duration_s,
        "target": "wall_per_replayed < 1 (faster than real time)",
        "met": built + run.wall_s < trace.duration_s,
        "goodput_fraction": run.metrics.goodput_fraction,
    }


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..report import records_table

    if not args.milp_window > 0 or (args.milp_duration is not None and not args.milp_duration > 0):
        raise InputError("--milp-window, --milp-duration: must be positive")
    records = [kpfcfs_record(args.trace)]
    if not args.no_milp:
        records.append(milp_record(args.trace, args.milp_window, args.milp_duration))
    if args.json:
        print(dumps_strict({"trace": args.trace, "runs": records}, indent=2))
        return 0
    wide = Console(highlight=False, width=160)
    shown = [{k: v for k, v in r.items() if k != "target"} for r in records]
    wide.print(
        records_table(f"trace replay speed: {args.trace}, testbed servers", shown, ("run",), 3)
    )
    for record in records:
        verdict = "met" if record["met"] else "NOT met"
        wide.print(f"{record['run']}: target {record['target']}: {verdict}")
    return 0
