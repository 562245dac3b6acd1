"""Exact placement solvers: the MILP of :mod:`opt_offload.models.placement` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``, a cross-check on small graphs)."""

from __future__ import annotations

import math

from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import PlacementInstance, Status

from ..highs import silence_highs_banner

CUT = Option(
    "cut",
    str,
    "marginal",
    "linearisation of the graph objective: marginal (tight) or pairwise (z >= x + x - 1)",
    choices=("marginal", "pairwise"),
)
MIP_GAP = Option("mip_gap", float, 1e-6, "relative gap at which HiGHS stops and calls optimal")


def pyomo_status_table():
    """Pyomo's termination conditions -> our status (anything else is an error)."""
    from pyomo.contrib.solver.common.results import TerminationCondition as T

    return {
        T.convergenceCriteriaSatisfied: Status.OPTIMAL,
        T.maxTimeLimit: Status.TIME_LIMIT,
        T.provenInfeasible: Status.INFEASIBLE,
        # the objective is a sum of non-negative terms, so never unbounded
        T.infeasibleOrUnbounded: Status.INFEASIBLE,
    }


@register(
    "placement",
    "exact",
    exact=True,
    description="MILP of eq. (2) / the DESIGN §6 cut cost with (2a), (2b), pins and the "
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
    from pyomo.contrib.solver.common.results import SolutionStatus
    from pyomo.contrib.solver.solvers.highs import Highs

    found = (SolutionStatus.optimal, SolutionStatus.feasible)

    from opt_offload.models.placement import PlacementData, build_pyomo, pyomo_assignment

    model = build_pyomo(instance, cut)
    results = Highs().solve(
        model,
        time_limit=time_limit,
        rel_gap=mip_gap,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    status = pyomo_status_table().get(results.termination_condition, Status.ERROR)
    bound = results.objective_bound
    bound = bound if bound is not None and math.isfinite(bound) else None
    if status.has_solution and results.solution_status in found:
        results.solution_loader.load_vars()
        decisions = PlacementData(instance).decisions(pyomo_assignment(model))
        return SolverResult(status, decisions, bound)
    # a limit hit before any incumbent leaves nothing to judge
    no_solution = Status.ERROR if status.has_solution else status
    return SolverResult(no_solution, None, bound, f"HiGHS: {results.termination_condition.name}")


def cvxpy_status_table():
    import cvxpy as cp

    return {
        cp.OPTIMAL: Status.OPTIMAL,
        cp.OPTIMAL_INACCURATE: Status.FEASIBLE,
        cp.USER_LIMIT: Status.TIME_LIMIT,
        cp.INFEASIBLE: Status.INFEASIBLE,
        cp.INFEASIBLE_INACCURATE: Status.INFEASIBLE,
    }


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
    options = {"mip_rel_gap": mip_gap}
    if time_limit is not None:
        options["time_limit"] = time_limit
    silence_highs_banner()
    problem.solve(solver="HIGHS", **options)
    status = cvxpy_status_table().get(problem.status, Status.ERROR)
    if status.has_solution and x.value is not None:
        return SolverResult(status, PlacementData(instance).decisions(x.value))
    # a limit hit before any solution leaves nothing to judge
    no_solution = Status.ERROR if status.has_solution else status
    return SolverResult(no_solution, None, message=f"CVXPY: {problem.status}")
