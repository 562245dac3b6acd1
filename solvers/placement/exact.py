"""Exact placement solvers: the MILP of :mod:`opt_offload.models.placement` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``, a cross-check on small graphs)."""

from __future__ import annotations

import time

from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import PlacementInstance

from ..backends import Limits, solve_with

CUT = Option(
    "cut",
    str,
    "marginal",
    "linearisation of the graph objective: marginal (tight) or pairwise (z >= x + x - 1)",
    choices=("marginal", "pairwise"),
)


@register(
    "placement",
    "exact",
    exact=True,
    description="MILP of eq. (2) / the design §6 cut cost with (2a), (2b), pins and the "
    "compute bound, in Pyomo, solved by HiGHS; reports the proven lower bound",
    options=(CUT, MIP_GAP_OPTION),
    requires=("pyomo", "highspy"),
)
def exact(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    cut: str = "marginal",
    mip_gap: float = MIP_GAP_OPTION.default,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import pyomo_formulation

    formulation = pyomo_formulation(instance, cut)
    # the limit covers building the model (and importing Pyomo) too
    return solve_with("pyomo-highs", formulation, Limits(time_limit, mip_gap).after(start))


@register(
    "placement",
    "exact-cvxpy",
    exact=True,
    description="the same MILP (marginal cut form) in CVXPY, solved by HiGHS; a cross-check "
    "for small graphs",
    options=(MIP_GAP_OPTION,),
    requires=("cvxpy", "highspy"),
)
def exact_cvxpy(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP_OPTION.default,
) -> SolverResult:
    start = time.perf_counter()
    from opt_offload.models.placement import cvxpy_formulation

    formulation = cvxpy_formulation(instance)
    return solve_with("cvxpy-highs", formulation, Limits(time_limit, mip_gap).after(start))
