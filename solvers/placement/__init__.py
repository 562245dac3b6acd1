"""Solvers of problem C, tensor placement (design §6)."""

from . import baselines, chain_dp, exact, kl  # noqa: F401
