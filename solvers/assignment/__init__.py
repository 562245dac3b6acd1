"""Solvers of problem B, edge/cloud assignment (design §5)."""

from . import baselines, exact, kpfcfs  # noqa: F401
