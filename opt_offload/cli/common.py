"""Pieces every sub-command shares: exit codes, the console, option parsing."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from ..console import console  # noqa: F401  (the commands print here)
from ..errors import InputError
from ..schemas import Solution
from ..terminal import plain

EXIT_OK, EXIT_NO_SOLUTION, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

MAX_MESSAGE = 300  # characters of an internal error's message on its one line


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
        if not sep or not key.strip():
            raise InputError(f"{flag} {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def finite_float(text: str) -> float:
    """argparse type of every float flag (the parser swaps it in for ``float``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def number(
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    above: bool = False,
) -> Callable[[str], float]:
    """An argparse type: a finite number (an integer if ``integer``) in [low, high]
    (``above``: strictly greater than low). Limits on sizes keep allocations bounded."""

    def parse(text: str) -> float:
        if integer:
            try:
                value = int(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        else:
            value = finite_float(text)
        check_range(value, low, high, above=above)
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


def number_list(
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    most: int = 1000,
) -> Callable[[str], list]:
    """An argparse type: ``a,b,c``, each item as :func:`number`, between 1 and ``most`` items."""
    item = number(low, high, integer=integer)

    def parse(text: str) -> list:
        parts = [part for part in text.split(",") if part.strip()]
        if not 0 < len(parts) <= most:
            raise argparse.ArgumentTypeError(
                f"expected 1 to {most} comma-separated values, got {text!r}"
            )
        return [item(part.strip()) for part in parts]

    parse.__name__ = "list"
    return parse


def check_range(value: float, low: float | None, high: float | None, *, above: bool = False):
    """Raise ArgumentTypeError naming the range when ``value`` lies outside it."""
    too_low = low is not None and (value <= low if above else value < low)
    if too_low or (high is not None and value > high):
        lower = "" if low is None else f"{'>' if above else '>='} {_show(low)}"
        upper = "" if high is None else f"<= {_show(high)}"
        raise argparse.ArgumentTypeError(
            f"must be {' and '.join(p for p in (lower, upper) if p)}, got {_show(value)}"
        )


def _show(value: float) -> str:
    return str(value) if isinstance(value, int) and abs(value) < 10**12 else f"{value:g}"


def add_solver_arguments(parser: argparse.ArgumentParser, *, per_solver: bool = False) -> None:
    """``--time-limit`` and ``-o/--option`` (``per_solver``: ``SOLVER.KEY=VALUE``)."""
    parser.add_argument(
        "--time-limit", type=number(0, 1e7, above=True), metavar="S", help="seconds per solve"
    )
    parser.add_argument(
        "-o",
        "--option",
        action="append",
        metavar="SOLVER.KEY=VALUE" if per_solver else "KEY=VALUE",
        help="an option for one solver (repeatable)"
        if per_solver
        else "a solver option (repeatable); `opt-offload solvers` lists them",
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


def internal_error_line(exc: BaseException) -> str:
    message = " ".join(plain(str(exc)).split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "..."
    kind = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
    return f"internal error: {kind}: {message} (please report it; --debug shows the traceback)"
