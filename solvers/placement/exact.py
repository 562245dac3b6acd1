"""Exact placement solvers: the MILP of :mod:`opt_offload.models.placement` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``, a cross-check on small graphs)."""

from __future__ import annotations

from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import PlacementInstance, Status

from ..highs import (
    cvxpy_highs_options,
    cvxpy_status_table,
    silence_highs_banner,
    solve_pyomo_with_highs,
)

CUT = Option(
    "cut",
    str,
    "marginal",
    "linearisation of the graph objective: marginal (tight) or pairwise (z >= x + x - 1)",
    choices=("marginal", "pairwise"),
)
MIP_GAP = Option("mip_gap", float, 1e-6, "relative gap at which HiGHS stops and calls optimal")


@register(
    "placement",
    "exact",
    exact=True,
    description="MILP of eq. (2) / the design §6 cut cost with (2a), (2b), pins and the "
    "compute bound, in Pyomo, solved by HiGHS; reports the proven lower bound",
    options=(CUT, MIP_GAP),
    requires=("pyomo", "highspy"),
)
def exact(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    cut: str = "marginal",
    mip_gap: float = 1e-6,
) -> SolverResult:
    from opt_offload.models.placement import PlacementData, build_pyomo, pyomo_assignment

    model = build_pyomo(instance, cut)
    return solve_pyomo_with_highs(
        model,
        time_limit,
        mip_gap,
        lambda: PlacementData(instance).decisions(pyomo_assignment(model)),
    )


@register(
    "placement",
    "exact-cvxpy",
    exact=True,
    description="the same MILP (marginal cut form) in CVXPY, solved by HiGHS; a cross-check "
    "for small graphs",
    options=(MIP_GAP,),
    requires=("cvxpy", "highspy"),
)
def exact_cvxpy(
    instance: PlacementInstance, *, time_limit: float | None = None, mip_gap: float = 1e-6
) -> SolverResult:
    from opt_offload.models.placement import PlacementData, build_cvxpy

    problem, x = build_cvxpy(instance)
    silence_highs_banner()
    problem.solve(solver="HIGHS", **cvxpy_highs_options(mip_gap, time_limit))
    status = cvxpy_status_table().get(problem.status, Status.ERROR)
    if status.has_solution and x.value is not None:
        return SolverResult(status, PlacementData(instance).decisions(x.value))
    # a limit hit before any solution leaves nothing to judge
    no_solution = Status.ERROR if status.has_solution else status
    return SolverResult(no_solution, None, message=f"CVXPY: {problem.status}")
