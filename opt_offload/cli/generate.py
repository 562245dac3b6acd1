"""``opt-offload generate KIND ...``: write a generated instance (stdout unless --out)."""

from __future__ import annotations

import argparse

from ..generators import generators
from ..io import check_output, to_json, write_output
from .common import EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate an instance from the cost models",
        description="Generate an instance of a problem kind from the cost models and presets. "
        "The same arguments and seed give the same bytes.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for spec in generators().values():
        sub = kinds.add_parser(spec.kind, help=spec.description, description=spec.description)
        spec.add_arguments(sub)
        sub.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        sub.add_argument(
            "--out", metavar="PATH", help="write the instance here instead of stdout (-)"
        )
        sub.set_defaults(run=run, build=spec.build)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output(args.out)
    text = to_json(args.build(args))
    if args.out:
        write_output(args.out, text)
    else:
        print(text, end="")
    return EXIT_OK
