"""An incumbent for the lexicographic assignment MILP rounded from its LP relaxation
(admission variant), used by ``exact`` to prove S* without branching and as the MIP start of
stage 2.

Why: at 3,000 tasks the MILP's root bound on S is already integral-tight (its LP value
floors to S*), but the tasks must then fill the FLOP budgets (1d) almost exactly, and HiGHS's
heuristics do not find such a packing within minutes. The LP solution itself is nearly one:
a basic solution of the relaxation with the deployments fixed has few fractional x (at most
about one per tight row), so rounding it and repairing the budgets it overfills reaches S*.

Steps (:func:`lp_packing`): the deployments per edge are the storage-feasible model set (1b)
with the most LP deployment weight; with them fixed, the LP of min T subject to
``S >= count`` gives each task a server; the ``count`` tasks the LP serves most are put on
the server of their largest x; then the budgets are repaired (:func:`repair`) by moves and
swaps between servers and replacements by rejected tasks, each the one that adds the least T
per unit of overflow removed; a server that cannot be repaired drops its largest tasks; then
moves and swaps that lower T (:func:`improve`). The result is a feasible
assignment (checked by the evaluator by the caller) that serves at most ``count`` tasks.
"""

from __future__ import annotations

import itertools

import numpy as np

from opt_offload.tolerance import REL_TOL

from .lagrangian import maximal_model_sets

REPAIR_STEPS = 5000  # moves and swaps tried before a server drops tasks
MIN_GAIN = 1e-12  # overflow (a share of the budget) an exchange must remove
IMPROVE_PASSES = 20  # passes over every pair of servers that lower T


def chosen_deployments(data, y_lp: np.ndarray) -> np.ndarray:
    """0/1 y: per edge the maximal model set that fits its storage (1b) with the largest
    sum of LP y over its models."""
    y = np.zeros(len(data.deployments))
    position = {d: q for q, d in enumerate(data.deployments)}
    for j, rows in enumerate(data.deployments_of_server()):
        if not rows:
            continue
        sets = maximal_model_sets(data, j)
        weight = [sum(y_lp[position[(j, k)]] for k in s) for s in sets]
        for k in sets[int(np.argmax(weight))]:
            y[position[(j, k)]] = 1.0
    return y


class Packing:
    """Tasks on servers under fixed deployments: the pair of each task (-1: rejected) and
    each server's load and its ``budget`` (inf: none); the pairs the deployments allow, by
    (task, server)."""

    def __init__(self, data, y: np.ndarray):
        self.data = data
        pairs = np.array(data.pairs, dtype=int).reshape(-1, 2)
        self.task, self.server = pairs[:, 0], pairs[:, 1]
        allowed = np.ones(len(pairs), dtype=bool)
        for p, q in data.deployment_of_pair.items():
            allowed[p] = y[q] > 0.5
        self.allowed = allowed
        servers = data.instance.servers
        # the largest load the evaluator accepts (the shared tolerance): budgets of 0 FLOP
        # with tasks of 1e-80 FLOP pass the pair filter
        self.budget = np.array(
            [
                np.inf
                if s.compute_budget_flop is None
                else s.compute_budget_flop + REL_TOL * max(1.0, abs(s.compute_budget_flop))
                for s in servers
            ]
        )
        self.pair_at = np.full((len(data.instance.tasks), len(servers)), -1, dtype=int)
        self.pair_at[self.task[allowed], self.server[allowed]] = np.flatnonzero(allowed)
        self.assigned = np.full(len(data.instance.tasks), -1, dtype=int)

    def load(self) -> np.ndarray:
        p = self.assigned[self.assigned >= 0]
        return np.bincount(
            self.server[p], weights=self.data.workload[p], minlength=len(self.budget)
        )

    def overflow(self, load: np.ndarray) -> np.ndarray:
        """Load above the budget as a share of it (0 where it fits)."""
        return np.maximum(load / self.budget - 1.0, 0.0)

    def on(self, j: int) -> np.ndarray:
        """Tasks on server j."""
        served = np.flatnonzero(self.assigned >= 0)
        return served[self.server[self.assigned[served]] == j]

    def x(self) -> np.ndarray:
        x = np.zeros(len(self.data.pairs))
        x[self.assigned[self.assigned >= 0]] = 1.0
        return x


def round_lp(packing: Packing, x_lp: np.ndarray, count: int) -> None:
    """The ``count`` tasks the LP serves most (ties: the smaller workload share) on the
    allowed server of their largest x (ties: the lower Ltrans)."""
    data, task = packing.data, packing.task
    allowed = np.flatnonzero(packing.allowed)
    served = np.bincount(task[allowed], weights=x_lp[allowed], minlength=len(packing.assigned))
    share = np.full(len(packing.assigned), np.inf)
    np.minimum.at(
        share, task[allowed], data.workload[allowed] / packing.budget[packing.server[allowed]]
    )
    order = np.lexsort((share, -np.round(served, 9)))
    # per task, the allowed pair of largest x, then lowest Ltrans
    ranked = allowed[np.lexsort((data.transmission[allowed], -x_lp[allowed], task[allowed]))]
    tasks, head = np.unique(task[ranked], return_index=True)
    first = np.full(len(packing.assigned), -1, dtype=int)
    first[tasks] = ranked[head]
    for i in order[:count]:
        if first[i] >= 0 and np.isfinite(share[i]):
            packing.assigned[i] = first[i]


def overflow_price(gain: np.ndarray, added_t: np.ndarray) -> np.ndarray:
    """T added per unit of overflow removed (inf where none is removed): the repair takes
    the cheapest, so that it keeps the LP's low-T servers where it can."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gain > MIN_GAIN, added_t / gain, np.inf)


def best_exchange(packing: Packing, b: int, load: np.ndarray):
    """The move (a task of server b to another server) or swap (with a task there) that
    adds the least T per unit of overflow removed (:func:`overflow_price`), as (task, its new
    pair, the task coming back and its pair or None), and that price; None if none removes
    any overflow."""
    data, pair_at, budget = packing.data, packing.pair_at, packing.budget
    w, t = data.workload, data.transmission
    over = packing.overflow(load)
    here = packing.on(b)
    best, best_price = None, np.inf
    for c in range(len(budget)):
        if c == b:
            continue
        movers = here[pair_at[here, c] >= 0]
        if not len(movers):
            continue
        there = packing.on(c)
        there = there[pair_at[there, b] >= 0]
        from_b, to_c = packing.assigned[movers], pair_at[movers, c]
        # column 0: no task comes back (a move); the others swap one task of c into b
        back_from = np.concatenate(([-1], packing.assigned[there]))
        back_to = np.concatenate(([-1], pair_at[there, b]))
        w_from, w_to = np.append(0.0, w[back_from[1:]]), np.append(0.0, w[back_to[1:]])
        t_from, t_to = np.append(0.0, t[back_from[1:]]), np.append(0.0, t[back_to[1:]])
        load_b = load[b] - w[from_b][:, None] + w_to[None, :]
        load_c = load[c] + w[to_c][:, None] - w_from[None, :]
        gain = (
            over[b]
            + over[c]
            - np.maximum(load_b / budget[b] - 1.0, 0.0)
            - np.maximum(load_c / budget[c] - 1.0, 0.0)
        )
        added_t = (t[to_c] - t[from_b])[:, None] + (t_to - t_from)[None, :]
        price = overflow_price(gain, added_t)
        a, z = np.unravel_index(int(np.argmin(price)), price.shape)
        if price[a, z] < best_price:
            best_price = price[a, z]
            best = (movers[a], to_c[a], None if z == 0 else (there[z - 1], back_to[z]))
    return best, best_price


def best_replacement(packing: Packing, b: int, load: np.ndarray):
    """A task of server b rejected for a rejected task that b takes instead (S stays), the
    cheapest as in :func:`best_exchange` and answered as it (the rejected task's pair as
    the task coming back)."""
    data, budget = packing.data, packing.budget
    w, t = data.workload, data.transmission
    here = packing.on(b)
    rejected = np.flatnonzero(packing.assigned < 0)
    entrants = packing.pair_at[rejected, b]
    rejected, entrants = rejected[entrants >= 0], entrants[entrants >= 0]
    if not len(here) or not len(rejected):
        return None, np.inf
    leaving = packing.assigned[here]
    after = load[b] - w[leaving][:, None] + w[entrants][None, :]
    gain = packing.overflow(load)[b] - np.maximum(after / budget[b] - 1.0, 0.0)
    added_t = t[entrants][None, :] - t[leaving][:, None]
    price = overflow_price(gain, added_t)
    a, z = np.unravel_index(int(np.argmin(price)), price.shape)
    if not np.isfinite(price[a, z]):
        return None, np.inf
    return (here[a], -1, (rejected[z], entrants[z])), price[a, z]


def repair(packing: Packing) -> None:
    """Remove every budget overflow: from the most overflowing server, the best exchange
    with another server or a rejected task; when none helps, that server drops its largest
    task."""
    w = packing.data.workload
    for _ in range(REPAIR_STEPS):
        load = packing.load()
        over = packing.overflow(load)
        if not (over > 0).any():
            return
        b = int(np.argmax(over))
        exchange, price = best_exchange(packing, b, load)
        replacement, other = best_replacement(packing, b, load)
        if other < price:
            exchange = replacement
        if exchange is None:
            here = packing.on(b)
            packing.assigned[here[np.argmax(w[packing.assigned[here]])]] = -1
            continue
        mover, to, back = exchange
        packing.assigned[mover] = to
        if back is not None:
            packing.assigned[back[0]] = back[1]
    while (over := packing.overflow(packing.load())).any():  # the steps ran out: drop
        here = packing.on(int(np.argmax(over)))
        packing.assigned[here[np.argmax(w[packing.assigned[here]])]] = -1


def improving_exchange(packing: Packing, b: int, c: int, load: np.ndarray):
    """The move of a task of server b to server c, or its swap with a task of c, that keeps
    both budgets and lowers T the most, as :func:`best_exchange` answers; None if none."""
    data, pair_at, budget = packing.data, packing.pair_at, packing.budget
    w, t = data.workload, data.transmission
    here = packing.on(b)
    movers = here[pair_at[here, c] >= 0]
    if not len(movers):
        return None
    there = packing.on(c)
    there = there[pair_at[there, b] >= 0]
    from_b, to_c = packing.assigned[movers], pair_at[movers, c]
    back_from = np.concatenate(([-1], packing.assigned[there]))
    back_to = np.concatenate(([-1], pair_at[there, b]))
    w_from, w_to = np.append(0.0, w[back_from[1:]]), np.append(0.0, w[back_to[1:]])
    t_from, t_to = np.append(0.0, t[back_from[1:]]), np.append(0.0, t[back_to[1:]])
    fits = (load[b] - w[from_b][:, None] + w_to[None, :] <= budget[b]) & (
        load[c] + w[to_c][:, None] - w_from[None, :] <= budget[c]
    )
    added_t = np.where(fits, (t[to_c] - t[from_b])[:, None] + (t_to - t_from)[None, :], 0.0)
    a, z = np.unravel_index(int(np.argmin(added_t)), added_t.shape)
    if added_t[a, z] >= -1e-12:
        return None
    return movers[a], to_c[a], None if z == 0 else (there[z - 1], back_to[z])


def improving_replacement(packing: Packing, b: int, load: np.ndarray):
    """A task of server b rejected for a rejected task that b takes instead, within b's
    budget, lowering T the most; as :func:`best_exchange` answers; None if none."""
    data, budget = packing.data, packing.budget
    w, t = data.workload, data.transmission
    here = packing.on(b)
    rejected = np.flatnonzero(packing.assigned < 0)
    entrants = packing.pair_at[rejected, b]
    rejected, entrants = rejected[entrants >= 0], entrants[entrants >= 0]
    if not len(here) or not len(rejected):
        return None
    leaving = packing.assigned[here]
    fits = load[b] - w[leaving][:, None] + w[entrants][None, :] <= budget[b]
    added_t = np.where(fits, t[entrants][None, :] - t[leaving][:, None], 0.0)
    a, z = np.unravel_index(int(np.argmin(added_t)), added_t.shape)
    if added_t[a, z] >= -1e-12:
        return None
    return here[a], -1, (rejected[z], entrants[z])


def improve(packing: Packing, passes: int = IMPROVE_PASSES) -> None:
    """Lower T keeping S and every budget: moves and swaps between each pair of servers and
    replacements by rejected tasks, each the best for its pair, until a pass finds none."""
    servers = range(len(packing.budget))
    for _ in range(passes):
        found = False
        for b, c in [*itertools.permutations(servers, 2), *((b, None) for b in servers)]:
            load = packing.load()
            exchange = (
                improving_replacement(packing, b, load)
                if c is None
                else improving_exchange(packing, b, c, load)
            )
            if exchange is not None:
                mover, to, back = exchange
                packing.assigned[mover] = to
                if back is not None:
                    packing.assigned[back[0]] = back[1]
                found = True
        if not found:
            return


def lp_packing(data, x_lp: np.ndarray, y: np.ndarray, count: int) -> np.ndarray:
    """0/1 x serving at most ``count`` tasks, rounded from ``x_lp`` (an LP solution with the
    deployments ``y`` fixed) and repaired: every budget (1d) holds (up to rounding)."""
    packing = Packing(data, y)
    round_lp(packing, x_lp, count)
    repair(packing)
    improve(packing)
    return packing.x()
