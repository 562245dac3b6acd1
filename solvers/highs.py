"""What every backend that reaches HiGHS shares: status tables, the Pyomo solve, the CVXPY
options, and the banner HiGHS prints from C."""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from opt_offload.registry import SolverResult
from opt_offload.schemas import Status


def pyomo_status_table():
    """Pyomo's termination conditions -> our status (anything else is an error)."""
    from pyomo.contrib.solver.common.results import TerminationCondition as T

    return {
        T.convergenceCriteriaSatisfied: Status.OPTIMAL,
        T.maxTimeLimit: Status.TIME_LIMIT,
        T.provenInfeasible: Status.INFEASIBLE,
        # our objectives are bounded (sums of bounded terms), so never unbounded
        T.infeasibleOrUnbounded: Status.INFEASIBLE,
    }


def cvxpy_status_table():
    import cvxpy as cp

    return {
        cp.OPTIMAL: Status.OPTIMAL,
        cp.OPTIMAL_INACCURATE: Status.FEASIBLE,
        cp.USER_LIMIT: Status.TIME_LIMIT,
        cp.INFEASIBLE: Status.INFEASIBLE,
        cp.INFEASIBLE_INACCURATE: Status.INFEASIBLE,
    }


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def cvxpy_highs_options(mip_gap: float, time_limit: float | None) -> dict[str, float]:
    """HiGHS options as CVXPY passes them through."""
    options = {"mip_rel_gap": mip_gap}
    if time_limit is not None:
        options["time_limit"] = time_limit
    return options


def solve_pyomo_with_highs(
    model, time_limit: float | None, mip_gap: float, decisions: Callable[[], dict[str, Any]]
) -> SolverResult:
    """Solve a Pyomo model with HiGHS (pyomo.contrib.solver); ``decisions`` reads the loaded
    variables. The bound is HiGHS's proven objective bound, where finite."""
    from pyomo.contrib.solver.common.results import SolutionStatus
    from pyomo.contrib.solver.solvers.highs import Highs

    results = Highs().solve(
        model,
        time_limit=time_limit,
        rel_gap=mip_gap,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    status = pyomo_status_table().get(results.termination_condition, Status.ERROR)
    bound = finite(results.objective_bound)
    found = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if status.has_solution and found:
        results.solution_loader.load_vars()
        return SolverResult(status, decisions(), bound)
    # a limit hit before any incumbent leaves nothing to judge
    no_solution = Status.ERROR if status.has_solution else status
    return SolverResult(no_solution, None, bound, f"HiGHS: {results.termination_condition.name}")


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
