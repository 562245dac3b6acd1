"""``exact-cvxpy``: the MISOCP of :func:`opt_offload.models.admission.cvxpy_problem` solved by
SCIP from CVXPY (the ``cvxpy-scip`` backend, which reads SCIP's own status and dual bound).

SCIP's answer gives the action sets; the bandwidth of the immediate set is then the closed-form
split (SCIP's own split is only feasible to its tolerance).
"""

from __future__ import annotations

import time

from opt_offload.models.admission import SlotData, cvxpy_formulation
from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from ..backends import Limits, get_backend
from .common import K_MAX, InnerSolver, SlotAnswer, scheduler_of, solve_slot


def solve_misocp(data: SlotData, limits: Limits) -> SlotAnswer:
    if not data.candidates:
        return SlotAnswer(Status.OPTIMAL, frozenset(), frozenset(), bound=0.0)
    start = time.perf_counter()
    formulation = cvxpy_formulation(data)  # the limit covers this (and importing CVXPY) too
    result = get_backend("cvxpy-scip").solve(formulation, limits.after(start))
    immediate, queued = result.decisions or (frozenset(), frozenset())
    return SlotAnswer(
        result.status,
        immediate,
        queued,
        bound=result.bound,
        message=result.message,
        found=result.decisions is not None,
    )


def misocp(mip_gap: float) -> InnerSolver:
    def inner(data: SlotData, limit: float | None) -> SlotAnswer:
        return solve_misocp(data, Limits(limit, mip_gap))

    return inner


@register(
    "admission",
    "exact-cvxpy",
    exact=True,
    description="CVXPY MISOCP (quad_over_lin(sqrt(c_i) x_i, B_i) <= t_i, MHz and ms inside) "
    "solved by SCIP; optimal with queue.delay 'given', fixed point (status 'feasible') with "
    "'estimate'",
    options=(
        Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),
        MIP_GAP_OPTION,
    ),
    requires=("cvxpy", "pyscipopt"),
    per_slot=lambda kmax, mip_gap: scheduler_of(misocp(mip_gap)),
)
def exact_cvxpy(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
    mip_gap: float = MIP_GAP_OPTION.default,
) -> SolverResult:
    return solve_slot(instance, misocp(mip_gap), time_limit=time_limit, kmax=kmax)
