"""``exact-pyomo``: the MILP of :func:`opt_offload.models.admission.pyomo_model` solved by
HiGHS through Pyomo's persistent appsi interface, with outer-approximation rounds.

Each round solves the MILP (the tangent cuts under-estimate ``c_i x_i / B_i``, so its value
bounds the optimum from above), re-splits the bandwidth of the admitted set by the closed form
(its value is a lower bound), and adds tangents at the MILP's bandwidths and at the split.
The persistent solver keeps the model between rounds and only receives the new cuts. It stops
when the two bounds meet within ``gap``.
"""

from __future__ import annotations

import time

from opt_offload.models.admission import (
    SlotData,
    add_tangent_cut,
    pyomo_model,
    slot_value,
    split_bandwidth,
)
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import K_MAX, SlotAnswer, remaining, solve_slot

ROUNDS = 100
GAP = 1e-9

# appsi's termination conditions -> the common status set (STYLE: CVXPY's explicit tables).
TERMINATION = {
    "optimal": Status.OPTIMAL,
    "maxTimeLimit": Status.TIME_LIMIT,
    "maxIterations": Status.TIME_LIMIT,
    "interrupted": Status.TIME_LIMIT,
    "infeasible": Status.INFEASIBLE,
    "infeasibleOrUnbounded": Status.ERROR,
    "unbounded": Status.ERROR,
    "error": Status.ERROR,
    "unknown": Status.ERROR,
    # limits this backend never sets; a MILP round that stops on them has no proof
    "objectiveLimit": Status.ERROR,
    "minStepLength": Status.ERROR,
    "licensingProblems": Status.ERROR,
}


def highs_solver(time_limit: float | None):
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    solver.config.stream_solver = False
    solver.config.load_solution = True
    # proven optimality of each MILP round, not HiGHS's default 1e-4 relative gap
    solver.highs_options = {"mip_rel_gap": 0.0, "mip_abs_gap": 1e-12}
    if time_limit is not None:
        solver.config.time_limit = max(time_limit, 1e-3)
    return solver


def admitted(m) -> tuple[frozenset[int], frozenset[int]]:
    immediate = frozenset(i for i in m.I if m.immediate[i].value > 0.5)
    queued = frozenset(i for i in m.I if m.queued[i].value > 0.5)
    return immediate, queued


def add_round_cuts(m, data: SlotData, uploading: set[int]) -> None:
    """Tangents at the MILP's own bandwidths and at the closed-form split of its set."""
    for i, share in split_bandwidth(data, uploading).items():
        add_tangent_cut(m, data, i, share)
        if m.bandwidth[i].value and m.bandwidth[i].value > 0:
            add_tangent_cut(m, data, i, m.bandwidth[i].value)


def solve_outer_approximation(
    data: SlotData, time_limit: float | None, *, rounds: int = ROUNDS, gap: float = GAP
) -> SlotAnswer:
    if not data.candidates:
        return SlotAnswer(Status.OPTIMAL, frozenset(), frozenset(), bound=0.0)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    m = pyomo_model(data)
    solver = highs_solver(time_limit)
    best = (float("-inf"), frozenset(), frozenset())
    for k in range(1, rounds + 1):
        if deadline is not None:
            solver.config.time_limit = max(remaining(deadline), 1e-3)
        result = solver.solve(m)
        status = TERMINATION.get(result.termination_condition.name, Status.ERROR)
        if status is not Status.OPTIMAL:
            return SlotAnswer(
                status if best[0] == float("-inf") else Status.TIME_LIMIT,
                best[1],
                best[2],
                message=f"HiGHS: {result.termination_condition.name} in round {k}",
            )
        immediate, queued = admitted(m)
        value = slot_value(data, immediate, queued)
        if value > best[0]:
            best = (value, immediate, queued)
        upper = result.best_objective_bound
        if upper - best[0] <= gap * max(1.0, abs(best[0])):
            return SlotAnswer(
                Status.OPTIMAL,
                best[1],
                best[2],
                bound=upper,
                message=f"outer approximation: {k} HiGHS rounds, {len(m.cuts)} cuts",
            )
        add_round_cuts(m, data, data.uploading(immediate, queued))
    return SlotAnswer(
        Status.FEASIBLE,
        best[1],
        best[2],
        bound=upper,
        message=f"outer approximation stopped after {rounds} rounds, gap not closed",
    )


@register(
    "admission",
    "exact-pyomo",
    exact=True,
    description="Pyomo MILP with outer-approximation cuts on c_i x_i / B_i, HiGHS via appsi "
    "(persistent between cut rounds); optimal to `gap` with queue.delay 'given', fixed point "
    "(status 'feasible') with 'estimate'",
    options=(
        Option("rounds", int, ROUNDS, "most outer-approximation rounds"),
        Option("gap", float, GAP, "relative gap between the MILP bound and the split value"),
        Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),
    ),
    requires=("pyomo", "highspy"),
)
def exact_pyomo(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    rounds: int = ROUNDS,
    gap: float = GAP,
    kmax: int = K_MAX,
) -> SolverResult:
    def inner(data: SlotData, limit: float | None) -> SlotAnswer:
        return solve_outer_approximation(data, limit, rounds=rounds, gap=gap)

    return solve_slot(instance, inner, time_limit=time_limit, kmax=kmax)
