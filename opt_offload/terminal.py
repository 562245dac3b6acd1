"""What reaches a terminal: user strings as text, never as markup, without control characters.

Names, ids and paths come from files and flags. Rich would read ``x[/bold]y`` as markup (and
fail on it) and a terminal would obey ``\\x1b]0;...\\x07``; every string the command line
prints passes through :func:`plain`, and :class:`PlainConsole` applies it to every string it
renders, table cells and titles included.
"""

from __future__ import annotations

import re

from rich.console import Console

# C0 and C1 controls except tab and newline, DEL, and the bidirectional overrides that can
# make a line read differently from its bytes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """``text`` with control characters shown as ``?`` and lone surrogates replaced."""
    text = _CONTROL.sub("?", text)
    return text.encode("utf-8", "replace").decode("utf-8")


class PlainConsole(Console):
    """A rich console that never interprets markup and strips control characters."""

    def __init__(self, **options):
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options):
        return super().render_str(plain(text), **options)
