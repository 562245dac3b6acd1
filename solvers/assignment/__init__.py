"""Solvers of problem B, edge/cloud assignment (design §5)."""

from . import baselines, exact, kpfcfs, lagrangian  # noqa: F401
