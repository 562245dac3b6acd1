"""``opt-offload validate FILE...``: check instance files against the schemas of design §9."""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError
from ..io import load_instance
from ..report import instance_summary
from ..terminal import plain
from .common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, console, internal_error_line


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check instance files",
        description="Validate instance files; print one line per problem (naming the file and "
        "the field) and exit 2 if any file is bad.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Every file is reported, whatever happens to the others: valid ones on stdout, each
    problem of the others on stderr, an unexpected failure as one line (exit 3)."""
    code = EXIT_OK
    for path in args.files:
        try:
            instance = load_instance(path)
        except InputError as exc:
            for line in exc.lines():
                print(f"opt-offload: {plain(line)}", file=sys.stderr)
            code = max(code, EXIT_BAD_INPUT)
            continue
        except Exception as exc:
            print(f"opt-offload: {plain(path)}: {internal_error_line(exc)}", file=sys.stderr)
            code = EXIT_INTERNAL
            continue
        console.print(f"{path}: valid {instance_summary(instance)}")
    return code
