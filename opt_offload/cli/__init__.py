"""The ``opt-offload`` command (design §9).

Each sub-command lives in its own module of this package exposing ``add_parser(subparsers)``;
the parser it adds sets ``run(args) -> exit code``. Modules are found by listing the package,
so adding a sub-command is adding a file; they import heavy libraries lazily, since every
command builds the whole parser. Exit codes: 0 done, 1 solved but infeasible or no solution
found, 2 bad input or usage, 3 an unexpected internal error. Bad input prints one line per
problem and no traceback; an internal error prints one line (``--debug``: the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterator, Sequence
from types import ModuleType

from .. import __version__
from ..discovery import submodules
from ..errors import InputError
from ..terminal import plain
from .common import EXIT_BAD_INPUT, EXIT_INTERNAL, finite_float, internal_error_line, number

# Every integer flag counts or seeds something: non-negative, and within numpy's int64.
COUNT = number(0, 2**63 - 1, integer=True)


class UsageError(Exception):
    """A command line argparse refuses; :func:`main` prints it and returns 2."""


class Parser(argparse.ArgumentParser):
    """argparse with a usage error on one line (``opt-offload solve: argument --B: ...``),
    returned by :func:`main` as exit code 2 rather than raised as ``SystemExit``, so that
    ``main(argv)`` gives the exit code of every bad command line (``--help`` and
    ``--version`` still exit as argparse's do)."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {plain(message)} (see --help)")


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
    parser = Parser(
        prog="opt-offload",
        description="Optimisation of LLM inference offloading: admission, assignment and "
        "tensor-placement problems, exact solvers and the papers' heuristics.",
    )
    parser.add_argument("--version", action="version", version=f"opt-offload {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    single = named_command_module(argv[1:] if argv and argv[0] == "--debug" else argv or [])
    if single is not None:
        single.add_parser(subparsers)
        if single.__name__.rpartition(".")[2] not in subparsers.choices:
            return build_parser()  # the file's name is not its command's: build them all
    else:
        for module in command_modules():
            module.add_parser(subparsers)
    for sub in leaf_parsers(parser):
        harden_flags(sub)
    return parser


def leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser below ``parser`` (sub-commands and their sub-commands)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield sub
                yield from leaf_parsers(sub)


def harden_flags(parser: argparse.ArgumentParser) -> None:
    """Every float flag refuses nan and inf, every integer flag negatives (flags with a range
    of their own keep it); ``--debug`` is accepted after the command too."""
    for action in parser._actions:
        if action.type is float:
            action.type = finite_float
        elif action.type is int:
            action.type = COUNT
    if "--debug" not in parser._option_string_actions:
        parser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv).parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except InputError as exc:
        for line in exc.lines():
            print(f"opt-offload: {plain(line)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the top-level guard: one line, a code scripts cannot misread
        if args.debug:
            traceback.print_exc()
        print(f"opt-offload: {internal_error_line(exc)}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
