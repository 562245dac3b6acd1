"""Errors the package raises for bad input, each carrying one line per problem (design §9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class InputError(Exception):
    """Bad input: a file that cannot be read, parsed or validated, or a bad option.

    ``problems`` holds one human-readable line per problem, each naming the field by its JSON
    path (``candidates[3].snr_db: ...``). The CLI prints them and exits with code 2.
    """

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [prefix + p for p in self.problems]


class SolverUnavailable(InputError):
    """The solver exists but cannot run here (missing backend) or cannot take this instance."""


def lookup(table: Mapping[str, T], name: str, what: str) -> T:
    """``table[name]``, or an InputError naming the known keys: ``unknown {what} 'x' (known: ...)``.

    ``what`` may start with the option it came from, e.g. ``"--devices: device preset"``.
    """
    try:
        return table[name]
    except KeyError:
        option, sep, noun = what.rpartition(": ")
        prefix = f"{option}: " if sep else ""
        raise InputError(f"{prefix}unknown {noun} {name!r} (known: {', '.join(table)})") from None
