"""The ``opt-offload`` command (design §9).

Each sub-command lives in its own module of this package exposing ``add_parser(subparsers)``;
the parser it adds sets ``run(args) -> exit code``. Modules are found by listing the package,
so adding a sub-command is adding a file; they import heavy libraries lazily, since every
command builds the whole parser. Exit codes: 0 done, 1 solved but infeasible or no solution
found, 2 bad input or usage. Bad input prints one line per problem and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from ..discovery import submodules
from ..errors import InputError
from .common import EXIT_BAD_INPUT


def command_modules() -> list[ModuleType]:
    """Every module of this package that defines a sub-command, in name order."""
    return submodules(__name__, __path__, defining="add_parser")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opt-offload",
        description="Optimisation of LLM inference offloading: admission, assignment and "
        "tensor-placement problems, exact solvers and the papers' heuristics.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
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
