"""Exact assignment solvers: the MILP of :mod:`opt_offload.models.assignment` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``), with the multi-objective handling of
design §5.

One stage is one MILP with one objective (:func:`solve_stage`; :func:`max_throughput` and
:func:`min_transmission` name the two the Pareto sweep and other callers need). A solve is:

- ``strict``: min T (S is the number of tasks); when HiGHS proves it infeasible, the message
  says why (:mod:`.infeasibility`);
- ``admission``, ``lexicographic``: stage 1 max S, then stage 2 min T subject to S >= S*
  (the first optimum kept); ``objective`` is S, ``bound`` stage 1's proven bound on it;
- ``admission``, ``weighted``: max ``w_S S - w_T T``; the evaluator's objective is still S,
  on which this stage proves nothing, so ``bound`` is None and the message gives the weighted
  value and its bound.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from opt_offload.errors import lookup
from opt_offload.evaluate import evaluate
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AssignmentInstance, Status

from ..highs import (
    cvxpy_highs_options,
    cvxpy_status_table,
    finite,
    silence_highs_banner,
    solve_pyomo_with_highs,
)

MIP_GAP = 1e-6

MODE = Option(
    "mode",
    str,
    "",
    "lexicographic (max S, then min T keeping S*) or weighted (max w_S S - w_T T); "
    "empty: the instance's objective.mode",
    choices=("", "lexicographic", "weighted"),
)
GAP = Option("mip_gap", float, MIP_GAP, "relative gap at which HiGHS stops and calls optimal")


def solve_pyomo(
    instance: AssignmentInstance,
    stage: str,
    min_throughput: int | None,
    time_limit: float | None,
    mip_gap: float,
) -> SolverResult:
    from opt_offload.models.assignment import AssignmentData, build_pyomo, pyomo_values

    model = build_pyomo(instance, objective=stage, min_throughput=min_throughput)
    return solve_pyomo_with_highs(
        model, time_limit, mip_gap, lambda: AssignmentData(instance).decisions(*pyomo_values(model))
    )


def solve_cvxpy(
    instance: AssignmentInstance,
    stage: str,
    min_throughput: int | None,
    time_limit: float | None,
    mip_gap: float,
) -> SolverResult:
    import cvxpy as cp

    from opt_offload.models.assignment import AssignmentData, build_cvxpy

    problem, x, y = build_cvxpy(instance, objective=stage, min_throughput=min_throughput)
    silence_highs_banner()
    with warnings.catch_warnings():
        # CVXPY warns "may be inaccurate" at a time limit; the status table reports that
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.HIGHS, **cvxpy_highs_options(mip_gap, time_limit))
    status = cvxpy_status_table().get(problem.status, Status.ERROR)
    info = problem.solver_stats.extra_stats if problem.solver_stats else None
    bound = None
    if info is not None and status.has_solution:
        # CVXPY hands HiGHS a minimisation; our objectives have no constant term, so the
        # HiGHS dual bound is the bound up to the sign of a maximisation
        sign = -1.0 if isinstance(problem.objective, cp.Maximize) else 1.0
        bound = finite(sign * info.mip_dual_bound)
    # at a limit CVXPY hands back a value even when HiGHS has no primal solution (2 = feasible)
    found = x.value is not None and (info is None or info.primal_solution_status == 2)
    if status.has_solution and found:
        y_value = y.value if y is not None else None
        return SolverResult(status, AssignmentData(instance).decisions(x.value, y_value), bound)
    no_solution = Status.ERROR if status.has_solution else status
    return SolverResult(no_solution, None, bound, f"CVXPY: {problem.status}")


SOLVE = {"pyomo": solve_pyomo, "cvxpy": solve_cvxpy}


def trivial_stage(instance: AssignmentInstance, min_throughput: int | None) -> SolverResult:
    """No pair passes the pre-filter (admission; or no tasks): reject every task."""
    from opt_offload.models.assignment import AssignmentData

    if min_throughput:
        return SolverResult(Status.INFEASIBLE, None, message="no task can be served")
    decisions = AssignmentData(instance).decisions(np.zeros(0), None)
    return SolverResult(Status.OPTIMAL, decisions, 0.0)


def solve_stage(
    instance: AssignmentInstance,
    stage: str,
    *,
    min_throughput: int | None = None,
    backend: str = "pyomo",
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP,
) -> SolverResult:
    """One MILP: ``stage`` is throughput (max S), transmission (min T) or weighted, with
    ``S >= min_throughput`` when given. ``bound`` is the proven bound on that stage's
    objective. A strict instance with a task no server can take is answered as infeasible
    before any model is built, naming the tasks."""
    from opt_offload.models.assignment import AssignmentData, unservable_tasks

    if instance.variant == "strict" and (missing := unservable_tasks(instance)):
        return SolverResult(Status.INFEASIBLE, None, message=unservable_message(missing))
    if not AssignmentData(instance).pairs:
        return trivial_stage(instance, min_throughput)
    solve = lookup(SOLVE, backend, "backend")
    return solve(instance, stage, min_throughput, time_limit, mip_gap)


def max_throughput(instance: AssignmentInstance, **options) -> SolverResult:
    """Max S (stage 1 of lexicographic); ``options`` as :func:`solve_stage`."""
    return solve_stage(instance, "throughput", **options)


def min_transmission(
    instance: AssignmentInstance, *, min_throughput: int | None = None, **options
) -> SolverResult:
    """Min T subject to S >= min_throughput (stage 2; one epsilon-constraint point)."""
    return solve_stage(instance, "transmission", min_throughput=min_throughput, **options)


def unservable_message(tasks: list[str]) -> str:
    return (
        f"infeasible: {', '.join(tasks)} "
        f"{'has' if len(tasks) == 1 else 'have'} no server that meets QoS (1e), can hold the "
        "model (1b)/(1c) and fits the workload in its budget (1d)"
    )


def metrics(decisions: dict, instance: AssignmentInstance) -> dict:
    """S, T and the weighted value of a stage's decisions, from the shared evaluator."""
    return evaluate(instance, decisions).metrics


def remaining(time_limit: float | None, start: float) -> float | None:
    """What is left of the limit; at least a moment, so that HiGHS still returns its bound."""
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - start), 0.01)


def proven(result: SolverResult) -> str:
    if result.status is Status.OPTIMAL:
        return "(proven)"
    return "(no bound)" if result.bound is None else f"(bound {result.bound:.6g})"


def solve_strict(instance: AssignmentInstance, backend: str, time_limit, mip_gap) -> SolverResult:
    result = min_transmission(instance, backend=backend, time_limit=time_limit, mip_gap=mip_gap)
    if result.status is not Status.INFEASIBLE:
        return result
    from .infeasibility import explain

    return SolverResult(Status.INFEASIBLE, None, message=explain(instance, time_limit))


def solve_lexicographic(
    instance: AssignmentInstance, backend: str, time_limit, mip_gap
) -> SolverResult:
    """Stage 1 gets half the time limit and stage 2 what is left: stage 1 is usually the
    easy one, and stage 2 needs time to prove T."""
    start = time.perf_counter()
    options = dict(backend=backend, mip_gap=mip_gap)
    first_limit = None if time_limit is None else time_limit / 2
    first = max_throughput(instance, time_limit=first_limit, **options)
    if first.decisions is None:
        return first
    best = metrics(first.decisions, instance)["throughput"]
    second = min_transmission(
        instance, min_throughput=best, time_limit=remaining(time_limit, start), **options
    )
    # stage 2 found nothing in its time: stage 1's assignment still keeps S*
    final = second if second.decisions is not None else first
    t_value = metrics(final.decisions, instance)["transmission_s"]
    stage_two = proven(second) if second.decisions is not None else "(stage 1's)"
    message = f"lexicographic: S*={best} {proven(first)}, T={t_value:.6g} s {stage_two}"
    return SolverResult(combined_status(first, second), final.decisions, first.bound, message)


def combined_status(first: SolverResult, second: SolverResult) -> Status:
    statuses = {first.status, second.status}
    if statuses == {Status.OPTIMAL}:
        return Status.OPTIMAL
    return Status.TIME_LIMIT if Status.TIME_LIMIT in statuses else Status.FEASIBLE


def solve_weighted(instance: AssignmentInstance, backend: str, time_limit, mip_gap) -> SolverResult:
    result = solve_stage(
        instance, "weighted", backend=backend, time_limit=time_limit, mip_gap=mip_gap
    )
    if result.decisions is None:
        return result
    value = metrics(result.decisions, instance)["weighted"]
    message = f"weighted: w_S S - w_T T = {value:.9g} {proven(result)}"
    return SolverResult(result.status, result.decisions, None, message)


def solve_assignment(
    instance: AssignmentInstance,
    backend: str,
    *,
    time_limit: float | None = None,
    mode: str = "",
    mip_gap: float = MIP_GAP,
) -> SolverResult:
    if instance.variant == "strict":
        return solve_strict(instance, backend, time_limit, mip_gap)
    chosen = mode or instance.objective.mode
    solver = solve_lexicographic if chosen == "lexicographic" else solve_weighted
    return solver(instance, backend, time_limit, mip_gap)


def register_backend(name: str, backend: str, description: str, requires: tuple[str, ...]):
    """Register the MILP through one modelling layer; both backends share everything else."""

    def run(
        instance: AssignmentInstance,
        *,
        time_limit: float | None = None,
        mode: str = "",
        mip_gap: float = MIP_GAP,
    ) -> SolverResult:
        return solve_assignment(
            instance, backend, time_limit=time_limit, mode=mode, mip_gap=mip_gap
        )

    run.__name__ = run.__qualname__ = name.replace("-", "_")
    options = (MODE, GAP)
    return register(
        "assignment", name, exact=True, description=description, options=options, requires=requires
    )(run)


exact = register_backend(
    "exact",
    "pyomo",
    "MILP of eq. (1) with (1a)-(1e), free or fixed placement, in Pyomo, solved by HiGHS; "
    "strict: min T, admission: lexicographic (max S, then min T) or weighted",
    ("pyomo", "highspy"),
)
exact_cvxpy = register_backend(
    "exact-cvxpy",
    "cvxpy",
    "the same MILP stated in CVXPY (vectorised), solved by HiGHS through CVXPY",
    ("cvxpy", "highspy"),
)
