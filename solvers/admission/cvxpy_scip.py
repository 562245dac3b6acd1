"""``exact-cvxpy``: the MISOCP of :func:`opt_offload.models.admission.cvxpy_problem` solved by
SCIP from CVXPY (the ``cvxpy-scip`` backend, which reads SCIP's own status and dual bound), and
``exact-scip``: the same MISOCP stated in PySCIPOpt directly
(:func:`opt_offload.models.admission.scip_formulation`, the ``scip`` backend).

SCIP's answer gives the action sets; the bandwidth of the immediate set is then the closed-form
split (SCIP's own split is only feasible to its tolerance).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from opt_offload.models.admission import SlotData, cvxpy_formulation, scip_formulation
from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from ..backends import Limits, backend_option, get_backend
from .common import K_MAX, InnerSolver, SlotAnswer, scheduler_of, solve_slot

CVXPY_BACKEND = backend_option("cvxpy", ProblemClass.MISOCP, "cvxpy-scip")
SCIP_BACKEND = backend_option("pyscipopt", ProblemClass.MISOCP, "scip")


def solve_misocp(
    data: SlotData,
    limits: Limits,
    backend: str = CVXPY_BACKEND.default,
    formulate: Callable[[SlotData], Formulation] = cvxpy_formulation,
) -> SlotAnswer:
    if not data.candidates:
        return SlotAnswer(Status.OPTIMAL, frozenset(), frozenset(), bound=0.0)
    start = time.perf_counter()
    formulation = formulate(data)  # the limit covers this (and importing the layer) too
    result = get_backend(backend).solve(formulation, limits.after(start))
    immediate, queued = result.decisions or (frozenset(), frozenset())
    return SlotAnswer(
        result.status,
        immediate,
        queued,
        bound=result.bound,
        message=result.message,
        found=result.decisions is not None,
    )


def misocp(
    mip_gap: float,
    backend: str,
    formulate: Callable[[SlotData], Formulation] = cvxpy_formulation,
) -> InnerSolver:
    def inner(data: SlotData, limit: float | None) -> SlotAnswer:
        return solve_misocp(data, Limits(limit, mip_gap), backend, formulate)

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
        CVXPY_BACKEND,
    ),
    requires=("cvxpy",),
    per_slot=lambda kmax, mip_gap, backend: scheduler_of(misocp(mip_gap, backend)),
)
def exact_cvxpy(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = CVXPY_BACKEND.default,
) -> SolverResult:
    return solve_slot(instance, misocp(mip_gap, backend), time_limit=time_limit, kmax=kmax)


@register(
    "admission",
    "exact-scip",
    exact=True,
    description="the same MISOCP (t_i B_i >= c_i z_i^2) stated in PySCIPOpt directly, solved "
    "by SCIP with its own status and dual bound; optimal with queue.delay 'given', fixed point "
    "(status 'feasible') with 'estimate'",
    options=(
        Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),
        MIP_GAP_OPTION,
        SCIP_BACKEND,
    ),
    requires=("pyscipopt",),
    per_slot=lambda kmax, mip_gap, backend: scheduler_of(
        misocp(mip_gap, backend, scip_formulation)
    ),
)
def exact_scip(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
    mip_gap: float = MIP_GAP_OPTION.default,
    backend: str = SCIP_BACKEND.default,
) -> SolverResult:
    inner = misocp(mip_gap, backend, scip_formulation)
    return solve_slot(instance, inner, time_limit=time_limit, kmax=kmax)
