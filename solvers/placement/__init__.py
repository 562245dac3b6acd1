"""Solvers of problem C, tensor placement (DESIGN §6)."""

from . import baselines  # noqa: F401
