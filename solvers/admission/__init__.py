"""Solvers of problem A, per-slot admission (DESIGN §4)."""

from . import baselines, branch_and_bound, cvxpy_scip, pyomo_oa, threshold  # noqa: F401
