"""The one rich console every command and benchmark prints to (stdout, no highlighting)."""

from __future__ import annotations

from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
