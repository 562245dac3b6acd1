"""Solvers of problem A, per-slot admission (design §4)."""

from . import (  # noqa: F401  (registration side effect)
    baselines,
    branch_and_bound,
    cvxpy_scip,
    enumeration,
    joint,
    pyomo_oa,
    threshold,
)
