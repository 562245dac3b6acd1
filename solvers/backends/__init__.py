"""Backends: one class per modelling layer x solver, in a registry by name (design §2).

``get_backend(name).solve(formulation, limits, warm_start=None)`` solves a formulation of
:mod:`opt_offload.models`; see :mod:`.base` for the contract and how a backend registers.
"""

from . import (  # noqa: F401  (registration side effect)
    cpsat,
    cvxpy_highs,
    cvxpy_scip,
    pyomo_highs,
    pyomo_solvers,
    scip,
)
from .base import (
    Backend,
    BackendResult,
    Limits,
    backend_classes,
    backend_option,
    backend_refusal,
    backends_for,
    get_backend,
    register_backend,
    solve_with,
)

__all__ = [
    "Backend",
    "BackendResult",
    "Limits",
    "backend_classes",
    "backend_option",
    "backend_refusal",
    "backends_for",
    "get_backend",
    "register_backend",
    "solve_with",
]
