"""``opt-offload bench io``: reading and solving the largest inputs the package accepts.

Each case runs in a fresh process (so that its peak resident memory is its own) on a file
written for it: an assignment of 10^5 tasks on 4 servers, an admission slot of 10^5 candidates,
a placement graph of 10^5 tensors in 200 layers, and ``/dev/zero`` (refused at the size limit
of :data:`opt_offload.io.MAX_INPUT_BYTES`). Reported: the wall time of the case (reading,
validating and, where named, solving; not the interpreter's start-up) and the process's peak
resident memory. Every case is held to 10 s and 1 GB, the two solves included (their time
grows near-linearly: n log^2 n for threshold's multiplier search, linear in the nodes for
chain-dp).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

KIND = "io"
DESCRIPTION = (
    "time and peak memory of validating (and solving) 10^5 tasks, candidates and nodes, and of "
    "refusing /dev/zero, each in a fresh process; each within 10 s and 1 GB"
)
BOUND_S = 10.0
BOUND_BYTES = 1e9
SIZE = 100_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..cli.common import number

    parser.add_argument(
        "--size", type=number(10, 10**6, integer=True), default=SIZE, help="n of each case"
    )
    parser.add_argument(
        "--timeout", type=number(1, 3600), default=120.0, help="seconds before a case is stopped"
    )


def assignment_document(n: int) -> dict:
    servers = [f"e{j}" for j in range(3)] + ["cloud"]
    return {
        "kind": "assignment",
        "version": 1,
        "name": f"io-{n}-tasks",
        "models": [{"id": "m7", "size_gb": 7.0}],
        "servers": [
            *({"id": s, "storage_gb": 16.0, "flops": 1e13} for s in servers[:3]),
            {"id": "cloud", "cloud": True, "flops": 1e14},
        ],
        "tasks": [{"id": f"t{i}", "model": "m7", "workload_flop": 1e12} for i in range(n)],
        "transmission_s": {
            f"t{i}": {s: 0.01 * (1 + (i + j) % 7) for j, s in enumerate(servers)} for i in range(n)
        },
    }


def admission_document(n: int) -> dict:
    return {
        "kind": "admission",
        "version": 1,
        "name": f"io-{n}-candidates",
        "server": {"capacity": 9, "busy_remaining_s": [0.5, 1.0]},
        "bandwidth_hz": 4e7,
        "beta": 20.0,
        "candidates": [
            {
                "id": f"c{i}",
                "context_tokens": 100 + i % 500,
                "snr_db": -5.0 + (i * 7919) % 400 / 10,
                "server_time_s": 0.01 + (i % 13) / 1000,
                "gain": (i * 104729) % 1000 / 10_000,
                "queue_delay_s": (i % 17) / 100,
            }
            for i in range(n)
        ],
    }


def placement_document(n: int, layers: int = 200) -> dict:
    per_layer = max(1, n // layers)
    nodes = [
        {"id": f"n{i}", "bytes": 1e6, "flop": 1e9, "layer": i // per_layer, "model": "target"}
        for i in range(n)
    ]
    edges = [{"source": f"n{i}", "target": f"n{i + 1}", "bytes": 1e5} for i in range(n - 1)]
    return {
        "kind": "placement",
        "version": 1,
        "name": f"io-{n}-nodes",
        "devices": [
            {"id": "edge", "memory_bytes": 6e10, "flops": 1e13},
            {"id": "cloud", "memory_bytes": 1e12, "flops": 1e14},
        ],
        "bandwidth_bytes_per_s": {"edge": {"cloud": 1e9}, "cloud": {"edge": 1e9}},
        "graph": {"directed": True, "nodes": nodes, "edges": edges},
    }


def validate_case(path: str) -> str:
    from ..io import load_instance

    instance = load_instance(path)
    return f"valid {instance.kind}"


def solve_case(path: str, solver: str) -> str:
    from ..io import load_instance
    from ..solve import solve

    solution = solve(load_instance(path), solver)
    return f"{solver}: {solution.status.value}"


def refuse_case(path: str) -> str:
    from ..errors import InputError
    from ..io import load_instance

    try:
        load_instance(path)
    except InputError as exc:
        return f"refused: {exc.problems[0]}"
    return "read (not refused)"


def child(task: Callable[..., str], arguments: tuple, results) -> None:
    """Run one case and send back (what happened, seconds, peak resident bytes)."""
    import resource

    start = time.perf_counter()
    try:
        outcome = task(*arguments)
    except Exception as exc:  # reported as the case's outcome, the bench goes on
        outcome = f"error: {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    results.put((outcome, seconds, peak))


def run_case(task, arguments: tuple, timeout_s: float) -> tuple[str, float | None, float | None]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=child, args=(task, arguments, results))
    process.start()
    process.join(timeout_s)
    if process.is_alive():
        process.kill()
        process.join()
        return f"stopped after {timeout_s:g} s", None, None
    return results.get() if not results.empty() else ("died", None, None)


Case = tuple[str, Callable[..., str], tuple]  # name, task, arguments


def cases(folder: Path, n: int) -> list[Case]:
    files = {}
    for kind, document in (
        ("assignment", assignment_document(n)),
        ("admission", admission_document(n)),
        ("placement", placement_document(n)),
    ):
        files[kind] = folder / f"{kind}.json"
        files[kind].write_text(json.dumps(document))
    return [
        (f"validate assignment, {n} tasks", validate_case, (str(files["assignment"]),)),
        (f"validate admission, {n} candidates", validate_case, (str(files["admission"]),)),
        (f"validate placement, {n} nodes", validate_case, (str(files["placement"]),)),
        (f"threshold, {n} candidates", solve_case, (str(files["admission"]), "threshold")),
        (f"chain-dp, {n} nodes in 200 layers", solve_case, (str(files["placement"]), "chain-dp")),
        ("validate /dev/zero", refuse_case, ("/dev/zero",)),
    ]


def within_bounds(seconds: float | None, peak: float | None) -> bool:
    if seconds is None or peak is None:
        return False
    return peak <= BOUND_BYTES and seconds <= BOUND_S


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from ..cli.common import console

    table = Table(title="large inputs, each in a fresh process")
    columns = ("case", "outcome", "seconds", "peak MB", "bounds", "within")
    for column in columns:
        table.add_column(column, justify="right" if column in ("seconds", "peak MB") else "left")
    within_all = True
    with tempfile.TemporaryDirectory() as folder:
        for name, task, arguments in cases(Path(folder), args.size):
            outcome, seconds, peak = run_case(task, arguments, args.timeout)
            within = within_bounds(seconds, peak)
            within_all &= within
            table.add_row(
                name,
                outcome,
                "-" if seconds is None else f"{seconds:.2f}",
                "-" if peak is None else f"{peak / 1e6:.0f}",
                f"{BOUND_S:g} s, {BOUND_BYTES / 1e9:g} GB",
                "yes" if within else "NO",
            )
    console.print(table)
    return 0 if within_all else 1
