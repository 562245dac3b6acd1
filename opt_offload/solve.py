"""The one entry point from an instance to a judged Solution (design §2).

Solvers return decisions; the objective, feasibility and status of those decisions come from
the problem's evaluator, never from the solver's own bookkeeping.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .evaluate import evaluate, objective_sense
from .registry import SolverResult, SolverSpec, get_solver
from .schemas import Instance, Solution, Status


def judge(
    instance: Instance,
    spec: SolverSpec,
    options: Mapping[str, Any],
    result: SolverResult,
    wall_s: float,
) -> Solution:
    """Turn a solver's raw result into a Solution, with the evaluator's verdict."""
    common = dict(
        kind=instance.kind,
        instance=instance.name,
        solver=spec.name,
        options=dict(options),
        bound=result.bound,
        wall_s=wall_s,
        sense=objective_sense(instance),
        message=result.message,
    )
    if result.decisions is None:
        status = result.status if not result.status.has_solution else Status.ERROR
        return Solution(status=status, **common)
    evaluation = evaluate(instance, result.decisions)
    if evaluation.feasible:
        status, objective = result.status, evaluation.objective
    else:
        # Decisions a solver calls optimal must satisfy the evaluator; if not, that is a bug.
        status = Status.ERROR if result.status is Status.OPTIMAL else Status.INFEASIBLE
        objective = None
    return Solution(
        status=status,
        objective=objective,
        decisions=result.decisions,
        metrics=evaluation.metrics,
        violations=list(evaluation.violations),
        **common,
    )


def solve(
    instance: Instance,
    solver: str | None = None,
    *,
    time_limit: float | None = None,
    **options: Any,
) -> Solution:
    """Solve ``instance`` with the named solver (the kind's default if None)."""
    spec = get_solver(instance.kind, solver)
    spec.check(instance)
    parsed = spec.parse_options(options)
    start = time.perf_counter()
    result = spec.function(instance, time_limit=time_limit, **parsed)
    wall_s = time.perf_counter() - start
    recorded = parsed if time_limit is None else {**parsed, "time_limit": time_limit}
    return judge(instance, spec, recorded, result, wall_s)
