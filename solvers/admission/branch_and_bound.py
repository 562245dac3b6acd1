"""``exact``: branch-and-bound over the closed form of design §4 (the fast exact path).

With queue delays fixed the band goes to the uploading set S by the closed form (penalty
``beta (sum_{i in S} sqrt c_i)^2 / B``, B the band left by uploads in flight), and with
``u_i = sqrt(beta c_i / B)`` the problem is a choice of S and of the immediate set A in it:

    maximise  sum_{i in A} p_i + sum_{i in S - A} r_i - (sum_{i in S} u_i)^2   s.t. |A| <= K

with K = M - |M_t| free slots. Reading ``queue.upload = priced``: only the immediate set
uploads in the band, so S = A; a candidate not admitted takes its best alternative (queue at
B_ref, or local) worth q_i, p_i = g_i - q_i is its advantage and there is no r_i. Reading
``shared``: a queued request uploads now too, p_i = g_i and r_i = g_i - beta TQ_i (its
upload is in the penalty). Both are cardinality-constrained quadratic knapsacks (subset sum
reduces to them), solved by depth-first branch-and-bound:

- candidates with ``max(p_i, r_i) <= u_i^2`` are never needed (dropping one from any S loses
  at most ``max(p_i, r_i) - u_i^2 <= 0``); the rest are sorted by ``p_i / u_i``, immediate
  branch first, then queued, then out, and a branch is skipped when its marginal gain at the
  node is not positive (marginal gains only fall as S grows: the penalty is a convex function
  of a sum);
- the first incumbent comes from the Lagrangian sets ``top-K of p_i - 2 t u_i`` (then the
  positive ``r_i - 2 t u_i``) for t at the incumbent's own ``sum u`` (iterated), which is
  usually optimal already;
- two upper bounds per node, both separable, so that the best completion takes every positive
  queued term and, on top, the K' largest positive gains of a slot over that: the singleton
  marginals ``v_i - 2 U u_i - u_i^2`` (submodularity) and the linearisation
  ``(U + U_T)^2 >= 2 t (U + U_T) - t^2`` at t = max(U, incumbent's sum u).

The search keeps its open nodes on an explicit stack (at most three per depth, each a
linked list of its choices), so memory is linear in n and there is no recursion limit.
A finished search proves optimality; the bound reported is the largest upper bound among the
pruned nodes (at most the optimum plus the pruning tolerance) or the optimum itself.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass

from opt_offload.models.admission import SlotData
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import K_MAX, SlotAnswer, best_alternative, past, per_slot_of, solve_slot

# Nodes whose upper bound is within this fraction of sum p_i of the incumbent are pruned.
PRUNE_TOL = 1e-12
# The clock is read every so many nodes (a node costs a few microseconds).
CLOCK_EVERY = 256
# Golden-section steps of the slot price lambda of the dual bound (shared reading).
SLOT_PRICE_STEPS = 24
# The choices of an item at a node.
IMMEDIATE, QUEUED = 0, 1
NO_QUEUE = -math.inf  # r_i of an item that cannot be queued in the band (reading 'priced')


def top_positive_sum(values: list[float], k: int) -> float:
    """Sum of the k largest positive values: the best completion of a separable bound."""
    positive = [v for v in values if v > 0.0]
    return sum(heapq.nlargest(k, positive)) if len(positive) > k else sum(positive)


def best_completion(slot: list[float], free: list[float], k: int) -> float:
    """max over disjoint sets (at most k in a slot) of the separable values: every positive
    queued value, plus the k largest positive gains of a slot over it."""
    if not free:
        return top_positive_sum(slot, k)
    queued = [max(0.0, f) for f in free]
    return sum(queued) + top_positive_sum([s - q for s, q in zip(slot, queued)], k)


@dataclass
class Search:
    """Items sorted by p_i / u_i; the incumbent; the proven bound; the node count."""

    gains: list[float]  # p_i, the value with a slot
    queue_gains: list[float]  # r_i, the value queued in the band (empty: no such choice)
    weights: list[float]  # u_i
    capacity: int
    deadline: float | None
    slot_price: float = 0.0  # lambda >= 0, the price of a slot in the dual bound
    best_value: float = 0.0  # the empty set
    best_items: tuple[tuple[int, int], ...] = ()  # (item, IMMEDIATE or QUEUED)
    best_weight: float = 0.0
    pruned_bound: float = -math.inf
    nodes: int = 0
    timed_out: bool = False

    def __post_init__(self) -> None:
        self.tolerance = PRUNE_TOL * max(1.0, sum(self.gains))
        # prefix sums of p and u in the ratio order, and the prices t = p_k / 2 u_k at which
        # item k's Lagrangian term p_k - 2 t u_k changes sign (descending)
        self.dual_gains = dual_gains = dual_values(self.gains, self.queue_gains, self.slot_price)
        self.prefix_gain = list(itertools.accumulate(dual_gains, initial=0.0))
        self.prefix_weight = list(itertools.accumulate(self.weights, initial=0.0))
        self.half_ratio = [
            p / (2.0 * w) if w > 0.0 else math.inf for p, w in zip(dual_gains, self.weights)
        ]

    def offer(self, value: float, items: tuple[tuple[int, int], ...], weight: float) -> None:
        if value > self.best_value:
            self.best_value, self.best_items, self.best_weight = value, items, weight

    def upper_bound(self, j: int, gain: float, weight: float, left: int) -> float:
        """Best value of any completion of the node with items j.. still open."""
        a, r, u = self.gains, self.queue_gains, self.weights
        rest = range(j, len(a))
        singleton = [u[k] * (2.0 * weight + u[k]) for k in rest]
        t = max(weight, self.best_weight)
        linear = [2.0 * t * u[k] for k in rest]

        def completion(cost: list[float]) -> float:
            slot = [a[k] - c for k, c in zip(rest, cost)]
            free = [r[k] - c for k, c in zip(rest, cost)] if r else []
            return best_completion(slot, free, left)

        dual = self.dual_bound(j, gain, weight, left)
        if dual <= self.best_value + self.tolerance:
            return dual  # prunes already; the O(n) bounds below are not needed
        return min(
            dual,
            gain - weight * weight + completion(singleton),
            gain - 2.0 * t * weight + t * t + completion(linear),
        )

    def dual_bound(self, j: int, gain: float, weight: float, left: int) -> float:
        """The Lagrangian dual at this node's best band price t, the slots priced at lambda:
        each open item is then worth ``v_k = max(p_k - lambda, r_k)`` whatever its choice and
        the free slots ``left lambda``. With items in the order of v_k / u_k the positive terms
        v_k - 2 t u_k of items j.. are a prefix j..m-1, and the dual
        ``G + left lambda - 2 t W + t^2 + sum_{j..m-1} (v_k - 2 t u_k)`` is least at
        t = W + U_{j..m-1} clamped to the prefix's price range. That m is found by bisection
        (W + U_{j..m-1} rises and the prices fall with m); every t >= 0 and lambda >= 0 give a
        valid bound, so the least of m's neighbours is taken."""
        n = len(self.gains)
        pa, pu, half = self.prefix_gain, self.prefix_weight, self.half_ratio

        def at(m: int) -> float:
            low = half[m] if m < n else 0.0
            high = half[m - 1] if m > j else math.inf
            total = weight + pu[m] - pu[j]
            t = min(max(total, low), high)
            return base + pa[m] - pa[j] - 2.0 * t * total + t * t

        base = gain + left * self.slot_price

        first, last = j, n  # the first m whose unconstrained price reaches its range
        while first < last:
            m = (first + last) // 2
            if weight + pu[m] - pu[j] >= (half[m] if m < n else 0.0):
                last = m
            else:
                first = m + 1
        return min(at(m) for m in (first - 1, first, first + 1) if j <= m <= n)

    def lagrangian_incumbent(self) -> None:
        """Prefixes of the ranking by p_i - 2 t u_i (the top K), then of the positive
        r_i - 2 t u_i, t moved to the incumbent's sum u."""
        a, r, u = self.gains, self.queue_gains, self.weights
        tried = set()
        t = 0.0
        while t not in tried and len(tried) < K_MAX:
            tried.add(t)
            ranked = sorted(range(len(a)), key=lambda k: a[k] - 2.0 * t * u[k], reverse=True)
            chosen = [(k, IMMEDIATE) for k in ranked[: self.capacity]]
            if r:
                rest = sorted(ranked[self.capacity :], key=lambda k: r[k] - 2.0 * t * u[k])
                chosen += [(k, QUEUED) for k in reversed(rest) if r[k] > 2.0 * t * u[k]]
            gain = weight = 0.0
            for n, (k, choice) in enumerate(chosen):
                gain += a[k] if choice == IMMEDIATE else r[k]
                weight += u[k]
                self.offer(gain - weight * weight, tuple(chosen[: n + 1]), weight)
            if r:
                self.uploading_prefixes(t)
            t = self.best_weight

    def uploading_prefixes(self, t: float) -> None:
        """Shared reading: prefixes of the ranking by ``v_k - 2 t u_k`` (v_k the value at the
        slot price), each with its K largest gains of a slot over the queue, p_k - r_k, given
        a slot (a heap keeps them as the prefix grows)."""
        a, r, u = self.gains, self.queue_gains, self.weights
        ranked = sorted(range(len(a)), key=lambda k: self.dual_gains[k] - 2.0 * t * u[k])
        ranked.reverse()
        slots: list[tuple[float, int]] = []  # min-heap of (p_k - r_k, k) given a slot
        gain = weight = 0.0
        best = (self.best_value, None)
        for n, k in enumerate(ranked):
            gain, weight = gain + r[k], weight + u[k]
            if self.capacity:
                bonus = (a[k] - r[k], k)
                if len(slots) < self.capacity:
                    heapq.heappush(slots, bonus)
                    gain += bonus[0]
                elif bonus > slots[0]:
                    gain += bonus[0] - heapq.heapreplace(slots, bonus)[0]
            if gain - weight * weight > best[0]:
                best = (gain - weight * weight, (n, {k for _, k in slots}, weight))
        if best[1] is not None:
            n, immediate, weight = best[1]
            items = tuple(
                (k, IMMEDIATE if k in immediate else QUEUED) for k in sorted(ranked[: n + 1])
            )
            self.offer(best[0], items, weight)

    def swap_incumbent(self) -> None:
        """Best single add, drop or swap of the incumbent's immediate items (its queued ones
        are dropped: a heuristic start, the search still has the queued choices), repeated
        while it improves: on slots whose ratios p_i / u_i are near equal (subset sum) the
        Lagrangian sets miss the target sum u by up to an item, and one swap closes most of
        it. Vectorised with numpy: every (out, in) pair at once."""
        import numpy as np

        a, u = np.array(self.gains), np.array(self.weights)
        inside = np.zeros(len(a), dtype=bool)
        inside[[k for k, c in self.best_items if c == IMMEDIATE]] = True
        for _ in range(K_MAX):
            gain, weight = float(a[inside].sum()), float(u[inside].sum())
            value = gain - weight * weight
            ins, outs = np.flatnonzero(~inside), np.flatnonzero(inside)
            moves = []  # (value, out or -1, in or -1)
            if len(ins) and inside.sum() < self.capacity:
                added = gain + a[ins] - (weight + u[ins]) ** 2
                moves.append((added.max(), -1, ins[added.argmax()]))
            if len(outs):
                dropped = gain - a[outs] - (weight - u[outs]) ** 2
                moves.append((dropped.max(), outs[dropped.argmax()], -1))
            if len(ins) and len(outs):
                swapped = (
                    gain
                    + a[ins][None, :]
                    - a[outs][:, None]
                    - (weight + u[ins][None, :] - u[outs][:, None]) ** 2
                )
                o, i = np.unravel_index(swapped.argmax(), swapped.shape)
                moves.append((swapped[o, i], outs[o], ins[i]))
            best, out, into = max(moves, default=(value, -1, -1))
            if best <= value:
                break
            if out >= 0:
                inside[out] = False
            if into >= 0:
                inside[into] = True
            items = tuple((int(k), IMMEDIATE) for k in np.flatnonzero(inside))
            self.offer(float(best), items, float(u[inside].sum()))

    def out_of_time(self) -> bool:
        # the root, then every CLOCK_EVERY nodes
        if self.nodes % CLOCK_EVERY == 1 and past(self.deadline):
            self.timed_out = True
        return self.timed_out

    def run(self) -> None:
        """Depth first over an explicit stack of (item, gain, weight, slots left, choices),
        choices a linked list (item, choice, parent) so that a node costs O(1) memory. The
        Lagrangian incumbent is in place (:func:`search_of`)."""
        root = self.upper_bound(0, 0.0, 0.0, self.capacity) if self.gains else -math.inf
        if root > self.best_value + self.tolerance:
            self.swap_incumbent()
        a, r, u = self.gains, self.queue_gains, self.weights
        n = len(a)
        stack = [(0, 0.0, 0.0, self.capacity, None)]
        while stack:
            j, gain, weight, left, chosen = stack.pop()
            self.nodes += 1
            if self.out_of_time():
                return
            if gain - weight * weight > self.best_value:
                self.offer(gain - weight * weight, unwind(chosen), weight)
            if j == n or (left == 0 and not r):
                continue
            bound = self.upper_bound(j, gain, weight, left)
            if bound <= self.best_value + self.tolerance:
                self.pruned_bound = max(self.pruned_bound, bound)
                continue
            cost = u[j] * (2.0 * weight + u[j])  # the penalty's marginal at this node
            stack.append((j + 1, gain, weight, left, chosen))  # out: explored last
            if r and r[j] - cost > 0.0:
                stack.append((j + 1, gain + r[j], weight + u[j], left, (j, QUEUED, chosen)))
            if left > 0 and a[j] - cost > 0.0:
                stack.append((j + 1, gain + a[j], weight + u[j], left - 1, (j, IMMEDIATE, chosen)))


def dual_values(gains: list[float], queue_gains: list[float], slot_price: float) -> list[float]:
    """v_k = max(p_k - lambda, r_k): an item's best value when a slot costs lambda."""
    if not queue_gains:
        return [p - slot_price for p in gains]
    return [max(p - slot_price, r) for p, r in zip(gains, queue_gains)]


def slot_price_of(gains: list[float], queue_gains: list[float], capacity: int) -> float:
    """lambda for the dual bound: the (K+1)-th largest gain of a slot over the queue,
    p_k - r_k, so that at most K items prefer a slot at that price (0 without a queue
    choice, where the prefix order is that of p_k / u_k)."""
    if not queue_gains or len(gains) <= capacity:
        return 0.0
    return sorted((p - r for p, r in zip(gains, queue_gains)), reverse=True)[capacity]


def unwind(chosen) -> tuple[tuple[int, int], ...]:
    """The (item, choice) pairs of a node's linked list, in item order."""
    items = []
    while chosen is not None:
        item, choice, chosen = chosen
        items.append((item, choice))
    return tuple(reversed(items))


@dataclass(frozen=True)
class Items:
    """The search's items (positions in the slot) and the value of leaving each out."""

    positions: list[int]
    gains: list[float]
    queue_gains: list[float]
    weights: list[float]
    base: float  # sum of the values of the alternatives the gains are measured against
    queued_alternative: frozenset[int]  # 'priced': left out of A, these are queued
    slot_price: float  # lambda of the dual bound


def search_items(data: SlotData) -> Items:
    """p_i, r_i, u_i of the module docstring, the items that can never help dropped."""
    scale = data.beta_per_ms / data.bandwidth_mhz
    if data.shared:
        base, queued, options = 0.0, frozenset(), {}
        for i in data.candidates:
            options[i] = (data.gain[i], data.queue_value(i))
    else:
        alternatives = {i: best_alternative(data, i) for i in data.candidates}
        base = sum(value for value, _ in alternatives.values())
        queued = frozenset(i for i, (_, queue) in alternatives.items() if queue)
        options = {i: (data.gain[i] - value, NO_QUEUE) for i, (value, _) in alternatives.items()}
    kept = []
    for i, (gain, queue_gain) in options.items():
        weight = math.sqrt(scale * data.upload[i])
        if max(gain, queue_gain) > weight * weight:
            kept.append((i, gain, queue_gain, weight))
    items = Items(
        positions=[i for i, _, _, _ in kept],
        gains=[p for _, p, _, _ in kept],
        queue_gains=[q for _, _, q, _ in kept] if data.shared else [],
        weights=[w for _, _, _, w in kept],
        base=base,
        queued_alternative=queued,
        slot_price=0.0,
    )
    return at_slot_price(items, slot_price_of(items.gains, items.queue_gains, data.free_slots))


def at_slot_price(items: Items, price: float) -> Items:
    """The items in the order of v_k / u_k at slot price lambda (the dual bound's order)."""
    values = dual_values(items.gains, items.queue_gains, price)
    order = sorted(
        range(len(values)),
        key=lambda k: values[k] / items.weights[k] if items.weights[k] > 0 else math.inf,
        reverse=True,
    )
    return Items(
        positions=[items.positions[k] for k in order],
        gains=[items.gains[k] for k in order],
        queue_gains=[items.queue_gains[k] for k in order] if items.queue_gains else [],
        weights=[items.weights[k] for k in order],
        base=items.base,
        queued_alternative=items.queued_alternative,
        slot_price=price,
    )


def search_of(items: Items, capacity: int, deadline: float | None) -> Search:
    search = Search(
        gains=items.gains,
        queue_gains=items.queue_gains,
        weights=items.weights,
        capacity=capacity,
        deadline=deadline,
        slot_price=items.slot_price,
    )
    search.lagrangian_incumbent()
    return search


def root_dual(items: Items, capacity: int, price: float) -> float:
    ordered = at_slot_price(items, price)
    return search_of(ordered, capacity, None).dual_bound(0, 0.0, 0.0, capacity)


def best_slot_price(items: Items, capacity: int) -> float:
    """lambda that (nearly) minimises the root's dual bound: the dual is jointly convex in the
    band price t and lambda, so its least value over t is convex in lambda and a golden-section
    search finds it (any lambda >= 0 gives a valid bound; this one only makes it tight)."""
    lo, hi = 0.0, max(p - r for p, r in zip(items.gains, items.queue_gains))
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = root_dual(items, capacity, a), root_dual(items, capacity, b)
    for _ in range(SLOT_PRICE_STEPS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = root_dual(items, capacity, a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = root_dual(items, capacity, b)
    best = min((fa, a), (fb, b), (root_dual(items, capacity, 0.0), 0.0))
    return best[1]


def server_full_priced(data: SlotData) -> SlotAnswer:
    """The optimum when no slot is free and queued uploads take no band (reading 'priced'):
    nothing can be admitted now and nothing shares the band, so the problem is separable and
    each candidate takes its best alternative, queued when that is worth more than 0 (what
    the search returns on such a slot, without building it: at PRADA's Table 3 the server is
    full in almost every slot)."""
    queued = []
    bound = 0.0
    for i in data.candidates:
        value, queue = best_alternative(data, i)
        if queue:
            queued.append(i)
            bound += value
    return SlotAnswer(
        Status.OPTIMAL,
        frozenset(),
        frozenset(queued),
        bound=bound,
        message="server full, queued uploads priced: each candidate's best alternative",
    )


def server_full_shared(data: SlotData) -> SlotAnswer | None:
    """The optimum when no slot is free and queued uploads share the band, if the dual
    certifies queueing every item: then the problem is ``max over Q of sum r_i - (sum u_i)^2``
    over the items with ``r_i > u_i^2``, and for every t, ``(sum u)^2 >= 2 t sum u - t^2``
    bounds any Q by ``t^2 + sum_i max(0, r_i - 2 t u_i)``. At t = U, the sum of u over all the
    items, that bound is the value of queueing all of them when every ``r_i >= 2 U u_i``
    (each item pays for its share of the penalty at the full set): optimal, no search needed
    (at PRADA's Table 3 the server is full in almost every slot and uploads are small).
    None when the certificate fails: the search decides."""
    scale = data.beta_per_ms / data.bandwidth_mhz
    items = []
    for i in data.candidates:
        value, weight2 = data.queue_value(i), scale * data.upload[i]
        if value > weight2:
            items.append((i, value, math.sqrt(weight2)))
    total = sum(u for _, _, u in items)
    if any(r < 2.0 * total * u for _, r, u in items):
        return None
    value = sum(r for _, r, _ in items) - total * total
    return SlotAnswer(
        Status.OPTIMAL,
        frozenset(),
        frozenset(i for i, _, _ in items),
        bound=value,
        message="server full, queued uploads shared: every worthwhile upload queued, "
        "certified by the dual at the full set",
    )


def solve_closed_form(data: SlotData, time_limit: float | None = None) -> SlotAnswer:
    """Exact inner solve of mode ``given``: the server-full slot directly where it is
    separable (priced) or the dual certifies it (shared), else branch-and-bound (module
    docstring)."""
    if data.free_slots == 0:
        if not data.shared:
            return server_full_priced(data)
        certified = server_full_shared(data)
        if certified is not None:
            return certified
    return branch_and_bound(data, time_limit)


def branch_and_bound(data: SlotData, time_limit: float | None = None) -> SlotAnswer:
    """The search of the module docstring on one slot."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    items = search_items(data)
    search = search_of(items, data.free_slots, deadline)
    root = search.upper_bound(0, 0.0, 0.0, data.free_slots) if items.gains else -math.inf
    binding = len(items.gains) > data.free_slots  # else lambda = 0 is best
    if items.queue_gains and binding and root > search.best_value + search.tolerance:
        # the root does not prune: tighten the dual's slot price before searching
        items = at_slot_price(items, best_slot_price(items, data.free_slots))
        search = search_of(items, data.free_slots, deadline)
    search.run()
    immediate = frozenset(items.positions[k] for k, c in search.best_items if c == IMMEDIATE)
    queued = frozenset(items.positions[k] for k, c in search.best_items if c == QUEUED)
    queued |= items.queued_alternative - immediate
    if search.timed_out:
        return SlotAnswer(
            Status.TIME_LIMIT,
            immediate,
            queued,
            message=f"time limit after {search.nodes} nodes; no bound proven",
        )
    bound = items.base + max(search.best_value, search.pruned_bound)
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
    "B_i ~ sqrt(c_i) over the uploading set; queue.upload 'priced' or 'shared'); proves "
    "optimality with queue.delay 'given'. With 'estimate' it "
    "iterates the queue-delay fixed point with this exact inner solve: status 'feasible', "
    "a fixed point, not a proven optimum",
    options=(Option("kmax", int, K_MAX, "most fixed-point iterations in mode 'estimate'"),),
    per_slot=per_slot_of(solve_closed_form),
)
def exact(
    instance: AdmissionInstance, *, time_limit: float | None = None, kmax: int = K_MAX
) -> SolverResult:
    return solve_slot(instance, solve_closed_form, time_limit=time_limit, kmax=kmax)
