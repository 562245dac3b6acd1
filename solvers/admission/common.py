"""What every admission solver shares: decisions in instance ids, and queue-delay mode
``estimate`` as a fixed point around an inner solve of mode ``given`` (design §4).

An inner solver takes a :class:`~opt_offload.models.admission.SlotData` (queue delays fixed)
and returns the immediate and queued positions; the bandwidth of the immediate set is always
the closed-form split of design §4, the best split for that set.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from opt_offload.evaluate.admission import evaluate_admission, queue_delays
from opt_offload.models.admission import HZ_PER_MHZ, SlotData, split_bandwidth
from opt_offload.registry import SolverResult
from opt_offload.schemas import AdmissionDecision, AdmissionInstance, Status

# PRADA Table 3: K_max, the most iterations of the heuristic searches and fixed points.
K_MAX = 80


@dataclass(frozen=True)
class SlotAnswer:
    """An inner solve's answer: positions admitted now and queued, status and bound."""

    status: Status
    immediate: frozenset[int]
    queued: frozenset[int]
    bound: float | None = None
    message: str | None = None
    found: bool = True  # False: the sets are empty because the solver holds no solution

    @property
    def has_decisions(self) -> bool:
        return self.found and self.status in WITH_DECISIONS


WITH_DECISIONS = (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)

InnerSolver = Callable[[SlotData, float | None], SlotAnswer]

# A slot's solve as the simulator calls it (the registry's ``per_slot``): the slot's data and
# the run's generator -> the positions admitted now and those queued; the rest run locally.
Decision = tuple[Collection[int], Collection[int]]
SlotScheduler = Callable[[SlotData, random.Random], Decision]


def scheduler_of(inner: InnerSolver) -> SlotScheduler:
    """The slot solve of an inner solver: no time limit, its sets (none found: all local)."""

    def schedule(data: SlotData, rng: random.Random) -> Decision:
        answer = inner(data, None)
        return answer.immediate, answer.queued

    return schedule


def per_slot_of(inner: InnerSolver) -> Callable[..., SlotScheduler]:
    """``per_slot`` of a solver whose options are all of mode 'estimate' (kmax, the joint
    search's gap): a simulator's slot has its queue delays given, so they leave its solve as
    it is."""
    schedule = scheduler_of(inner)

    def per_slot(**estimate_options) -> SlotScheduler:
        return schedule

    return per_slot


def decisions_of(
    data: SlotData, immediate: Collection[int], queued: Collection[int]
) -> dict[str, AdmissionDecision]:
    """Decisions by candidate id, the uploading set (immediate, and queued with 'shared')
    sharing the band by the closed form."""
    uploading = data.uploading(immediate, queued)
    band = split_bandwidth(data, uploading) if uploading else {}
    # decisions are frozen: one object for every candidate without band of an action (most
    # of them, on a large slot)
    unbanded = {a: AdmissionDecision(action=a) for a in ("immediate", "queue", "local")}
    decisions = {}
    for i, ident in enumerate(data.ids):
        action = "immediate" if i in immediate else "queue" if i in queued else "local"
        decisions[ident] = (
            AdmissionDecision(action=action, bandwidth_hz=HZ_PER_MHZ * band[i])
            if i in band
            else unbanded[action]
        )
    return decisions


def as_plain(decisions: dict[str, AdmissionDecision]) -> dict[str, dict]:
    return {ident: d.model_dump() for ident, d in decisions.items()}


def best_alternative(data: SlotData, i: int) -> tuple[float, bool]:
    """Value of i's best action other than immediate admission, and whether that is the queue
    (queued uploads priced at B_ref: with 'shared' a queued upload takes band and has no value
    of its own apart from the others).

    Tie-break: a queue value of exactly 0 stays local (same objective, no server load).
    """
    value = data.queue_value(i)
    return (value, True) if value > 0.0 else (0.0, False)


def remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


def past(deadline: float | None) -> bool:
    """Whether the clock is beyond ``deadline`` (perf_counter; None: never)."""
    return deadline is not None and time.perf_counter() > deadline


def solve_slot(
    instance: AdmissionInstance,
    inner: InnerSolver,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
) -> SolverResult:
    """Mode ``given``: one inner solve. Mode ``estimate``: the fixed point of design §4."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    if instance.queue.delay == "given":
        data = SlotData.from_instance(instance)
        answer = inner(data, time_limit)
        decisions = decisions_of(data, answer.immediate, answer.queued)
        return SolverResult(
            answer.status,
            as_plain(decisions) if answer.has_decisions else None,
            bound=answer.bound,
            message=answer.message,
        )
    return estimate_fixed_point(instance, inner, deadline, kmax)


def hypothetical_queue_delays(
    instance: AdmissionInstance, decisions: dict[str, AdmissionDecision]
) -> dict[str, float]:
    """TQ_i for every candidate: what the evaluator's list scheduling gives i if it were
    queued, everyone else keeping their decision (queued candidates: their own TQ_i)."""
    delays = queue_delays(instance, decisions)
    for c in instance.candidates:
        if c.id not in delays:
            moved = {**decisions, c.id: AdmissionDecision(action="queue")}
            delays[c.id] = queue_delays(instance, moved)[c.id]
    return delays


def estimate_fixed_point(
    instance: AdmissionInstance, inner: InnerSolver, deadline: float | None, kmax: int
) -> SolverResult:
    """Given TQ -> inner solve -> TQ from the decisions (the evaluator's own list
    scheduling) -> repeat until the decisions repeat, at most ``kmax`` solves.

    A fixed point is not a proven optimum of the estimate-mode problem (TQ depends on every
    decision, and the split that is best for the upload penalty need not be best for the
    queue), so the status is at most ``feasible`` and no bound is claimed. Of the iterates,
    the one the evaluator values most is returned.
    """
    decisions = {c.id: AdmissionDecision(action="local") for c in instance.candidates}
    seen: list[dict[str, AdmissionDecision]] = [decisions]
    best = (evaluate_admission(instance, decisions).objective, decisions)
    message = f"estimate mode: no fixed point within K_max = {kmax} solves"
    for k in range(1, kmax + 1):
        data = SlotData.from_instance(instance, hypothetical_queue_delays(instance, decisions))
        answer = inner(data, remaining(deadline))
        if not answer.has_decisions:
            # the best iterate so far (all-local at worst) is still an incumbent at a limit
            kept = as_plain(best[1]) if answer.status is Status.TIME_LIMIT else None
            return SolverResult(answer.status, kept, message=answer.message)
        decisions = decisions_of(data, answer.immediate, answer.queued)
        value = evaluate_admission(instance, decisions).objective
        if value is not None and value > best[0]:
            best = (value, decisions)
        if decisions in seen:
            cycle = "fixed point" if decisions == seen[-1] else "cycle"
            message = (
                f"estimate mode: {cycle} after {k} inner solves; a fixed point of the "
                "queue-delay loop, not a proven optimum"
            )
            break
        seen.append(decisions)
        if past(deadline):
            return SolverResult(Status.TIME_LIMIT, as_plain(best[1]), message=message)
    return SolverResult(Status.FEASIBLE, as_plain(best[1]), message=message)
