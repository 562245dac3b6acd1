"""Exact assignment solvers: the MILP of :mod:`opt_offload.models.assignment` solved by HiGHS,
through Pyomo (``exact``) or CVXPY (``exact-cvxpy``), or by the backend ``-o backend=NAME``
names (``opt-offload solvers --backends``), with the multi-objective handling of design §5.

One stage is one MILP with one objective (:func:`solve_stage`; :func:`max_throughput` and
:func:`min_transmission` name the two the Pareto sweep and other callers need). A solve is:

- ``strict``: min T (S is the number of tasks); when HiGHS proves it infeasible, the message
  says why (:mod:`.infeasibility`);
- ``admission``, ``lexicographic``: one MILP, max ``M S - T`` with M above any T (option
  ``stages=1``, the default of ``exact``; :func:`solve_lexicographic_at_once`), or stage 1
  max S, then stage 2 min T subject to S >= S* (``stages=2``; always for ``exact-cvxpy``);
  ``objective`` is S, ``bound`` the proven bound on it;
- ``admission``, ``weighted``: max ``w_S S - w_T T``; the evaluator's objective is still S,
  on which this stage proves nothing, so ``bound`` is None and the message gives the weighted
  value and its bound.
"""

from __future__ import annotations

import math
import time

from opt_offload.evaluate import evaluate
from opt_offload.models.assignment import Tightening
from opt_offload.models.formulation import ProblemClass
from opt_offload.registry import MIP_GAP_OPTION, Option, SolverResult, register
from opt_offload.schemas import AssignmentInstance, Status

from ..backends import Limits, backend_classes, backend_option, solve_with
from ..backends.base import WORKERS_OPTION
from .infeasibility import explain, unservable_message

MIP_GAP = MIP_GAP_OPTION.default
# an LP value within this (relative) of an integer bounds S only by that integer: HiGHS's
# LP objective is exact to its dual tolerance (1e-7) per column at a bound, not to the last bit
LP_TOLERANCE = 1e-6
# packing=auto: below this many candidate pairs (1,000 tasks x 21 servers have about 10,000)
# the MILP proves S* at its root faster than the packing path's three LPs; at 3,000 tasks
# (about 30,000) it does not find S* within minutes
PACKING_PAIRS = 20_000

MODE = Option(
    "mode",
    str,
    "",
    "lexicographic (max S, then min T keeping S*) or weighted (max w_S S - w_T T); "
    "empty: the instance's objective.mode",
    choices=("", "lexicographic", "weighted"),
)

TIGHTENING_OPTIONS = (
    Option("scaled_budgets", bool, True, "(1d) in units of 2^k near Omega_j (exact; below 2)"),
    Option("storage_cover", bool, True, "minimal cover cuts of each edge's storage (1b)"),
    Option("model_load", bool, True, "(1c) aggregated per edge and model, weighted by (1d)"),
    Option("symmetry", bool, True, "order interchangeable servers"),
)

PACKING_OPTION = Option(
    "packing",
    str,
    "auto",
    "lexicographic: on = first prove S* by the LP bound and a packing rounded from the LP, "
    "then min T keeping S* from that packing (HiGHS; where the packing falls short, solve as "
    f"before); off = never; auto = on from {PACKING_PAIRS:,} candidate pairs",
    choices=("auto", "on", "off"),
)

STAGES_OPTION = Option(
    "stages",
    int,
    1,
    "lexicographic: 1 (one MILP, max M S - T, M above any T) or 2 (max S, then min T keeping S*)",
    choices=(1, 2),
)

# the registered name -> the backend that solves its MILP by default; ``-o backend=NAME``
# picks any other registered backend of the same layer
BACKENDS = {"exact": "pyomo-highs", "exact-cvxpy": "cvxpy-highs"}
LAYERS = {"exact": "pyomo", "exact-cvxpy": "cvxpy"}


def formulation_of(
    instance: AssignmentInstance,
    stage: str,
    min_throughput: int | None,
    backend: str,
    tightening: Tightening | None,
):
    """The Pyomo formulation with the chosen tightenings, or the plain CVXPY one (the second
    formulation, kept free of them as an oracle)."""
    from opt_offload.models.assignment import cvxpy_formulation, pyomo_formulation

    if backend_classes()[backend].layer == "pyomo":
        return pyomo_formulation(
            instance,
            objective=stage,
            min_throughput=min_throughput,
            tightening=tightening or Tightening(),
        )
    return cvxpy_formulation(instance, objective=stage, min_throughput=min_throughput)


def trivial_stage(instance: AssignmentInstance, min_throughput: int | None) -> SolverResult:
    """No pair passes the pre-filter (admission; or no tasks): reject every task."""
    import numpy as np

    from opt_offload.models.assignment import AssignmentData

    if min_throughput:
        return SolverResult(Status.INFEASIBLE, None, message="no task can be served")
    decisions = AssignmentData.of(instance).decisions(np.zeros(0), None)
    return SolverResult(Status.OPTIMAL, decisions, 0.0)


def solve_stage(
    instance: AssignmentInstance,
    stage: str,
    *,
    min_throughput: int | None = None,
    backend: str = "pyomo-highs",
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP,
    tightening: Tightening | None = None,
    workers: int | None = None,
    start: dict | None = None,
) -> SolverResult:
    """One MILP: ``stage`` is throughput (max S), transmission (min T) or weighted, with
    ``S >= min_throughput`` when given, solved by the named backend (``tightening``: the
    Pyomo model's optional constraint families; ``start``: decisions for a MIP start). ``bound``
    is the proven bound on that stage's objective. A strict instance with a task no server
    can take is answered as infeasible before any model is built, naming the tasks."""
    begun = time.perf_counter()
    from opt_offload.models.assignment import AssignmentData, unservable_tasks

    if instance.variant == "strict" and (missing := unservable_tasks(instance)):
        return SolverResult(Status.INFEASIBLE, None, message=unservable_message(missing))
    if not AssignmentData.of(instance).pairs:
        return trivial_stage(instance, min_throughput)
    formulation = formulation_of(instance, stage, min_throughput, backend, tightening)
    # the limit covers building the model (and importing its layer) too
    limits = Limits(time_limit, mip_gap, workers=workers).after(begun)
    return solve_with(backend, formulation, limits, start)


def max_throughput(instance: AssignmentInstance, **options) -> SolverResult:
    """Max S (stage 1 of lexicographic); ``options`` as :func:`solve_stage`."""
    return solve_stage(instance, "throughput", **options)


def min_transmission(
    instance: AssignmentInstance, *, min_throughput: int | None = None, **options
) -> SolverResult:
    """Min T subject to S >= min_throughput (stage 2; one epsilon-constraint point)."""
    return solve_stage(instance, "transmission", min_throughput=min_throughput, **options)


def metrics(decisions: dict, instance: AssignmentInstance) -> dict:
    """S, T and the weighted value of a stage's decisions, from the shared evaluator."""
    return evaluate(instance, decisions).metrics


def remaining(time_limit: float | None, start: float) -> float | None:
    """What is left of the limit; at least a moment, so that HiGHS still returns its bound."""
    return Limits(time_limit).after(start).time_limit


def proven(result: SolverResult) -> str:
    if result.status is Status.OPTIMAL:
        return "(proven)"
    return "(no bound)" if result.bound is None else f"(bound {result.bound:.6g})"


def solve_strict(instance: AssignmentInstance, time_limit, **options) -> SolverResult:
    """Min T; a proven infeasibility is explained within what is left of the limit."""
    start = time.perf_counter()
    result = min_transmission(instance, time_limit=time_limit, **options)
    if result.status is not Status.INFEASIBLE:
        return result
    return SolverResult(
        Status.INFEASIBLE, None, message=explain(instance, remaining(time_limit, start))
    )


def solve_lexicographic(instance: AssignmentInstance, time_limit, **options) -> SolverResult:
    """Stage 1 gets half the time limit and stage 2 what is left: stage 1 is usually the
    easy one, and stage 2 needs time to prove T."""
    start = time.perf_counter()
    first_limit = None if time_limit is None else time_limit / 2
    first = max_throughput(instance, time_limit=first_limit, **options)
    if first.decisions is None:
        return first
    best = metrics(first.decisions, instance)["throughput"]
    # stage 1's assignment serves S*: a feasible start for stage 2, which keeps S >= S*
    second = min_transmission(
        instance,
        min_throughput=best,
        time_limit=remaining(time_limit, start),
        start=first.decisions if takes_start(options["backend"]) else None,
        **options,
    )
    # stage 2 found nothing in its time: stage 1's assignment still keeps S*
    return two_stage_result(instance, first, second, first.bound)


def solve_lexicographic_at_once(
    instance: AssignmentInstance, time_limit, **options
) -> SolverResult:
    """The lexicographic optimum as one MILP, max ``M S - T`` (the proof that its maximisers
    are the lexicographic optima is at ``AssignmentData.lexicographic_weight``). The solver
    stops at an absolute gap g on that objective, g = mip_gap x a lower bound on T* (the
    smallest Ltrans of as many tasks as the sequential packing serves, which S* is at least),
    so that T is proven within the relative mip_gap as in stage 2; g <= 0.5 < 1 keeps S
    exact. Where the packing does not apply, no pair passes the pre-filter or the backend
    takes no absolute gap (only HiGHS's does), the two stages run instead. After the solve
    both proofs are checked: S* not proven, both stages run in what is left of the limit;
    T not within the gap, stage 2 runs from S*."""
    from opt_offload.models.assignment import AssignmentData

    from .lagrangian import packed_throughput

    start = time.perf_counter()
    data = AssignmentData.of(instance)
    served = packed_throughput(data)
    mip_gap = options.pop("mip_gap")
    if served is None or not data.pairs or not backend_classes()[options["backend"]].absolute_gap:
        return solve_lexicographic(instance, time_limit, mip_gap=mip_gap, **options)
    weight, ceiling = data.lexicographic_weight(), data.transmission_ceiling()
    abs_gap = min(mip_gap * data.transmission_floor(served), 0.5)
    formulation = formulation_of(
        instance, "lexicographic", None, options["backend"], options["tightening"]
    )
    result = solve_with(
        options["backend"],
        formulation,
        Limits(time_limit, 0.0, mip_abs_gap=abs_gap, workers=options["workers"]).after(start),
    )
    # every solution has S <= (U + T_ceiling) / M, U the bound on M S - T
    bound = None if result.bound is None else math.floor((result.bound + ceiling) / weight)
    if result.decisions is None:
        return SolverResult(result.status, None, bound, result.message)
    values = metrics(result.decisions, instance)
    s_value, t_value = values["throughput"], values["transmission_s"]
    # T's bound holds among solutions with S = S*: only once S* is proven
    t_bound = weight * s_value - result.bound if bound == s_value else None
    # the bound and M S are sums of about S terms of size M: allow their rounding
    rounding = 1e-12 * weight * max(1, s_value)
    t_proven = t_bound is not None and t_value - t_bound <= mip_gap * t_value + rounding
    left = remaining(time_limit, start)
    proven_here = bound == s_value and t_proven
    # a backend that proves only a rounded objective (CP-SAT with a fractional M) answers
    # 'feasible': the bound read back above still proves or refutes the lexicographic optimum
    finished = result.status in (Status.OPTIMAL, Status.FEASIBLE)
    if finished and bound != s_value:  # S* not proven: both stages
        return solve_lexicographic(instance, left, mip_gap=mip_gap, **options)
    if finished and not t_proven:  # S* proven: stage 2 from it
        second = min_transmission(
            instance,
            min_throughput=s_value,
            time_limit=left,
            mip_gap=mip_gap,
            **options,
        )
        return two_stage_result(instance, result, second, bound)
    t_text = (
        "(proven)" if t_proven else "(no bound)" if t_bound is None else f"(bound {t_bound:.6g})"
    )
    message = (
        f"lexicographic (one MILP, M={weight:.6g}): S*={s_value} "
        f"{'(proven)' if bound == s_value else f'(bound {bound})'}, T={t_value:.6g} s {t_text}"
    )
    status = Status.OPTIMAL if proven_here else result.status
    return SolverResult(status, result.decisions, bound, message)


def lp_relaxation(instance, stage, min_throughput, deployed, time_limit, **options):
    """The LP relaxation of one stage of the Pyomo model (y fixed to ``deployed`` when
    given): the backend's result (``bound``: the LP value) and the LP's x and y."""
    from opt_offload.models.assignment import pyomo_formulation, pyomo_values

    formulation = pyomo_formulation(
        instance,
        objective=stage,
        min_throughput=min_throughput,
        tightening=options["tightening"] or Tightening(),
        relaxed=True,
        deployed=deployed,
    )
    limits = Limits(time_limit, workers=options["workers"])
    return solve_with(options["backend"], formulation, limits), *pyomo_values(formulation.model)


def solve_lexicographic_packed(
    instance: AssignmentInstance, time_limit, **options
) -> SolverResult | None:
    """S* proven by the LP bound and a packing that meets it, then stage 2 (min T keeping
    S*) from that packing as MIP start. The LP relaxation of max S bounds S* by
    ``count = floor(LP)``; the LP of min T subject to ``S >= count`` picks the deployments
    (:func:`.packing.chosen_deployments`), the same LP with them fixed assigns the tasks, and
    :func:`.packing.lp_packing` rounds and repairs it. When the evaluator finds the packing
    feasible with S = count, S* = count is proven without branching. None where it does not
    (or an LP does not solve): the caller solves as before, in what is left of the limit."""
    from opt_offload.models.assignment import AssignmentData

    from .packing import chosen_deployments, lp_packing

    start = time.perf_counter()
    data = AssignmentData.of(instance)
    first, _, _ = lp_relaxation(instance, "throughput", None, None, time_limit, **options)
    if first.status is not Status.OPTIMAL or first.bound is None:
        return None
    count = math.floor(first.bound + LP_TOLERANCE * max(1.0, abs(first.bound)))
    left = remaining(time_limit, start)
    guide, _, y_lp = lp_relaxation(instance, "transmission", count, None, left, **options)
    if guide.status is not Status.OPTIMAL:
        return None
    deployed = chosen_deployments(data, y_lp)
    left = remaining(time_limit, start)
    fixed, x_lp, _ = lp_relaxation(instance, "transmission", count, deployed, left, **options)
    if fixed.status is not Status.OPTIMAL:
        return None  # these deployments serve fewer than count tasks even in the LP
    decisions = data.decisions(lp_packing(data, x_lp, deployed, count), deployed)
    evaluation = evaluate(instance, decisions)
    if evaluation.violations or evaluation.metrics["throughput"] != count:
        return None
    packed = SolverResult(Status.OPTIMAL, decisions, count)
    second = min_transmission(
        instance,
        min_throughput=count,
        time_limit=remaining(time_limit, start),
        start=decisions,
        **options,
    )
    how = f" (S* by the LP bound {first.bound:.9g} and a packing)"
    return two_stage_result(instance, packed, second, count, how)


def two_stage_result(
    instance: AssignmentInstance, first: SolverResult, second: SolverResult, bound, how=""
) -> SolverResult:
    """Stage 2's answer when it has one, else stage 1's (which keeps S*); proven when both
    stages are. ``how``: how S* was found, for the message."""
    best = metrics(first.decisions, instance)["throughput"]
    final = second if second.decisions is not None else first
    t_value = metrics(final.decisions, instance)["transmission_s"]
    stage_two = proven(second) if second.decisions is not None else "(stage 1's)"
    message = f"lexicographic{how}: S*={best} {proven(first)}, T={t_value:.6g} s {stage_two}"
    return SolverResult(combined_status(first, second), final.decisions, bound, message)


def combined_status(first: SolverResult, second: SolverResult) -> Status:
    statuses = {first.status, second.status}
    if statuses == {Status.OPTIMAL}:
        return Status.OPTIMAL
    return Status.TIME_LIMIT if Status.TIME_LIMIT in statuses else Status.FEASIBLE


def solve_weighted(instance: AssignmentInstance, time_limit, **options) -> SolverResult:
    result = solve_stage(instance, "weighted", time_limit=time_limit, **options)
    if result.decisions is None:
        return result
    value = metrics(result.decisions, instance)["weighted"]
    message = f"weighted: w_S S - w_T T = {value:.9g} {proven(result)}"
    return SolverResult(result.status, result.decisions, None, message, proves_objective=False)


def solve_assignment(
    instance: AssignmentInstance,
    backend: str,
    *,
    time_limit: float | None = None,
    mode: str = "",
    mip_gap: float = MIP_GAP,
    tightening: Tightening | None = None,
    workers: int | None = None,
    stages: int = 2,
    packing: str = "off",
) -> SolverResult:
    start = time.perf_counter()
    options = dict(backend=backend, mip_gap=mip_gap, tightening=tightening, workers=workers)
    if instance.variant == "strict":
        return solve_strict(instance, time_limit, **options)
    if (mode or instance.objective.mode) == "weighted":
        return solve_weighted(instance, time_limit, **options)
    if packs(instance, backend, packing):
        if (packed := solve_lexicographic_packed(instance, time_limit, **options)) is not None:
            return packed
        time_limit = remaining(time_limit, start)
    if stages == 1:
        return solve_lexicographic_at_once(instance, time_limit, **options)
    return solve_lexicographic(instance, time_limit, **options)


def takes_start(backend: str) -> bool:
    """Whether the backend takes a MIP start on this module's (Pyomo) models."""
    chosen = backend_classes()[backend]
    return chosen.layer == "pyomo" and chosen.warm_start


def packs(instance: AssignmentInstance, backend: str, packing: str) -> bool:
    """Whether the packing path runs: asked for (``on``, or ``auto`` with at least
    ``PACKING_PAIRS`` candidate pairs), a Pyomo backend that takes a MIP start, pairs to
    assign, and edges with few enough models to enumerate their model sets."""
    from opt_offload.models.assignment import AssignmentData

    from .lagrangian import unsupported

    pairs = len(AssignmentData.of(instance).pairs)
    return (
        (packing == "on" or (packing == "auto" and pairs >= PACKING_PAIRS))
        and takes_start(backend)
        and pairs > 0
        and unsupported(instance) is None
    )


def register_exact(
    name: str, description: str, requires: tuple[str, ...], extra: tuple[Option, ...] = ()
):
    """Register the MILP through one modelling layer (``LAYERS[name]``), solved by
    ``BACKENDS[name]`` unless ``-o backend=NAME`` says otherwise; both share everything else.
    ``extra``: the tightening switches (the fields of :class:`Tightening`) and ``stages``."""
    backend_choice = backend_option(LAYERS[name], ProblemClass.MILP, BACKENDS[name], False)

    def run(
        instance: AssignmentInstance,
        *,
        time_limit: float | None = None,
        mode: str = "",
        mip_gap: float = MIP_GAP,
        backend: str = BACKENDS[name],
        workers: int = 0,
        stages: int = STAGES_OPTION.default if extra else 2,
        packing: str = PACKING_OPTION.default if extra else "off",
        **switches: bool,
    ) -> SolverResult:
        return solve_assignment(
            instance,
            backend,
            time_limit=time_limit,
            mode=mode,
            mip_gap=mip_gap,
            tightening=Tightening(**switches) if extra else None,
            workers=workers or None,
            stages=stages,
            packing=packing,
        )

    run.__name__ = run.__qualname__ = name.replace("-", "_")
    options = (MODE, MIP_GAP_OPTION, backend_choice, WORKERS_OPTION, *extra)
    return register(
        "assignment", name, exact=True, description=description, options=options, requires=requires
    )(run)


exact = register_exact(
    "exact",
    "MILP of eq. (1) with (1a)-(1e), free or fixed placement, in Pyomo, solved by HiGHS "
    "(-o backend=NAME: any Pyomo MILP backend); strict: min T, admission: lexicographic "
    "(max S, then min T) or weighted; tightenings switchable",
    ("pyomo",),
    (STAGES_OPTION, PACKING_OPTION, *TIGHTENING_OPTIONS),
)
exact_cvxpy = register_exact(
    "exact-cvxpy",
    "the same MILP stated in CVXPY (vectorised), solved by HiGHS through CVXPY (-o "
    "backend=cvxpy-scip: SCIP)",
    ("cvxpy",),
)
