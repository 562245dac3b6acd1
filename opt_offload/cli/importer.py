"""``opt-offload import FORMAT FILE ...``: convert a public benchmark file into an instance."""

from __future__ import annotations

import argparse

from ..io import check_output, to_json, write_output
from .common import EXIT_OK, number


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
    gap.add_argument(
        "--index",
        type=number(1, integer=True),
        required=True,
        metavar="K",
        help="problem K, from 1",
    )
    gap.add_argument(
        "--sense",
        choices=("max", "min"),
        help="objective sense of the costs (default: max for gap1-gap12, min otherwise)",
    )
    gap.add_argument("--out", metavar="PATH", help="write the instance here instead of stdout")
    gap.set_defaults(run=run_orlib_gap)


def run_orlib_gap(args: argparse.Namespace) -> int:
    from ..importers.orlib_gap import read_gap_problem

    if args.out:
        check_output(args.out, inputs=[args.file])
    text = to_json(read_gap_problem(args.file, args.index, args.sense).to_instance())
    if args.out:
        write_output(args.out, text, inputs=[args.file])
    else:
        print(text, end="")
    return EXIT_OK
