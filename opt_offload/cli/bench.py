"""``opt-offload bench KIND``: the performance benchmarks of each problem."""

from __future__ import annotations

import argparse

from ..benchmarks import benchmark_modules


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark",
        description="Run a benchmark; times are reported as ratios against a baseline measured "
        "in the same run.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for module in benchmark_modules():
        sub = kinds.add_parser(module.KIND, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
