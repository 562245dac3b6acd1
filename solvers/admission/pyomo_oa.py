"""``exact-pyomo``: the MILP of :func:`opt_offload.models.admission.pyomo_model` solved by
HiGHS through the ``pyomo-highs`` backend (``-o backend=NAME``: any Pyomo MILP backend that
takes continuous variables), with outer-approximation rounds.

Each round solves the MILP (the tangent cuts under-estimate ``c_i x_i / B_i``, so its dual
bound bounds the optimum from above), re-splits the bandwidth of the admitted set by the closed
form (its value is a lower bound), and adds tangents at the MILP's bandwidths and at the split.
The backend's HiGHS object is persistent, so each round sends HiGHS only the new cuts (the
other backends take the whole model each round). It stops
when the two bounds meet within ``mip_gap``, or at the time limit with the best split so far.
"""

from __future__ import annotations

import time

from opt_offload.models.admission import (
    SlotData,
    add_tangent_cut,
    pyomo_formulation,
    slot_value,
    split_bandwidth,
)
from opt_offload.models.formulation import ProblemClass
from opt_offload.registry import Option, SolverResult, gap_fraction, register
from opt_offload.schemas import AdmissionInstance, Status

from ..backends import Limits, backend_option, get_backend
from .common import K_MAX, InnerSolver, SlotAnswer, remaining, scheduler_of, solve_slot

ROUNDS = 100
GAP = 1e-9
# the cut rounds' MILP has continuous bandwidths and upload times: CP-SAT cannot take it
BACKEND = backend_option("pyomo", ProblemClass.MILP, "pyomo-highs", continuous=True)


def add_round_cuts(m, data: SlotData, uploading: set[int]) -> None:
    """Tangents at the MILP's own bandwidths and at the closed-form split of its set."""
    for i, share in split_bandwidth(data, uploading).items():
        add_tangent_cut(m, data, i, share)
        if m.bandwidth[i].value and m.bandwidth[i].value > 0:
            add_tangent_cut(m, data, i, m.bandwidth[i].value)


def solve_outer_approximation(
    data: SlotData,
    time_limit: float | None,
    *,
    rounds: int = ROUNDS,
    gap: float = GAP,
    backend: str = BACKEND.default,
) -> SlotAnswer:
    if not data.candidates:
        return SlotAnswer(Status.OPTIMAL, frozenset(), frozenset(), bound=0.0)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    formulation = pyomo_formulation(data)
    solver = get_backend(backend)
    best = (float("-inf"), frozenset(), frozenset())
    upper = None
    for k in range(1, rounds + 1):
        result = solver.solve(formulation, Limits(remaining(deadline), gap))
        if result.decisions is not None:
            immediate, queued = result.decisions
            value = slot_value(data, immediate, queued)
            if value > best[0]:
                best = (value, immediate, queued)
        # the MILP's dual bound is an upper bound whether or not the round finished
        if result.bound is not None:
            upper = result.bound if upper is None else min(upper, result.bound)
        found = best[0] > float("-inf")
        if result.status is not Status.OPTIMAL:
            status = Status.TIME_LIMIT if result.status is Status.TIME_LIMIT else result.status
            return SlotAnswer(
                status,
                best[1],
                best[2],
                bound=upper,
                found=found,
                message=f"{result.message} in round {k}",
            )
        if upper is not None and upper - best[0] <= gap * max(1.0, abs(best[0])):
            return SlotAnswer(
                Status.OPTIMAL,
                best[1],
                best[2],
                bound=upper,
                message=f"outer approximation: {k} {solver.solver} rounds, "
                f"{len(formulation.model.cuts)} cuts",
            )
        if deadline is not None and time.perf_counter() >= deadline:
            return SlotAnswer(
                Status.TIME_LIMIT,
                best[1],
                best[2],
                bound=upper,
                message=f"outer approximation: time limit after {k} rounds",
            )
        add_round_cuts(formulation.model, data, data.uploading(immediate, queued))
    return SlotAnswer(
        Status.FEASIBLE,
        best[1],
        best[2],
        bound=upper,
        message=f"outer approximation stopped after {rounds} rounds, gap not closed",
    )


def outer_approximation(rounds: int, mip_gap: float, backend: str) -> InnerSolver:
    def inner(data: SlotData, limit: float | None) -> SlotAnswer:
        return solve_outer_approximation(data, limit, rounds=rounds, gap=mip_gap, backend=backend)

    return inner


@register(
    "admission",
    "exact-pyomo",
    exact=True,
    description="Pyomo MILP with outer-approximation cuts on c_i x_i / B_i, HiGHS (persistent "
    "between cut rounds; -o backend=NAME: any Pyomo MILP backend that takes continuous "
    "variables); optimal to `gap` with queue.delay 'given', fixed point "
    "(status 'feasible') with 'estimate'",
    options=(
        Option("rounds", int, ROUNDS, "most outer-approximation rounds"),
        Option(
            "mip_gap",
            float,
            GAP,
            "relative gap between the MILP bound and the split value at which to stop",
            valid=gap_fraction,
        ),
        Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),
        BACKEND,
    ),
    requires=("pyomo",),
    per_slot=lambda rounds, mip_gap, kmax, backend: scheduler_of(
        outer_approximation(rounds, mip_gap, backend)
    ),
)
def exact_pyomo(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    rounds: int = ROUNDS,
    mip_gap: float = GAP,
    kmax: int = K_MAX,
    backend: str = BACKEND.default,
) -> SolverResult:
    inner = outer_approximation(rounds, mip_gap, backend)
    return solve_slot(instance, inner, time_limit=time_limit, kmax=kmax)
