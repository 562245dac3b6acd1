"""Pieces every sub-command shares: exit codes, the console, option parsing."""

from __future__ import annotations

import argparse

from ..console import console  # noqa: F401  (the commands print here)
from ..errors import InputError
from ..schemas import Solution

EXIT_OK, EXIT_NO_SOLUTION, EXIT_BAD_INPUT = 0, 1, 2


def exit_code(solution: Solution) -> int:
    """0 when there are feasible decisions, 1 when infeasible or nothing was found (a time
    limit without an incumbent included)."""
    found = solution.has_decisions and solution.objective is not None
    return EXIT_OK if found else EXIT_NO_SOLUTION


def parse_key_values(pairs: list[str] | None, flag: str = "--option") -> dict[str, str]:
    """``["k=4", "rule=edf"]`` -> ``{"k": "4", "rule": "edf"}``."""
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"{flag} {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def add_solver_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time-limit", type=float, metavar="S", help="seconds per solve")
    parser.add_argument(
        "-o",
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="a solver option (repeatable); `opt-offload solvers` lists them",
    )
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="the exact solver's backend, as -o backend=NAME; `opt-offload solvers --backends` "
        "lists them",
    )


def solver_options(args: argparse.Namespace) -> dict[str, str]:
    """``-o KEY=VALUE`` pairs with ``--backend NAME`` folded in as ``backend``."""
    options = parse_key_values(args.option)
    if getattr(args, "backend", None) is not None:
        if options.get("backend", args.backend) != args.backend:
            raise InputError(
                f"--backend {args.backend}: differs from -o backend={options['backend']}; give one"
            )
        options["backend"] = args.backend
    return options
