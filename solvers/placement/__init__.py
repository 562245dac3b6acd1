"""Solvers of problem C, tensor placement (DESIGN §6)."""

from . import baselines, chain_dp, exact, kl  # noqa: F401
