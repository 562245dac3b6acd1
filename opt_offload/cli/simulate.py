"""``opt-offload simulate``: one dynamic multi-user run of PRADA (Sec. 5, design §8)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from ..errors import InputError
from ..io import write_text_atomic
from .common import console

DEFAULT_SLOTS = 2000
SCHEDULERS_HELP = (
    "a registered admission solver with a per-slot solve: threshold, exact, greedy, random, "
    "all-local, all-server, exact-joint, exact-pyomo, exact-cvxpy, exact-scip"
)
SURROGATE_NOTE = (
    "accuracy is a SURROGATE (opt_offload.simulation.quality), calibrated in expectation to "
    "PRADA Table 2, not a measured accuracy"
)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """What a run needs besides M, B, the scheduler and the policy (shared with ``sweep``)."""
    from ..prada import ARRIVAL_RATE
    from .trace_options import add_arrival_arguments

    parser.add_argument(
        "--preset", default="gsm8k", help="task preset: gsm8k, gaokao, mmlu-stem (gsm8k)"
    )
    parser.add_argument(
        "--lam", type=float, default=ARRIVAL_RATE, help="arrivals per slot (Table 3: 3)"
    )
    parser.add_argument(
        "--slots",
        type=int,
        help="slots with arrivals (2000; with a trace, the slots its window spans)",
    )
    parser.add_argument("--warmup", type=int, help="slots not measured (a tenth of --slots)")
    parser.add_argument("--beta", type=float, help="latency weight, 1/s (calibrated: 2.45)")
    add_arrival_arguments(parser)
    parser.add_argument(
        "--upload",
        default="priced",
        help="a queued request's upload: priced (at B_ref, taking no band: design §4, "
        "Theorem 2) or shared (now, in a share of the slot's band beside the immediate "
        "admissions) (priced)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..prada import CAPACITY, TABLE3_BANDWIDTH_HZ

    parser = subparsers.add_parser(
        "simulate",
        help="simulate the multi-user system slot by slot",
        description="Simulate PRADA's dynamic multi-user system (Sec. 5): Poisson arrivals, "
        "Stage 1 screening, a Stage 2 scheduler per slot, M server slots and a band B per slot. "
        "Prints accuracy (a SURROGATE), delays per task and the objective U - beta Delta.",
    )
    add_run_arguments(parser)
    parser.add_argument("--M", type=int, default=CAPACITY, help="server capacity (Table 3: 9)")
    parser.add_argument(
        "--B", type=float, default=TABLE3_BANDWIDTH_HZ, help="band per slot, Hz (Table 3: 4e7)"
    )
    parser.add_argument(
        "--scheduler", default="threshold", help=f"Stage 2: {SCHEDULERS_HELP} (threshold)"
    )
    parser.add_argument(
        "--scheduler-option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the scheduler, as `solve --option` takes it (repeatable; "
        "`opt-offload solvers` lists them)",
    )
    parser.add_argument("--policy", default="screen", help="Stage 1: screen, random, all (screen)")
    parser.add_argument("--seed", type=int, default=0)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the result as JSON")
    output.add_argument("--csv", action="store_true", help="print the result as CSV")
    parser.add_argument(
        "--out", metavar="PATH", help="write the result here (.csv: CSV, else JSON)"
    )
    parser.set_defaults(run=run)


def run_config(args: argparse.Namespace, **fields):
    """The SimulationConfig of the shared options (``fields``: the rest). With ``--arrivals
    trace:FILE`` the trace's requests replace Poisson(lambda) and, unless ``--slots`` is given,
    the run has the slots the trace window spans."""
    from ..simulation import SimulationConfig
    from ..simulation.arrivals import TraceArrivals
    from .trace_options import trace_spec

    spec = trace_spec(args)
    slots = args.slots
    if slots is None:
        slot_s = SimulationConfig.slot_s
        slots = DEFAULT_SLOTS if spec is None else TraceArrivals(spec, slot_s).slots_needed
    optional = {"warmup": args.warmup, "beta": args.beta}
    return SimulationConfig(
        preset=args.preset,
        arrival_rate=args.lam,
        slots=slots,
        trace=spec,
        upload=args.upload,
        **{key: value for key, value in optional.items() if value is not None},
        **fields,
    )


def run(args: argparse.Namespace) -> int:
    from ..io import csv_text
    from ..simulation import simulate
    from .common import parse_key_values

    config = run_config(
        args,
        capacity=args.M,
        bandwidth_hz=args.B,
        scheduler=args.scheduler,
        scheduler_options=parse_key_values(args.scheduler_option, "--scheduler-option"),
        policy=args.policy,
        seed=args.seed,
    )
    config.check()
    with progress_bar("slots", config.slots) as show:  # the drain after them ends the bar
        result = simulate(config, show)
    document = {
        **result.as_dict(),
        "scheduler_options": dict(config.scheduler_options),
        "arrivals": args.arrivals,
        "note": SURROGATE_NOTE,
    }
    text = {"json": json.dumps(document, indent=2) + "\n", "csv": csv_text([result.as_dict()])}
    if args.out:
        kind = "csv" if args.csv or (not args.json and args.out.endswith(".csv")) else "json"
        try:
            write_text_atomic(args.out, text[kind])
        except OSError as exc:
            raise InputError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    if args.json or args.csv:
        print(text["json" if args.json else "csv"], end="")
    else:
        print_result(result)
    return 0


@contextlib.contextmanager
def progress_bar(label: str, total: int):
    """Yields ``show(done)``: a rich progress bar on stderr when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=min(done, total))


def print_result(result) -> None:
    from rich.table import Table

    table = Table(title=f"simulation: {result.preset}, {result.policy} + {result.scheduler}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        (
            "M, B (Hz), lambda",
            f"{result.capacity}, {result.bandwidth_hz:g}, {result.arrival_rate:g}",
        ),
        ("queued upload", result.upload),
        ("tasks measured", str(result.tasks)),
        ("accuracy (SURROGATE)", f"{100 * result.accuracy_surrogate:.2f} %"),
        ("processing delay (ms/task)", f"{result.processing_ms:.3f}"),
        ("communication delay (ms/task)", f"{result.communication_ms:.3f}"),
        ("queuing delay (ms/task)", f"{result.queuing_ms:.3f}"),
        ("objective U - beta Delta (eq. 6)", f"{result.objective:.5f}"),
        ("  beta x processing, communication, queuing", penalties(result)),
        ("steps nominated / offloaded / queued", fractions(result)),
        ("server utilisation", f"{100 * result.utilisation:.1f} %"),
        ("slots simulated, slots/s", f"{result.slots_simulated}, {result.slots_per_s:,.0f}"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(SURROGATE_NOTE)


def penalties(result) -> str:
    parts = (result.penalty_processing, result.penalty_communication, result.penalty_queuing)
    return ", ".join(f"{p:.5f}" for p in parts)


def fractions(result) -> str:
    shares = (result.nominated_fraction, result.offload_fraction, result.queued_fraction)
    return " / ".join(f"{100 * s:.1f} %" for s in shares)
