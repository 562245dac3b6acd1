"""Admission baselines: all-local, all-server, the random scheduler of PRADA Sec. 5.3, greedy
by w0."""

from __future__ import annotations

import math
import random as _random

from opt_offload.models.admission import SlotData
from opt_offload.registry import Option, SolverResult, non_negative, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import (
    K_MAX,
    Decision,
    SlotAnswer,
    as_plain,
    best_alternative,
    decisions_of,
    per_slot_of,
    solve_slot,
)


def local_decisions(instance: AdmissionInstance) -> dict[str, dict]:
    return {c.id: {"action": "local", "bandwidth_hz": 0.0} for c in instance.candidates}


def nothing_offloaded(data: SlotData, rng: _random.Random | None = None) -> Decision:
    return (), ()


@register(
    "admission",
    "all-local",
    exact=False,
    description="every candidate runs locally (alpha = 0); always feasible, objective 0",
    per_slot=lambda: nothing_offloaded,
)
def all_local(instance: AdmissionInstance, *, time_limit: float | None = None) -> SolverResult:
    return SolverResult(Status.FEASIBLE, local_decisions(instance))


def everything_offloaded(data: SlotData, rng: _random.Random | None = None) -> Decision:
    """Every candidate that can upload, whatever it is worth: admitted now in file order while
    a server slot is free, queued after."""
    candidates = data.candidates
    return candidates[: data.free_slots], candidates[data.free_slots :]


@register(
    "admission",
    "all-server",
    exact=False,
    description="every candidate that can upload is offloaded whatever it is worth: "
    "immediate in file order while a server slot is free, queued after; the uploading set "
    "shares B by the closed form (the simulator's offload-everything baseline)",
    per_slot=lambda: everything_offloaded,
)
def all_server(instance: AdmissionInstance, *, time_limit: float | None = None) -> SolverResult:
    data = SlotData.from_instance(instance)
    immediate, queued = everything_offloaded(data)
    return SolverResult(Status.FEASIBLE, as_plain(decisions_of(data, immediate, queued)))


def random_actions(data: SlotData, rng: _random.Random) -> tuple[set[int], set[int]]:
    """Uniform over {local, queue, immediate} per candidate, mapped to valid actions
    (Sec. 5.3): a candidate in outage stays local, and an immediate draw beyond the free
    slots (in file order) is queued instead."""
    immediate, queued = set(), set()
    for i in range(len(data.ids)):
        action = rng.choice(("local", "queue", "immediate"))
        if not data.eligible[i] or action == "local":
            continue
        if action == "immediate" and len(immediate) < data.free_slots:
            immediate.add(i)
        else:
            queued.add(i)
    return immediate, queued


@register(
    "admission",
    "random",
    exact=False,
    description="PRADA's random scheduler (Sec. 5.3): uniform over local / queue / immediate, "
    "infeasible draws mapped to valid actions (outage -> local, no free slot -> queue); "
    "the admitted share B by the closed form",
    options=(
        Option(
            "seed",
            int,
            0,
            "seed of the draws (a simulation draws from its run's seed instead)",
            valid=non_negative,
        ),
    ),
    per_slot=lambda seed: random_actions,
)
def random_scheduler(
    instance: AdmissionInstance, *, time_limit: float | None = None, seed: int = 0
) -> SolverResult:
    data = SlotData.from_instance(instance)
    immediate, queued = random_actions(data, _random.Random(seed))
    return SolverResult(Status.FEASIBLE, as_plain(decisions_of(data, immediate, queued)))


def greedy_by_zero_price_gain(data: SlotData, time_limit: float | None = None) -> SlotAnswer:
    """Candidates by Remark 2's w0_i = g_i - beta c_i / B descending (file order on ties): each
    is admitted now while a slot is free and doing so raises the closed-form value (the band
    re-split over the admitted set), else takes its best alternative (queue or local)."""
    scale = data.beta_per_ms / data.bandwidth_mhz
    w0 = {i: data.gain[i] - scale * data.upload[i] for i in data.candidates}
    immediate, queued = set(), set()
    root_sum = 0.0
    for i in sorted(data.candidates, key=lambda i: (-w0[i], i)):
        alternative, queue = best_alternative(data, i)
        root = math.sqrt(data.upload[i])
        added_penalty = scale * ((root_sum + root) ** 2 - root_sum**2)
        if len(immediate) < data.free_slots and data.gain[i] - added_penalty > alternative:
            immediate.add(i)
            root_sum += root
        elif queue:
            queued.add(i)
    return SlotAnswer(Status.FEASIBLE, frozenset(immediate), frozenset(queued))


@register(
    "admission",
    "greedy",
    exact=False,
    description="greedy by the zero-price gain w0 = g - beta c / B: admit now while a slot is "
    "free and it raises the closed-form value, else queue or local; mode 'estimate' iterates "
    "the queue-delay fixed point",
    options=(Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),),
    per_slot=per_slot_of(greedy_by_zero_price_gain),
)
def greedy(
    instance: AdmissionInstance, *, time_limit: float | None = None, kmax: int = K_MAX
) -> SolverResult:
    return solve_slot(instance, greedy_by_zero_price_gain, time_limit=time_limit, kmax=kmax)
