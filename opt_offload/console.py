"""The one console every command and benchmark prints to (stdout): user strings as text,
never markup, without control characters (:mod:`opt_offload.terminal`)."""

from __future__ import annotations

from .terminal import PlainConsole

console = PlainConsole(soft_wrap=True)
