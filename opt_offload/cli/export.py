"""``opt-offload export FILE --format lp|mps``: write the instance's exact MILP for another
solver, variables named in instance ids (see :mod:`opt_offload.exchange`)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..errors import InputError
from ..exchange import FORMATS, export_model, write_model
from ..io import load_instance
from .common import EXIT_OK, console


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write an instance's MILP as an LP or MPS file",
        description="Write the instance's exact formulation (assignment and placement: the "
        "MILP; admission: the outer-approximation MILP at its initial cut set) as an LP or MPS "
        "file, variables named in instance ids, e.g. x(TASK,SERVER). Read a solver's solution "
        "back with `opt-offload solve FILE --from-solution SOL`.",
    )
    parser.add_argument("file", help="instance file (JSON or YAML)")
    parser.add_argument("--format", choices=FORMATS, required=True, help="lp or mps")
    parser.add_argument("--out", metavar="PATH", help="write here (default: standard output)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    instance = load_instance(args.file)
    exported = export_model(instance)
    # HiGHS writes to a named file by its extension; write beside the target, then rename, so
    # that a failed export leaves nothing behind
    folder = Path(args.out).resolve().parent if args.out else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"--out {args.out}: no such folder {folder}")
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        path = Path(scratch) / f"model.{args.format}"
        write_model(exported.form, path, args.format)
        if args.out is None:
            sys.stdout.write(path.read_text())
            return EXIT_OK
        os.replace(path, args.out)
    rows, columns = exported.form.shape
    console.print(
        f"{exported.description}: {columns} variables, {rows} rows, written to {args.out}",
        soft_wrap=True,  # one line, whatever the terminal's width
    )
    return EXIT_OK
