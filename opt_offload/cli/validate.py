"""``opt-offload validate FILE...``: check instance files against the schemas of design §9."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..io import load_instance
from ..report import instance_summary
from .common import EXIT_OK, console


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
    problems: list[str] = []
    for path in args.files:
        try:
            instance = load_instance(path)
        except InputError as exc:
            problems += exc.lines()
            continue
        console.print(f"{path}: valid {instance_summary(instance)}")
    if problems:
        raise InputError(problems)
    return EXIT_OK
