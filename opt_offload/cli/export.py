"""``opt-offload export FILE --format lp|mps``: write the instance's exact MILP for another
solver, variables named in instance ids (see :mod:`opt_offload.exchange`)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..exchange import FORMATS, export_model, write_model
from ..io import STDOUT, check_output, load_instance, write_output
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
    parser.add_argument("--out", metavar="PATH", help="write here (default or -: standard output)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output(args.out, inputs=[args.file])
    instance = load_instance(args.file)
    exported = export_model(instance)
    # HiGHS writes only to a named file, by its extension: into a scratch folder, then through
    # write_output like every other file the package writes
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"model.{args.format}"
        write_model(exported.form, path, args.format)
        text = path.read_bytes()
    if args.out is None:
        write_output(STDOUT, text)
        return EXIT_OK
    write_output(args.out, text, inputs=[args.file])
    if args.out == STDOUT:
        return EXIT_OK
    rows, columns = exported.form.shape
    console.print(
        f"{exported.description}: {columns} variables, {rows} rows, written to {args.out}",
        soft_wrap=True,  # one line, whatever the terminal's width
    )
    return EXIT_OK
