"""Exact placement solvers: the MILP of :mod:`opt_offload.models.placement` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``, a cross-check on small graphs), or by the
backend ``-o backend=NAME`` names (``opt-offload solvers --backends``)."""

from __future__ import annotations

import time

from opt_offload.models.formulation import ProblemClass
from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import PlacementInstance

from ..backends import Limits, backend_option, solve_with
from ..backends.base import WORKERS_OPTION

# the placement MILP has continuous cut variables z, but an optimal z is integral at integer x
# (models/placement.py), so the integer-only CP-SAT takes it too
PYOMO_BACKEND = backend_option("pyomo", ProblemClass.MILP, "pyomo-highs", continuous=False)
CVXPY_BACKEND = backend_option("cvxpy", ProblemClass.MILP, "cvxpy-highs", continuous=False)

CUT = Option(
    "cut",
    str,
    "marginal",
    "linearisation of the graph objective: marginal (tight) or pairwise (z >= x + x - 1)",
    choices=("marginal", "pairwise"),
)
CUTS = Option(
    "cuts",
    str,
    "connectivity",
    "valid inequalities of the graph objective: connectivity (memory forces the core of heavy "
    "edges onto K devices, so K - 1 edges of its spanning tree are cut; models/placement.py) "
    "or none",
    choices=("connectivity", "none"),
)


@register(
    "placement",
    "exact",
    exact=True,
    description="MILP of eq. (2) / the design §6 cut cost with (2a), (2b), pins and the "
    "compute bound, in Pyomo, solved by HiGHS (-o backend=NAME: any Pyomo MILP backend); "
    "reports the proven lower bound",
    options=(CUT, CUTS, MIP_GAP_OPTION, PYOMO_BACKEND, WORKERS_OPTION),
    requires=("pyomo",),
)
def exact(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    cut: str = "marginal",
    cuts: str = "connectivity",
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = PYOMO_BACKEND.default,
    workers: int = 0,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import pyomo_formulation

    formulation = pyomo_formulation(instance, cut, cuts)
    # the limit covers building the model (and importing Pyomo) too
    limits = Limits(time_limit, mip_gap, workers=workers or None)
    return solve_with(backend, formulation, limits.after(start))


@register(
    "placement",
    "exact-cvxpy",
    exact=True,
    description="the same MILP (marginal cut form) in CVXPY, solved by HiGHS (-o "
    "backend=cvxpy-scip: SCIP); a cross-check for small graphs",
    options=(MIP_GAP_OPTION, CVXPY_BACKEND),
    requires=("cvxpy",),
)
def exact_cvxpy(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = CVXPY_BACKEND.default,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import cvxpy_formulation

    formulation = cvxpy_formulation(instance)
    return solve_with(backend, formulation, Limits(time_limit, mip_gap).after(start))
