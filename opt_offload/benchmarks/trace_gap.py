"""``opt-offload bench trace-gap``: K-Priority FCFS against the assignment MILP (``exact``,
lexicographic) on windows of the real traces, with the conventions of ``bench assignment-gap``
(throughput gap ``(S* - S) / S*``; latency gap ``(T - T*) / T*`` only where S = S*; "lex opt"
where S = S* and T <= T*).

A window is ``--requests`` consecutive requests of a trace, its first request at one of
``--windows`` evenly spaced positions of the file; its instance is what ``opt-offload import
azure-llm-trace`` builds from it (budgets Omega_j = FLOP/s x the window's span, L_max 4 s).
"""

from __future__ import annotations

import argparse

from ..errors import InputError
from .assignment_gap import WINDOWS, gap_row, summary

KIND = "trace-gap"
DESCRIPTION = "gap of K-Priority FCFS (rules x K_q) to the assignment MILP on real trace windows"
TRACES = ("code", "conv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--windows", type=int, default=100, help="windows of each trace (100)")
    parser.add_argument("--requests", type=int, default=200, help="requests a window (200)")
    parser.add_argument("--traces", default="code,conv", help="traces: code, conv or files")
    parser.add_argument("--preset", default="testbed", help="servers: testbed or scale")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds a MILP (60)")
    parser.add_argument("--csv", metavar="PATH", help="one row per window, rule and K_q")


def window_instances(name: str, windows: int, requests: int, preset: str):
    """The instances of ``windows`` evenly spaced windows of ``requests`` requests."""
    from ..generators.trace_assignment import trace_assignment
    from ..importers.azure_llm_trace import Trace, read_trace

    whole = read_trace(name)
    if requests > len(whole):
        raise InputError(f"--requests: {name} has {len(whole)} requests, asked {requests}")
    last_first = len(whole) - requests
    firsts = sorted({round(n * last_first / max(windows - 1, 1)) for n in range(windows)})
    for first in firsts:
        chosen = whole.requests[first : first + requests]
        origin = chosen[0].arrival_s
        shifted = tuple(
            type(r)(r.line, r.arrival_s - origin, r.prompt_tokens, r.generated_tokens)
            for r in chosen
        )
        span = shifted[-1].arrival_s
        trace = Trace(whole.source, shifted, origin, span, 1.0, whole.span_s)
        yield trace_assignment(trace, preset=preset)


def study_rows(args: argparse.Namespace, progress) -> tuple[list[dict], list[str]]:
    from ..solve import solve
    from ..solvers.assignment.kpfcfs import RULES

    rows, skipped = [], []
    for name in args.traces:
        for instance in window_instances(name, args.windows, args.requests, args.preset):
            exact = solve(instance, "exact", time_limit=args.time_limit)
            progress()
            if exact.status.value != "optimal" or exact.objective is None:
                skipped.append(f"{instance.name} (exact: {exact.status.value})")
                continue
            for rule in RULES:
                for k in WINDOWS:
                    solution = solve(instance, "kpfcfs", k=k, rule=rule)
                    rows.append(gap_row(name, instance, exact, solution, rule, k))
    return rows, skipped


def check(args: argparse.Namespace) -> None:
    problems = []
    if args.windows < 1:
        problems.append(f"--windows: must be at least 1, got {args.windows}")
    if args.requests < 1:
        problems.append(f"--requests: must be at least 1, got {args.requests}")
    if not args.time_limit > 0:
        problems.append(f"--time-limit: must be positive, got {args.time_limit}")
    if problems:
        raise InputError(problems)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cli.simulate import progress_bar
    from ..io import csv_text, write_output
    from ..report import records_table

    check(args)
    args.traces = [t.strip() for t in args.traces.split(",") if t.strip()]
    total = args.windows * len(args.traces)
    with progress_bar("windows", total) as show:
        done = iter(range(1, total + 1))
        rows, skipped = study_rows(args, lambda: show(next(done, total)))
    if not rows:
        raise InputError("trace-gap: no window to compare on")
    title = (
        f"K-P-FCFS vs exact (lexicographic) on {args.windows} windows x {args.requests} "
        f"requests of each trace, {args.preset} servers"
    )
    wide = Console(highlight=False, width=160)
    wide.print(records_table(title, summary(rows), ("source", "rule"), 3))
    if skipped:
        wide.print(f"left out ({len(skipped)}): " + "; ".join(skipped))
    if args.csv:
        write_output(args.csv, csv_text(rows))
        wide.print(f"{len(rows)} rows written to {args.csv}")
    return 0
