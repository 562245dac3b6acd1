"""The one entry point from an instance to a judged Solution (design §2).

Solvers return decisions, a termination and perhaps a bound; the objective and feasibility of
those decisions come from the problem's evaluator, never from the solver's own bookkeeping.
The judge also holds every solver to the result vocabulary (schemas/solution.py):

- ``error`` never carries decisions, and nor do ``infeasible`` and ``gave-up``;
- decisions the evaluator rejects are no incumbent: a claimed optimum with
  them is an ``error``, anyone else's run ``gave-up``, with the violations listed;
- only an exact solver proves: a heuristic's ``infeasible`` is ``gave-up``, its ``optimal``
  ``feasible``;
- ``optimal`` is proven within the declared gap (the ``mip_gap`` option where the solver has
  one): a proof without a bound is its own bound, and a bound farther than the declared gap
  (a solver that stopped on an absolute tolerance) leaves the result ``feasible``;
- a bound on the wrong side of the evaluated objective is not a bound and is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .evaluate import evaluate, objective_sense
from .registry import DEFAULT_MIP_GAP, SolverResult, SolverSpec, check_time_limit, get_solver
from .schemas import Instance, Solution, Status, make_solution
from .schemas.solution import GAP_ATOL, relative_gap

WITH_DECISIONS = (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)
# float slack on "within the declared gap": HiGHS and SCIP compute their gap slightly apart
GAP_SLACK = 1e-9


def wrong_side(sense: str, objective: float, bound: float) -> bool:
    """Whether ``bound`` excludes ``objective``, which the decisions achieve."""
    slack = GAP_ATOL + 1e-9 * max(abs(objective), abs(bound))
    return bound < objective - slack if sense == "max" else bound > objective + slack


def joined(message: str | None, note: str) -> str:
    return f"{message}; {note}" if message else note


def judge(
    instance: Instance,
    spec: SolverSpec,
    options: Mapping[str, Any],
    result: SolverResult,
    wall_s: float,
) -> Solution:
    """Turn a solver's raw result into a Solution, with the evaluator's verdict."""
    sense = objective_sense(instance)
    common = dict(
        kind=instance.kind,
        instance=instance.name,
        solver=spec.name,
        options=dict(options),
        wall_s=wall_s,
        sense=sense,
    )
    status, message, bound = result.status, result.message, result.bound
    if not spec.exact and status is Status.INFEASIBLE:
        status = Status.GAVE_UP
    if result.decisions is None or status not in WITH_DECISIONS:
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            status, message = Status.ERROR, f"{status.value} claimed without decisions"
        return make_solution(status=status, bound=bound, message=message, **common)
    evaluation = evaluate(instance, result.decisions)
    if not evaluation.feasible:
        # decisions a solver calls optimal must satisfy the evaluator; if not, that is a bug
        verdict = Status.ERROR if status is Status.OPTIMAL else Status.GAVE_UP
        return make_solution(
            status=verdict,
            bound=bound,
            violations=list(evaluation.violations),
            message=joined(message, "its decisions violate the constraints listed"),
            **common,
        )
    objective = evaluation.objective
    if bound is not None and wrong_side(sense, objective, bound):
        note = f"dropped the solver's bound {bound:.9g}: the decisions reach {objective:.9g}"
        message, bound = joined(message, note), None
    if status is Status.OPTIMAL and not spec.exact:
        status = Status.FEASIBLE
    if status is Status.OPTIMAL and result.proves_objective:
        bound = objective if bound is None else bound
        declared = options.get("mip_gap", DEFAULT_MIP_GAP)
        gap = relative_gap(objective, bound)
        if gap > declared + GAP_SLACK:
            status = Status.FEASIBLE
            note = f"stopped at relative gap {gap:.3g} > mip_gap {declared:g}: not proven"
            message = joined(message, note)
    return make_solution(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        decisions=result.decisions,
        metrics=evaluation.metrics,
        violations=list(evaluation.violations),
        message=message,
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
    check_time_limit(time_limit)
    spec = get_solver(instance.kind, solver)
    spec.check(instance)
    parsed = spec.parse_options(options)
    start = time.perf_counter()
    result = spec.function(instance, time_limit=time_limit, **parsed)
    wall_s = time.perf_counter() - start
    recorded = parsed if time_limit is None else {**parsed, "time_limit": time_limit}
    return judge(instance, spec, recorded, result, wall_s)
