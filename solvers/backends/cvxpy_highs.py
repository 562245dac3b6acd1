"""``cvxpy-highs``: a CVXPY problem solved by HiGHS, read through CVXPY's status (HiGHS's own
model status does not reach the caller) and HiGHS's ``HighsInfo`` for the incumbent and the
dual bound.

CVXPY collapses HiGHS's limits (time, iterations, solutions, objective target) into
``user_limit``; this package sets only the time limit, so ``user_limit`` is ``time-limit``.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings

from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.schemas import Status

from .base import Backend, BackendResult, Limits, register_backend, unscaled

# HighsInfo.primal_solution_status: 2 = a feasible primal solution exists
HIGHS_FEASIBLE_POINT = 2


def cvxpy_statuses() -> list[str]:
    """Every status a CVXPY problem can end with."""
    import cvxpy.settings as s

    return [*s.SOLUTION_PRESENT, *s.INF_OR_UNB, *s.ERROR, s.UNKNOWN]


# CVXPY's statuses -> ours (every member; tested). Shared with the CVXPY+SCIP backend, which
# reads SCIP's own status instead where SCIP has one.
CVXPY_STATUS_MAP = {
    "optimal": Status.OPTIMAL,
    # a solution the solver doubts: no proof
    "optimal_inaccurate": Status.FEASIBLE,
    "user_limit": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    # a doubtful infeasibility is not a proof
    "infeasible_inaccurate": Status.ERROR,
    # our objectives are sums of bounded terms, so never unbounded
    "unbounded": Status.ERROR,
    "unbounded_inaccurate": Status.ERROR,
    "infeasible_or_unbounded": Status.INFEASIBLE,
    "solver_error": Status.ERROR,
    "UNKNOWN": Status.ERROR,
}


@functools.cache
def silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout, from C, when a process makes its first Highs object;
    that would corrupt ``--json`` output. Make that first object with fd 1 on /dev/null.
    (Pyomo's interface captures it itself; CVXPY's and plain highspy do not.)"""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_quietly(problem, **options) -> None:
    """``problem.solve`` without CVXPY's "solution may be inaccurate" warning (the status
    reports that) and with a SolverError left to the caller."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(**options)


def minimised_sign(problem) -> float:
    """CVXPY hands solvers a minimisation: -1 for a Maximize problem, +1 for Minimize."""
    import cvxpy as cp

    return -1.0 if isinstance(problem.objective, cp.Maximize) else 1.0


@register_backend
class CvxpyHighs(Backend):
    name = "cvxpy-highs"
    layer = "cvxpy"
    solver = "HiGHS"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP})
    requires = ("cvxpy", "highspy")
    STATUS_MAP = CVXPY_STATUS_MAP

    @classmethod
    def native_statuses(cls) -> list[str]:
        return cvxpy_statuses()

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        import cvxpy as cp

        problem = formulation.model
        options = {"mip_rel_gap": limits.mip_gap}
        if limits.time_limit is not None:
            options["time_limit"] = limits.seconds
        silence_highs_banner()
        try:
            solve_quietly(problem, solver=cp.HIGHS, **options)
        except cp.error.SolverError as exc:
            return BackendResult(Status.ERROR, None, None, None, "solver_error", f"HiGHS: {exc}")
        info = problem.solver_stats.extra_stats if problem.solver_stats else None
        bound = incumbent = None
        found = problem.status in ("optimal", "optimal_inaccurate", "user_limit")
        if info is not None:
            sign = minimised_sign(problem)
            # at a limit CVXPY hands back values even when HiGHS has no primal solution
            found = found and info.primal_solution_status == HIGHS_FEASIBLE_POINT
            if formulation.problem_class is not ProblemClass.LP:
                bound = unscaled(sign * info.mip_dual_bound, formulation)
            elif problem.status == "optimal":
                bound = unscaled(problem.value, formulation)
            if found:
                incumbent = unscaled(problem.value, formulation)
        return self.result(formulation, problem.status, found, bound, incumbent)
