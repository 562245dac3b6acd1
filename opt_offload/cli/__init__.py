"""The ``opt-offload`` command (DESIGN §9).

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser it
adds sets ``run(args) -> exit code``. Exit codes: 0 done, 1 solved but infeasible or no
solution found, 2 bad input or usage. Bad input prints one line per problem and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import InputError
from . import schema, solve, solvers, validate
from .common import EXIT_BAD_INPUT

COMMANDS = (solve, validate, schema, solvers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opt-offload",
        description="Optimisation of LLM inference offloading: admission, assignment and "
        "tensor-placement problems, exact solvers and the papers' heuristics.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        for line in exc.lines():
            print(f"opt-offload: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
