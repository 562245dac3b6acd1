"""``exact``: branch-and-bound over the closed form of design §4 (the fast exact path).

With queue delays fixed, every candidate that is not admitted now takes its best alternative
(queue or local, value q_i), and the problem is a choice of the immediate set A:

    maximise  sum_i q_i + sum_{i in A} a_i - (sum_{i in A} u_i)^2    s.t. |A| <= M - |M_t|

with ``a_i = g_i - q_i`` and ``u_i = sqrt(beta c_i / B)`` (the closed-form penalty
``beta (sum sqrt c_i)^2 / B``). This is a cardinality-constrained quadratic knapsack (subset
sum reduces to it), so it is solved by depth-first branch-and-bound:

- candidates with ``a_i <= u_i^2`` are never needed (dropping one from any A loses at most
  ``a_i - u_i^2 <= 0``); the rest are sorted by ``a_i / u_i``, include-branch first, and an
  include branch is skipped when i's marginal gain at the node is not positive (marginal gains
  only fall as A grows: the penalty is a convex function of a sum);
- the first incumbent comes from the Lagrangian sets ``top-K of a_i - 2 t u_i`` for t at the
  incumbent's own ``sum u`` (iterated), which is usually optimal already;
- two upper bounds per node, both separable so that the best completion takes the K' largest
  positive terms: the singleton marginals ``a_i - 2 U u_i - u_i^2`` (submodularity) and the
  linearisation ``(U + U_T)^2 >= 2 t (U + U_T) - t^2`` at t = max(U, incumbent's sum u).

A finished search proves optimality; the bound reported is the largest upper bound among the
pruned nodes (at most the optimum plus the pruning tolerance) or the optimum itself.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

from opt_offload.models.admission import SlotData
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import K_MAX, SlotAnswer, best_alternative, solve_slot

# Nodes whose upper bound is within this fraction of sum a_i of the incumbent are pruned.
PRUNE_TOL = 1e-12
# The clock is read every so many nodes (a node costs a few microseconds).
CLOCK_EVERY = 256


def top_positive_sum(values: list[float], k: int) -> float:
    """Sum of the k largest positive values: the best completion of a separable bound."""
    positive = [v for v in values if v > 0.0]
    return sum(heapq.nlargest(k, positive)) if len(positive) > k else sum(positive)


@dataclass
class Search:
    """Items sorted by a_i / u_i; the incumbent; the proven bound; the node count."""

    gains: list[float]  # a_i
    weights: list[float]  # u_i
    capacity: int
    deadline: float | None
    best_value: float = 0.0  # the empty set
    best_items: tuple[int, ...] = ()
    best_weight: float = 0.0
    pruned_bound: float = -math.inf
    nodes: int = 0
    timed_out: bool = False

    def __post_init__(self) -> None:
        self.tolerance = PRUNE_TOL * max(1.0, sum(self.gains))

    def offer(self, value: float, items: tuple[int, ...], weight: float) -> None:
        if value > self.best_value:
            self.best_value, self.best_items, self.best_weight = value, items, weight

    def upper_bound(self, j: int, gain: float, weight: float, left: int) -> float:
        """Best value of any completion of the node with items j.. still open."""
        a, u = self.gains, self.weights
        rest = range(j, len(a))
        singleton = top_positive_sum([a[k] - u[k] * (2.0 * weight + u[k]) for k in rest], left)
        t = max(weight, self.best_weight)
        linearised = top_positive_sum([a[k] - 2.0 * t * u[k] for k in rest], left)
        return min(gain - weight * weight + singleton, gain - 2.0 * t * weight + t * t + linearised)

    def lagrangian_incumbent(self) -> None:
        """Prefixes of the ranking by a_i - 2 t u_i, t moved to the incumbent's sum u."""
        a, u = self.gains, self.weights
        tried = set()
        t = 0.0
        while t not in tried and len(tried) < K_MAX:
            tried.add(t)
            ranked = sorted(range(len(a)), key=lambda k: a[k] - 2.0 * t * u[k], reverse=True)
            gain = weight = 0.0
            for r, k in enumerate(ranked[: self.capacity]):
                gain, weight = gain + a[k], weight + u[k]
                self.offer(gain - weight * weight, tuple(ranked[: r + 1]), weight)
            t = self.best_weight

    def run(self) -> None:
        self.lagrangian_incumbent()
        self.branch(0, 0.0, 0.0, [])

    def branch(self, j: int, gain: float, weight: float, chosen: list[int]) -> None:
        self.nodes += 1
        if self.timed_out or (
            self.deadline is not None
            and self.nodes % CLOCK_EVERY == 1  # the root, then every CLOCK_EVERY nodes
            and time.perf_counter() > self.deadline
        ):
            self.timed_out = True
            return
        self.offer(gain - weight * weight, tuple(chosen), weight)
        left = self.capacity - len(chosen)
        if j == len(self.gains) or left == 0:
            return
        bound = self.upper_bound(j, gain, weight, left)
        if bound <= self.best_value + self.tolerance:
            self.pruned_bound = max(self.pruned_bound, bound)
            return
        a, u = self.gains[j], self.weights[j]
        if a - u * (2.0 * weight + u) > 0.0:
            chosen.append(j)
            self.branch(j + 1, gain + a, weight + u, chosen)
            chosen.pop()
        self.branch(j + 1, gain, weight, chosen)


def solve_closed_form(data: SlotData, time_limit: float | None = None) -> SlotAnswer:
    """Exact inner solve of mode ``given`` by branch-and-bound (module docstring)."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    alternatives = {i: best_alternative(data, i) for i in data.candidates}
    base = sum(value for value, _ in alternatives.values())
    scale = data.beta_per_ms / data.bandwidth_mhz
    items = []
    for i, (value, _) in alternatives.items():
        advantage, weight = data.gain[i] - value, math.sqrt(scale * data.upload[i])
        if advantage > weight * weight:
            items.append((i, advantage, weight))
    items.sort(key=lambda item: item[1] / item[2] if item[2] > 0 else math.inf, reverse=True)
    search = Search(
        gains=[a for _, a, _ in items],
        weights=[u for _, _, u in items],
        capacity=data.free_slots,
        deadline=deadline,
    )
    search.run()
    immediate = frozenset(items[k][0] for k in search.best_items)
    queued = frozenset(i for i, (_, queue) in alternatives.items() if queue and i not in immediate)
    if search.timed_out:
        return SlotAnswer(
            Status.TIME_LIMIT,
            immediate,
            queued,
            message=f"time limit after {search.nodes} nodes; no bound proven",
        )
    bound = base + max(search.best_value, search.pruned_bound)
    return SlotAnswer(
        Status.OPTIMAL,
        immediate,
        queued,
        bound=bound,
        message=f"branch-and-bound over the closed form: {search.nodes} nodes",
    )


@register(
    "admission",
    "exact",
    exact=True,
    description="branch-and-bound over the closed form of design §4 (best split "
    "B_i ~ sqrt(c_i)); proves optimality with queue.delay 'given'. With 'estimate' it "
    "iterates the queue-delay fixed point with this exact inner solve: status 'feasible', "
    "a fixed point, not a proven optimum",
    options=(Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),),
)
def exact(
    instance: AdmissionInstance, *, time_limit: float | None = None, kmax: int = K_MAX
) -> SolverResult:
    return solve_slot(instance, solve_closed_form, time_limit=time_limit, kmax=kmax)
