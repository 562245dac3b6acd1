"""The ``opt-offload`` command (design §9).

Each sub-command lives in its own module of this package exposing ``add_parser(subparsers)``;
the parser it adds sets ``run(args) -> exit code``. Modules are found by listing the package,
so adding a sub-command is adding a file; they import heavy libraries lazily, since every
command builds the whole parser. Exit codes: 0 done, 1 solved but infeasible or no solution
found, 2 bad input or usage. Bad input prints one line per problem and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

from .. import __version__
from ..discovery import submodules
from ..errors import InputError
from .common import EXIT_BAD_INPUT


def command_modules() -> list[ModuleType]:
    """Every module of this package that defines a sub-command, in name order."""
    return submodules(__name__, __path__, defining="add_parser")


def named_command_module(argv: Sequence[str]) -> ModuleType | None:
    """The module of the command ``argv`` starts with, when its file bears the command's name
    (``validate`` -> ``cli/validate.py``); None otherwise."""
    if not argv or argv[0].startswith("-") or not argv[0].isidentifier():
        return None
    name = f"{__name__}.{argv[0]}"
    if importlib.util.find_spec(name) is None:
        return None
    module = importlib.import_module(name)
    return module if hasattr(module, "add_parser") else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the command line, only that command's parser when
    its module can be found by name, so that a command imports what it needs and no more
    (start-up, measured by ``bench scale``). Anything else (top-level --help, a misspelt
    command) gets the full parser and its messages."""
    parser = argparse.ArgumentParser(
        prog="opt-offload",
        description="Optimisation of LLM inference offloading: admission, assignment and "
        "tensor-placement problems, exact solvers and the papers' heuristics.",
    )
    parser.add_argument("--version", action="version", version=f"opt-offload {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    single = named_command_module(argv) if argv is not None else None
    if single is not None:
        single.add_parser(subparsers)
        if argv[0] in subparsers.choices:
            return parser
        parser = build_parser()  # the file's name is not its command's: build them all
        return parser
    for module in command_modules():
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
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
