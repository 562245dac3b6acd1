"""``opt-offload bench trace-gap``: K-Priority FCFS against the assignment MILP (``exact``,
lexicographic) on windows of the real traces, with the conventions of ``bench assignment-gap``
(throughput gap ``(S* - S) / S*``; latency gap ``(T - T*) / T*`` only where S = S*; "lex opt"
where S = S* and T <= T*).

A window is ``--requests`` consecutive requests of a trace, its first request at one of
``--windows`` evenly spaced positions of the file; its instance is what ``opt-offload import
azure-llm-trace`` builds from it (budgets Omega_j = FLOP/s x the window's span, L_max 4 s).

The MILP of a window is solved in two stages (``exact`` with ``stages=2``: stage 1, max S,
gets half of ``--time-limit``; stage 2, min T subject to S >= S*, the rest), so that a time
limit still leaves S* proven: nearly all of the time goes to stage 2's proof of T* (hundreds to
thousands of B&B nodes on a 200-request window; stage 1 takes well under a second). The study
reports what was proven rather than waiting for every proof:

- S* proven (stage 1 closed its bound), T* proven too: the window counts in every column;
- S* proven, T* not (stage 2 stopped at the limit): the window counts in the throughput columns,
  and not in "lex opt" or the latency gap, whose reference T* is unknown; "T* proven" gives how
  many windows those columns rest on;
- S* not proven: the window is left out and listed.

Windows are independent, so ``--workers`` solves them in parallel processes (results in window
order whatever the order they finish in). Each HiGHS keeps its own threads; on a machine with
few cores, ``--workers`` at the number of cores is the most that helps.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cache

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
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds a window's MILP, both stages (60)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="windows solved in parallel processes (1)"
    )
    parser.add_argument("--csv", metavar="PATH", help="one row per window, rule and K_q")


@dataclass(frozen=True)
class Window:
    """One window of the study: ``requests`` requests of trace ``name`` from the ``first``."""

    name: str
    first: int
    requests: int
    preset: str


@cache
def whole_trace(name: str):
    """The whole trace, read once per process."""
    from ..importers.azure_llm_trace import read_trace

    return read_trace(name)


def study_windows(name: str, windows: int, requests: int, preset: str) -> list[Window]:
    """``windows`` evenly spaced windows of ``requests`` requests (fewer if they coincide)."""
    total = len(whole_trace(name))
    if requests > total:
        raise InputError(f"--requests: {name} has {total} requests, asked {requests}")
    last_first = total - requests
    firsts = sorted({round(n * last_first / max(windows - 1, 1)) for n in range(windows)})
    return [Window(name, first, requests, preset) for first in firsts]


def window_instance(window: Window):
    """The assignment instance of a window, its arrivals from the window's first request."""
    from ..generators.trace_assignment import trace_assignment
    from ..importers.azure_llm_trace import Trace

    whole = whole_trace(window.name)
    chosen = whole.requests[window.first : window.first + window.requests]
    origin = chosen[0].arrival_s
    shifted = tuple(
        type(r)(r.line, r.arrival_s - origin, r.prompt_tokens, r.generated_tokens) for r in chosen
    )
    span = shifted[-1].arrival_s
    trace = Trace(whole.source, shifted, origin, span, 1.0, whole.span_s)
    return trace_assignment(trace, preset=window.preset)


def window_instances(name: str, windows: int, requests: int, preset: str):
    """The instances of ``windows`` evenly spaced windows of ``requests`` requests."""
    for window in study_windows(name, windows, requests, preset):
        yield window_instance(window)


def proven_throughput(exact) -> bool:
    """Whether stage 1 proved S*: the lexicographic solve's bound is stage 1's bound on S."""
    from ..registry import DEFAULT_MIP_GAP

    return exact.gap is not None and exact.gap <= DEFAULT_MIP_GAP


def compare_window(window: Window, time_limit: float) -> tuple[list[dict], str | None]:
    """The gap rows of one window (every rule x K_q), or none and why it was left out."""
    from ..schemas import Status
    from ..solve import solve
    from ..solvers.assignment.kpfcfs import RULES

    instance = window_instance(window)
    exact = solve(instance, "exact", time_limit=time_limit, stages=2)
    if exact.objective is None or not proven_throughput(exact):
        return [], f"{instance.name} (exact: {exact.status.value}, S* not proven)"
    t_proven = exact.status is Status.OPTIMAL
    rows = []
    for rule in RULES:
        for k in WINDOWS:
            solution = solve(instance, "kpfcfs", k=k, rule=rule)
            row = gap_row(window.name, instance, exact, solution, rule, k)
            row["T*_proven"] = t_proven
            if not t_proven:  # against an unproven T*, neither is known
                row["latency_gap"] = row["lex_optimal"] = None
            rows.append(row)
    return rows, None


def compare_all(windows: list[Window], time_limit: float, workers: int, done) -> list:
    """``compare_window`` over ``windows``, in their order, in ``workers`` processes."""
    if workers == 1:
        results = []
        for window in windows:
            results.append(compare_window(window, time_limit))
            done()
        return results
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results = [None] * len(windows)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(compare_window, w, time_limit): n for n, w in enumerate(windows)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done()
    return results


def proven_summary(rows: list[dict]) -> list[dict]:
    """``bench assignment-gap``'s summary, with "lex opt %" over the windows whose T* is
    proven and their count."""
    entries = summary(rows)
    for entry in entries:
        mine = [
            r
            for r in rows
            if (r["source"], r["rule"], r["k"]) == (entry["source"], entry["rule"], entry["K_q"])
        ]
        proven = [r for r in mine if r["T*_proven"]]
        entry["S=S* %"] = 100.0 * sum(r["S"] == r["S*"] for r in mine) / len(mine)
        entry["lex opt %"] = (
            100.0 * sum(r["lex_optimal"] for r in proven) / len(proven) if proven else float("nan")
        )
        entry["T* proven"] = len(proven)
    return entries


def check(args: argparse.Namespace) -> None:
    problems = []
    if args.windows < 1:
        problems.append(f"--windows: must be at least 1, got {args.windows}")
    if args.requests < 1:
        problems.append(f"--requests: must be at least 1, got {args.requests}")
    if not args.time_limit > 0:
        problems.append(f"--time-limit: must be positive, got {args.time_limit}")
    if args.workers < 1:
        problems.append(f"--workers: must be at least 1, got {args.workers}")
    if problems:
        raise InputError(problems)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cli.simulate import progress_bar
    from ..io import csv_text, write_output
    from ..report import records_table

    check(args)
    args.traces = [t.strip() for t in args.traces.split(",") if t.strip()]
    windows = [
        window
        for name in args.traces
        for window in study_windows(name, args.windows, args.requests, args.preset)
    ]
    with progress_bar("windows", len(windows)) as show:
        finished = iter(range(1, len(windows) + 1))
        results = compare_all(
            windows, args.time_limit, args.workers, lambda: show(next(finished))
        )
    rows = [row for window_rows, _ in results for row in window_rows]
    skipped = [why for _, why in results if why]
    if not rows:
        raise InputError("trace-gap: no window to compare on")
    title = (
        f"K-P-FCFS vs exact (lexicographic) on {args.windows} windows x {args.requests} "
        f"requests of each trace, {args.preset} servers, {args.time_limit:g} s a MILP"
    )
    wide = Console(highlight=False, width=160)
    wide.print(records_table(title, proven_summary(rows), ("source", "rule"), 3))
    if skipped:
        wide.print(f"left out ({len(skipped)}): " + "; ".join(skipped))
    if args.csv:
        write_output(args.csv, csv_text(rows))
        wide.print(f"{len(rows)} rows written to {args.csv}")
    return 0
