"""``exact-cvxpy``: the MISOCP of :func:`opt_offload.models.admission.cvxpy_problem` solved by
SCIP (through PySCIPOpt) from CVXPY.

SCIP's answer gives the action sets; the bandwidth of the immediate set is then the closed-form
split (SCIP's own split is only feasible to its tolerance). The bound is SCIP's dual bound,
read from the PySCIPOpt model CVXPY hands back (CVXPY minimises the negated objective).
"""

from __future__ import annotations

from opt_offload.models.admission import SlotData, cvxpy_problem
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import K_MAX, SlotAnswer, solve_slot

# SCIP parameters: prove optimality (no relative gap) and hold cones to a tight tolerance.
SCIP_PARAMS = {"limits/gap": 0.0, "limits/absgap": 1e-12, "numerics/feastol": 1e-9}

# CVXPY's statuses -> the common status set.
CVXPY_STATUS = {
    "optimal": Status.OPTIMAL,
    "optimal_inaccurate": Status.FEASIBLE,
    "user_limit": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    "infeasible_inaccurate": Status.INFEASIBLE,
    "unbounded": Status.ERROR,
    "unbounded_inaccurate": Status.ERROR,
    "infeasible_or_unbounded": Status.ERROR,
}


def scip_dual_bound(problem) -> float | None:
    model = (problem.solver_stats.extra_stats or {}).get("model")
    return None if model is None else -model.getDualbound()


def solve_misocp(data: SlotData, time_limit: float | None) -> SlotAnswer:
    import cvxpy as cp

    if not data.candidates:
        return SlotAnswer(Status.OPTIMAL, frozenset(), frozenset(), bound=0.0)
    model = cvxpy_problem(data)
    params = dict(SCIP_PARAMS)
    if time_limit is not None:
        params["limits/time"] = max(time_limit, 1e-3)
    try:
        model.problem.solve(solver=cp.SCIP, scip_params=params)
    except cp.error.SolverError as exc:
        return SlotAnswer(Status.ERROR, frozenset(), frozenset(), message=f"SCIP: {exc}")
    status = CVXPY_STATUS.get(model.problem.status, Status.ERROR)
    if model.immediate.value is None:
        return SlotAnswer(
            Status.ERROR if status.has_solution else status,
            frozenset(),
            frozenset(),
            message=f"CVXPY status {model.problem.status}",
        )
    immediate = frozenset(i for i, x in zip(model.positions, model.immediate.value) if x > 0.5)
    queued = frozenset(i for i, y in zip(model.positions, model.queued.value) if y > 0.5)
    return SlotAnswer(
        status,
        immediate,
        queued,
        bound=scip_dual_bound(model.problem),
        message=f"SCIP via CVXPY: {model.problem.status}",
    )


@register(
    "admission",
    "exact-cvxpy",
    exact=True,
    description="CVXPY MISOCP (quad_over_lin(sqrt(c_i) x_i, B_i) <= t_i, MHz and ms inside) "
    "solved by SCIP; optimal with queue.delay 'given', fixed point (status 'feasible') with "
    "'estimate'",
    options=(Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),),
    requires=("cvxpy", "pyscipopt"),
)
def exact_cvxpy(
    instance: AdmissionInstance, *, time_limit: float | None = None, kmax: int = K_MAX
) -> SolverResult:
    return solve_slot(instance, solve_misocp, time_limit=time_limit, kmax=kmax)
