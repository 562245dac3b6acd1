"""``opt-offload solve FILE``: solve one instance file and report the judged solution."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..io import load_instance, to_json, write_text_atomic
from ..plots import plot_solution
from ..report import print_solution
from ..solve import solve
from .common import add_solver_arguments, console, exit_code, parse_key_values


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "solve",
        help="solve an instance file",
        description="Solve an instance file (the problem comes from its `kind`) and print the "
        "decisions and objective. Exit 0 with a feasible solution, 1 when infeasible or none "
        "was found, 2 on bad input.",
    )
    parser.add_argument("file", help="instance file (JSON or YAML)")
    parser.add_argument("--solver", help="solver name (default: the kind's exact solver)")
    add_solver_arguments(parser)
    parser.add_argument("--out", metavar="PATH", help="write the solution JSON here (atomically)")
    parser.add_argument("--json", action="store_true", help="print the solution JSON instead")
    parser.add_argument("--plot", metavar="FILE.png", help="draw the solution into this file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.time_limit is not None and args.time_limit <= 0:
        raise InputError(f"--time-limit: must be positive, got {args.time_limit}")
    instance = load_instance(args.file)
    solution = solve(
        instance, args.solver, time_limit=args.time_limit, **parse_key_values(args.option)
    )
    text = to_json(solution)
    if args.out:
        try:
            write_text_atomic(args.out, text)
        except OSError as exc:
            raise InputError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    if args.plot:
        plot_solution(instance, solution, args.plot)
    if args.json:
        print(text, end="")
    else:
        print_solution(console, instance, solution)
        if args.out:
            console.print(f"solution written to {Path(args.out)}")
    return exit_code(solution)
