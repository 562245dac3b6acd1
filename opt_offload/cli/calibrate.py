"""``opt-offload calibrate``: time a small transformer on this machine and fit the delay models
(PRADA's D_psi, Sec. 4.2.5 / 5.1.1; design §7)."""

from __future__ import annotations

import argparse

import numpy as np
from rich.table import Table

from ..errors import InputError
from ..io import check_output, write_output
from .common import console, number
from .flops import add_model_arguments, model_config, positive

# Calibration builds the model with random weights in float32 and runs it here: these bound
# its memory (4 GB of weights, a KV cache of MAX_CONTEXT tokens) and its duration.
MAX_PARAMETERS = 1_000_000_000
MAX_CONTEXT = 32_768
MAX_NEW = 4_096


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="time a transformer here, fit the delay predictor D_psi, report held-out errors",
        description="Record the wall time of decode steps (m_new tokens after a context of m) "
        "of a transformer with random weights on this machine's CPU, over a grid of context "
        "lengths; fit PRADA's delay predictor D_psi and the analytical models on a training "
        "split; report each model's mean absolute percentage error on the held-out traces.",
    )
    add_model_arguments(parser, default="llama-68m")
    context = number(1, MAX_CONTEXT, integer=True)
    parser.add_argument("--min-context", type=context, default=16, metavar="M")
    parser.add_argument("--max-context", type=context, default=2048, metavar="M")
    parser.add_argument(
        "--points",
        type=number(1, 1000, integer=True),
        default=16,
        help="context lengths (geometric grid)",
    )
    parser.add_argument("--new", default="1,8,32", help="new tokens per step, comma-separated")
    parser.add_argument(
        "--repeats", type=number(1, 1000, integer=True), default=5, help="timings per point"
    )
    parser.add_argument(
        "--held-out",
        type=number(0, 1, above=True),
        default=0.25,
        help="fraction of traces held out",
    )
    parser.add_argument(
        "--epochs", type=number(1, 1_000_000, integer=True), default=3000, help="training epochs"
    )
    parser.add_argument(
        "--threads",
        type=number(1, 1024, integer=True),
        default=1,
        help="torch CPU threads (1: steadier on a shared machine)",
    )
    parser.add_argument("--seed", type=number(0, integer=True), default=0)
    parser.add_argument("--out", metavar="PATH", help="save the trained D_psi here (torch file)")
    parser.add_argument("--traces", metavar="PATH", help="write the traces here (CSV)")
    parser.set_defaults(run=run)


def context_grid(low: int, high: int, points: int) -> list[int]:
    positive("--min-context", low)
    positive("--points", points)
    if high < low:
        raise InputError(f"--max-context: {high} is below --min-context {low}")
    return sorted({round(x) for x in np.geomspace(low, high, points)})


def new_token_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"--new: expected comma-separated integers, got {text!r}") from None
    if any(count > MAX_NEW for count in counts):
        raise InputError(f"--new: at most {MAX_NEW} new tokens per step, got {text!r}")
    return [positive("--new", count) for count in counts]


def check_model_size(config) -> None:
    from ..costs.memory import parameter_count

    count = parameter_count(config)
    if count > MAX_PARAMETERS:
        raise InputError(
            f"--model/--config: {config.name} has {count:.3g} parameters, above the "
            f"calibration limit of {MAX_PARAMETERS:.0e} (its float32 weights are built here)"
        )


def run(args: argparse.Namespace) -> int:
    import torch

    from ..costs.calibration import calibrate, measure_roofline, record_step_traces

    for flag, path in (("--out", args.out), ("--traces", args.traces)):
        if path:
            check_output(path, flag=flag, inputs=[args.config] if args.config else [])
    config = model_config(args)
    check_model_size(config)
    contexts = context_grid(args.min_context, args.max_context, args.points)
    new_tokens = new_token_counts(args.new)
    if not 0.0 < args.held_out < 1.0 or len(contexts) * len(new_tokens) < 4:
        raise InputError("--held-out: must lie in (0, 1), with at least 4 traces in the grid")
    torch.set_num_threads(args.threads)
    roofline = measure_roofline()
    traces = record_step_traces(config, contexts, new_tokens, repeats=args.repeats, seed=args.seed)
    report = calibrate(
        config, traces, roofline, held_out=args.held_out, epochs=args.epochs, seed=args.seed
    )
    if args.traces:
        rows = [f"{t.context_tokens},{t.new_tokens},{t.seconds:.9f}" for t in traces]
        text = "\n".join(["context_tokens,new_tokens,seconds", *rows]) + "\n"
        write_output(args.traces, text, flag="--traces")
    if args.out:
        report.predictor.save(args.out)
    console.print(
        f"{config.name} on this CPU (torch threads: {args.threads}): {len(traces)} traces, "
        f"contexts {contexts[0]}..{contexts[-1]}, new tokens {args.new}\n"
        f"measured: peak {roofline.peak_flops:.3g} FLOP/s, bandwidth "
        f"{roofline.memory_bandwidth:.3g} B/s; fitted: paper {report.paper_flops_per_s:.3g} "
        f"FLOP/s, architecture {report.architecture_flops_per_s:.3g} FLOP/s"
    )
    table = Table(
        title=f"held-out error ({report.held_out_traces} traces; "
        f"{report.training_traces} for fitting)"
    )
    table.add_column("delay model")
    table.add_column("MAPE %", justify="right")
    for name, error in report.held_out_mape.items():
        table.add_row(name, f"{error:.1f}")
    console.print(table)
    return 0
