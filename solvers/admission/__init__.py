"""Solvers of problem A, per-slot admission (DESIGN §4)."""

from . import baselines  # noqa: F401
