"""``opt-offload import FORMAT FILE ...``: convert a public benchmark file into an instance."""

from __future__ import annotations

import argparse

from ..io import check_output, to_json, write_output
from .common import EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import an instance from a public benchmark format",
        description="Convert one problem of a public benchmark file into an instance, written "
        "as JSON to stdout unless --out is given.",
    )
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")
    gap = formats.add_parser(
        "orlib-gap",
        help="OR-Library generalised assignment file -> strict assignment instance",
        description="One problem of an OR-Library GAP file (gap1-gap12, gapa-gapd) as a strict "
        "assignment instance: agents become edge servers, jobs tasks, costs transmission "
        "latencies, a_ij per-server workloads, b_i compute budgets. gap1-gap12 are maximisation "
        "problems and are converted by the shift Cmax - c_ij (profit = n Cmax - T).",
    )
    gap.add_argument("file", help="the GAP file (e.g. data/orlib-gap/gap1.txt)")
    # the importer refuses an index outside the file's problems, naming how many it holds
    gap.add_argument("--index", type=int, required=True, metavar="K", help="problem K, from 1")
    gap.add_argument(
        "--sense",
        choices=("max", "min"),
        help="objective sense of the costs (default: max for gap1-gap12, min otherwise)",
    )
    gap.add_argument("--out", metavar="PATH", help="write the instance here instead of stdout")
    gap.set_defaults(run=run_orlib_gap)
    add_trace_parser(formats)


def add_trace_parser(formats: argparse._SubParsersAction) -> None:
    from .trace_options import TRACE_NAMES, add_window_arguments

    trace = formats.add_parser(
        "azure-llm-trace",
        help="a window of an Azure LLM inference trace -> assignment instance",
        description="The requests of a window of an Azure LLM inference trace (arrival time, "
        "prompt and generated tokens) as an admission-variant assignment instance: workloads "
        "from the FLOPs model (prefill of the prompt + decode of the generated tokens), "
        "transmission from the link model (32 bits a token over 50 Mbit/s + round trip), "
        "budgets Omega_j = FLOP/s x the window, one QoS bound L_max (4 s unless --latency-max). "
        "Data: Patel et al., Splitwise, ISCA 2024 (CC BY 4.0).",
    )
    trace.add_argument("file", help=TRACE_NAMES)
    add_window_arguments(trace)
    trace.add_argument(
        "--model",
        default="llama2-7b",
        help="the model serving every request: llama2-7b, llama2-13b, qwen2.5-math-7b "
        "(llama2-7b, int8)",
    )
    trace.add_argument(
        "--preset",
        default="testbed",
        help="servers: testbed (4 edges + cloud) or scale (20 + cloud)",
    )
    trace.add_argument("--latency-max", type=float, metavar="S", help="L_max in seconds (4)")
    trace.add_argument("--seed", type=int, default=0, help="seed of the users' home edges (0)")
    trace.add_argument("--out", metavar="PATH", help="write the instance here instead of stdout")
    trace.set_defaults(run=run_azure_llm_trace)


def run_azure_llm_trace(args: argparse.Namespace) -> int:
    from ..generators.trace_assignment import trace_assignment
    from ..importers.azure_llm_trace import read_trace

    if args.out:
        check_output(args.out, inputs=[args.file])
    trace = read_trace(
        args.file,
        start_s=args.start,
        window_s=args.window,
        limit=args.limit,
        speedup=args.speedup,
    )
    instance = trace_assignment(
        trace,
        preset=args.preset,
        model=args.model,
        latency_max_s=args.latency_max,
        seed=args.seed,
    )
    emit(to_json(instance), args.out, args.file)
    return EXIT_OK


def emit(text: str, out: str | None, source: str) -> None:
    """The instance to ``--out`` (never onto its ``source``) or to stdout."""
    if out:
        write_output(out, text, inputs=[source])
    else:
        print(text, end="")


def run_orlib_gap(args: argparse.Namespace) -> int:
    from ..importers.orlib_gap import read_gap_problem

    if args.out:
        check_output(args.out, inputs=[args.file])
    emit(
        to_json(read_gap_problem(args.file, args.index, args.sense).to_instance()),
        args.out,
        args.file,
    )
    return EXIT_OK
