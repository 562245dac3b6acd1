"""``exact-joint``: the joint problem of queue-delay mode ``estimate`` (design §4), solved by a
search over the immediate set and the queue in arrival order, with bounds.

In mode ``estimate`` a queued request's delay TQ_i is the evaluator's list schedule: queued
requests are served first come, first served (arrival at the end of the upload, ``c_i / B_ref``
with ``queue.upload = priced``, so the arrival order is the order of c_i), each on the server
slot that frees first; slots free at the in-flight Gamma_j, at ``TC_j + d_j`` for this slot's
immediate admissions and at 0 otherwise. Every delay depends on every decision, which is why the
fixed point of ``exact`` is not an optimum.

Search. Depth first over the candidates in arrival order, each immediate, queued or local:

- the queued candidates decided so far are valued at the slot state of the decisions so far;
  later decisions only delay them (an immediate admission takes an idle slot and frees it
  later; a later arrival is served after them), so that value is an upper bound;
- a candidate not yet decided is worth at most ``g_i - beta c_i / B_ref - beta max(0, f - a_i)``
  queued (f the earliest slot now, a_i its arrival) and ``g_i - beta (2 S_A sqrt c_i + c_i) / B``
  admitted (the closed form's marginal at the current ``S_A = sum sqrt c_j``), and the best
  completion takes every positive queued value plus the largest gains of a slot (the
  separable bound of ``exact``);
- a queued candidate worth nothing even at the optimistic delay, and an immediate admission
  worth nothing at the whole band, are never branched on (leaving one out delays nobody).

What is proven. Each leaf is valued twice: with the closed-form split of B over A (the
decisions returned, valued as the evaluator does) and with every upload at its least possible
time, ``c_j / B`` for the slot release and ``beta (sum_A sqrt c_j)^2 / B`` for the upload
penalty. The second is an upper bound over every split of B for those actions (the list
schedule's start times only grow with release times), so the largest of them, and of the
pruned nodes' bounds, bounds the problem over all bandwidths, not only over the closed-form
split. Status ``optimal`` when that bound is within ``mip_gap`` of the best leaf; otherwise
``feasible`` with the bound (the split that is best for the upload penalty can delay a queued
request behind an admission's upload). The fixed point of ``exact`` is the first incumbent.

With ``queue.upload = shared`` the arrival times move with the split, so this bound does not
hold; the solver declines that reading in mode ``estimate``. In mode ``given`` it is ``exact``.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

from opt_offload.evaluate.admission import evaluate_admission
from opt_offload.models.admission import SlotData
from opt_offload.queueing import list_schedule_waits
from opt_offload.registry import Option, SolverResult, gap_fraction, register
from opt_offload.schemas import AdmissionInstance, Status

from .branch_and_bound import CLOCK_EVERY, best_completion, solve_closed_form
from .common import (
    K_MAX,
    as_plain,
    decisions_of,
    estimate_fixed_point,
    past,
    per_slot_of,
    solve_slot,
)

GAP = 1e-9
MAX_CANDIDATES = 16


@dataclass(frozen=True)
class Joint:
    """One slot in SI units, candidates in arrival order (c_i ascending, then file order)."""

    order: list[int]  # positions in the instance, by arrival
    gain: list[float]
    root: list[float]  # sqrt(c_i)
    arrival: list[float]  # c_i / B_ref
    service: list[float]  # d_i
    idle: int  # free slots
    busy: list[float]  # Gamma_j
    band: float  # B - uplink_busy_hz
    beta: float

    @classmethod
    def of(cls, instance: AdmissionInstance) -> Joint:
        candidates = instance.candidates
        eligible = [i for i, c in enumerate(candidates) if instance.can_upload(c)]
        upload = {i: instance.upload_coefficient(candidates[i]) for i in eligible}
        order = sorted(eligible, key=lambda i: (upload[i], i))
        return cls(
            order=order,
            gain=[candidates[i].gain for i in order],
            root=[math.sqrt(upload[i]) for i in order],
            arrival=[upload[i] / instance.reference_bandwidth_hz for i in order],
            service=[candidates[i].server_time_s for i in order],
            idle=instance.server.free_slots,
            busy=list(instance.server.busy_remaining_s),
            band=instance.available_bandwidth_hz,
            beta=instance.beta,
        )

    def leaf_value(self, immediate: list[int], queued: list[int], least: bool) -> float:
        """Objective of the actions; ``least``: every upload at its least time (the bound)."""
        roots = sum(self.root[k] for k in immediate)
        release = {
            k: self.root[k] * (self.root[k] if least else roots) / self.band + self.service[k]
            for k in immediate
        }
        slots = self.busy + list(release.values()) + [0.0] * (self.idle - len(immediate))
        waits = list_schedule_waits(slots, ((k, self.arrival[k], self.service[k]) for k in queued))
        value = sum(self.gain[k] for k in immediate) - self.beta * roots**2 / self.band
        return value + sum(self.gain[k] - self.beta * (self.arrival[k] + waits[k]) for k in queued)


@dataclass
class JointSearch:
    slot: Joint
    deadline: float | None
    best_value: float
    best: tuple[list[int], list[int]]
    gap: float = GAP
    bound: float = -math.inf  # the largest bound of a leaf or a pruned node
    nodes: int = 0
    timed_out: bool = False

    def completion(self, j: int, roots: float, earliest: float, left: int) -> float:
        """The separable bound on the candidates j.. (module docstring)."""
        s = self.slot
        rest = range(j, len(s.order))
        admitted = [
            s.gain[k] - s.beta * s.root[k] * (2.0 * roots + s.root[k]) / s.band for k in rest
        ]
        queued = [
            s.gain[k] - s.beta * (s.arrival[k] + max(0.0, earliest - s.arrival[k])) for k in rest
        ]
        return best_completion(admitted, queued, left)

    def run(self) -> None:
        s = self.slot
        n = len(s.order)
        root_slots = s.busy + [0.0] * s.idle
        heapq.heapify(root_slots)
        # node: (j, immediate, queued, roots, value of the decided, slot heap, slots left)
        stack = [(0, (), (), 0.0, 0.0, tuple(root_slots), s.idle)]
        while stack:
            j, immediate, queued, roots, value, slots, left = stack.pop()
            self.nodes += 1
            if self.nodes % CLOCK_EVERY == 1 and past(self.deadline):
                self.timed_out = True
                return
            if j == n:
                self.leaf(list(immediate), list(queued))
                continue
            decided = value - s.beta * roots**2 / s.band
            bound = decided + self.completion(j, roots, slots[0], left)
            if bound <= self.best_value + self.tolerance:
                self.bound = max(self.bound, bound)
                continue
            stack.append((j + 1, immediate, queued, roots, value, slots, left))
            wait = max(0.0, slots[0] - s.arrival[j])
            worth = s.gain[j] - s.beta * (s.arrival[j] + wait)
            if worth > 0.0:
                heap = list(slots)
                heapq.heapreplace(heap, s.arrival[j] + wait + s.service[j])
                stack.append(
                    (j + 1, immediate, queued + (j,), roots, value + worth, tuple(heap), left)
                )
            if left > 0 and s.gain[j] - s.beta * s.root[j] ** 2 / s.band > 0.0:
                stack.append(
                    (
                        j + 1,
                        immediate + (j,),
                        queued,
                        roots + s.root[j],
                        value + s.gain[j],
                        taken_idle_slot(slots, s.root[j] ** 2 / s.band + s.service[j]),
                        left - 1,
                    )
                )

    @property
    def tolerance(self) -> float:
        return self.gap * max(1.0, abs(self.best_value))

    def leaf(self, immediate: list[int], queued: list[int]) -> None:
        value = self.slot.leaf_value(immediate, queued, least=False)
        if value > self.best_value:
            self.best_value, self.best = value, (immediate, queued)
        self.bound = max(self.bound, self.slot.leaf_value(immediate, queued, least=True))


def taken_idle_slot(slots: tuple[float, ...], release: float) -> tuple[float, ...]:
    """The slot state after an immediate admission takes an idle slot (free at 0) until
    ``release``, as a lower bound: if the queue decided so far has used every idle slot, the
    state is kept (the admission only delays what it would change)."""
    if slots[0] > 0.0:
        return slots
    heap = list(slots)
    heapq.heapreplace(heap, release)  # a 0 is the minimum
    return tuple(heap)


def solve_joint(
    instance: AdmissionInstance, time_limit: float | None, kmax: int, gap: float
) -> SolverResult:
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    start = estimate_fixed_point(instance, solve_closed_form, deadline, kmax)
    slot = Joint.of(instance)
    first = incumbent_of(instance, slot, start.decisions)
    search = JointSearch(slot, deadline, slot.leaf_value(*first, least=False), first, gap)
    search.run()
    data = SlotData.from_instance(instance)
    immediate = frozenset(slot.order[k] for k in search.best[0])
    queued = frozenset(slot.order[k] for k in search.best[1])
    decisions = as_plain(decisions_of(data, immediate, queued))
    if search.timed_out:
        return SolverResult(
            Status.TIME_LIMIT,
            decisions,
            message=f"time limit after {search.nodes} nodes; no bound proven",
        )
    bound = max(search.bound, search.best_value)
    value = evaluate_admission(instance, decisions).objective
    proven = bound - value <= gap * max(1.0, abs(value))
    message = f"joint search over the immediate set and the queue: {search.nodes} nodes"
    if not proven:
        message += "; the bound allows a split of B other than the closed form to do better"
    return SolverResult(
        Status.OPTIMAL if proven else Status.FEASIBLE, decisions, bound=bound, message=message
    )


def incumbent_of(
    instance: AdmissionInstance, slot: Joint, decisions: dict[str, dict]
) -> tuple[list[int], list[int]]:
    """The immediate and queued of decisions, as positions in arrival order."""
    action = {k: decisions[instance.candidates[i].id]["action"] for k, i in enumerate(slot.order)}
    return (
        [k for k, a in action.items() if a == "immediate"],
        [k for k, a in action.items() if a == "queue"],
    )


def supported(instance: AdmissionInstance) -> str | None:
    if instance.queue.delay == "given":
        return None
    if instance.shared_upload:
        return "queue.upload 'shared' with queue.delay 'estimate': arrivals move with the split"
    n = sum(instance.can_upload(c) for c in instance.candidates)
    if n > MAX_CANDIDATES:
        return f"{n} candidates that can upload; the joint search takes at most {MAX_CANDIDATES}"
    return None


@register(
    "admission",
    "exact-joint",
    exact=True,
    description="queue.delay 'estimate': search over the immediate set and the queue in "
    "arrival order with bounds that hold for every split of B; optimal when the "
    f"closed-form split meets that bound (n <= {MAX_CANDIDATES}, queue.upload 'priced'); "
    "with 'given' it is 'exact'",
    options=(
        Option("kmax", int, K_MAX, "most fixed-point iterations of the first incumbent"),
        Option(
            "mip_gap",
            float,
            GAP,
            "relative gap between the bound and the best leaf at which to call it optimal",
            valid=gap_fraction,
        ),
    ),
    supports=supported,
    per_slot=per_slot_of(solve_closed_form),  # with queue delays given it is 'exact'
)
def exact_joint(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
    mip_gap: float = GAP,
) -> SolverResult:
    if instance.queue.delay == "given":
        return solve_slot(instance, solve_closed_form, time_limit=time_limit)
    return solve_joint(instance, time_limit, kmax, mip_gap)
