"""An incumbent for the lexicographic assignment MILP rounded from its LP relaxation
(admission variant), used by ``exact`` to prove S* without branching and as the MIP start of
stage 2.

Why: at 3,000 tasks the MILP's root bound on S is already integral-tight (its LP value
floors to S*), but the tasks must then fill the FLOP budgets (1d) almost exactly, and HiGHS's
heuristics do not find such a packing within minutes. The LP solution itself is nearly one:
a basic solution of the relaxation with the deployments fixed has few fractional x (at most
about one per tight row), so rounding it and repairing the budgets it overfills reaches S*.

Steps (``exact`` solves the LPs, :func:`lp_packing` the rest): the deployments per edge are
the storage-feasible model set (1b) with the most LP deployment weight
(:func:`chosen_deployments`); with them fixed, the LP of min T subject to
``S >= count`` gives each task a server; the ``count`` tasks the LP serves most are put on
the server of their largest x; then the budgets are repaired (:func:`repair`) by moves and
swaps between servers and replacements by rejected tasks, each the one that adds the least T
per unit of overflow removed; a server that cannot be repaired drops its largest tasks; then
exchanges of the same kinds that lower T (:func:`improve`). The result is a feasible
assignment (checked by the evaluator by the caller) that serves at most ``count`` tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opt_offload.tolerance import tolerated

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
                np.inf if s.compute_budget_flop is None else tolerated(s.compute_budget_flop)
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
        packing.assigned[i] = first[i]  # -1 for a task without an allowed pair


def overflow_price(gain: np.ndarray, added_t: np.ndarray) -> np.ndarray:
    """T added per unit of overflow removed (inf where none is removed): the repair takes
    the cheapest, so that it keeps the LP's low-T servers where it can."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gain > MIN_GAIN, added_t / gain, np.inf)


@dataclass(frozen=True)
class Exchanges:
    """Every exchange between server b and ``c`` (another server, or None: the rejected
    tasks): row a sends ``leaving[a]`` to pair ``sent[a]`` (-1: rejected), column z brings
    ``coming[z]`` to b on pair ``received[z]`` (-1 in column 0 of a server: nothing comes
    back, a move); the loads of b and c after each, and the T it adds."""

    leaving: np.ndarray
    sent: np.ndarray
    coming: np.ndarray
    received: np.ndarray
    load_b: np.ndarray
    load_c: np.ndarray
    added_t: np.ndarray

    def apply(self, packing: Packing, a: int, z: int) -> None:
        packing.assigned[self.leaving[a]] = self.sent[a]
        if self.coming[z] >= 0:
            packing.assigned[self.coming[z]] = self.received[z]


def exchanges(packing: Packing, b: int, c: int | None, load: np.ndarray) -> Exchanges | None:
    """The exchanges of server b with server c, or with the rejected tasks for c None (a task
    of b rejected for one that b takes instead: S stays); None where there are none."""
    w, t = packing.data.workload, packing.data.transmission
    here = packing.on(b)
    if c is None:
        leaving, sent = here, np.full(len(here), -1)
        coming = np.flatnonzero(packing.assigned < 0)
    else:
        leaving = here[packing.pair_at[here, c] >= 0]
        sent = packing.pair_at[leaving, c]
        there = packing.on(c)
        coming = np.concatenate(([-1], there[packing.pair_at[there, b] >= 0]))
    received = np.where(coming >= 0, packing.pair_at[np.maximum(coming, 0), b], -1)
    keep = (coming < 0) | (received >= 0)
    coming, received = coming[keep], received[keep]
    if not len(leaving) or (c is None and not (received >= 0).any()):
        return None
    out = packing.assigned[leaving]
    w_sent = np.where(sent >= 0, w[np.maximum(sent, 0)], 0.0)
    t_sent = np.where(sent >= 0, t[np.maximum(sent, 0)], 0.0)
    back = coming >= 0
    w_in = np.where(back, w[np.maximum(received, 0)], 0.0)
    t_in = np.where(back, t[np.maximum(received, 0)], 0.0)
    # what the task coming back carried on c (nothing for a rejected one)
    w_out = np.zeros(len(coming))
    t_out = np.zeros(len(coming))
    if c is not None:
        w_out[back] = w[packing.assigned[coming[back]]]
        t_out[back] = t[packing.assigned[coming[back]]]
    load_b = load[b] - w[out][:, None] + w_in[None, :]
    load_c = (0.0 if c is None else load[c]) + w_sent[:, None] - w_out[None, :]
    added_t = (t_sent - t[out])[:, None] + (t_in - t_out)[None, :]
    return Exchanges(leaving, sent, coming, received, load_b, load_c, added_t)


def overflow_after(packing: Packing, j: int | None, load: np.ndarray) -> np.ndarray:
    """Overflow of server j (as :meth:`Packing.overflow`) at these loads; 0 for None."""
    return 0.0 if j is None else np.maximum(load / packing.budget[j] - 1.0, 0.0)


def partners(packing: Packing, b: int) -> list[int | None]:
    """The other servers, and None for the rejected tasks."""
    return [c for c in range(len(packing.budget)) if c != b] + [None]


def repair(packing: Packing) -> None:
    """Remove every budget overflow: from the most overflowing server, the exchange (a move,
    a swap with another server, a replacement by a rejected task) that adds the least T per
    unit of overflow removed; when none removes any, that server drops its largest task."""
    w = packing.data.workload
    for _ in range(REPAIR_STEPS):
        load = packing.load()
        over = packing.overflow(load)
        if not (over > 0).any():
            return
        b = int(np.argmax(over))
        best, best_price = None, np.inf
        for c in partners(packing, b):
            if (found := exchanges(packing, b, c, load)) is None:
                continue
            before = over[b] + (0.0 if c is None else over[c])
            gain = before - overflow_after(packing, b, found.load_b)
            gain = gain - overflow_after(packing, c, found.load_c)
            price = overflow_price(gain, found.added_t)
            a, z = np.unravel_index(int(np.argmin(price)), price.shape)
            if price[a, z] < best_price:
                best, best_price = (found, a, z), price[a, z]
        if best is None:
            here = packing.on(b)
            packing.assigned[here[np.argmax(w[packing.assigned[here]])]] = -1
            continue
        found, a, z = best
        found.apply(packing, a, z)
    while (over := packing.overflow(packing.load())).any():  # the steps ran out: drop
        here = packing.on(int(np.argmax(over)))
        packing.assigned[here[np.argmax(w[packing.assigned[here]])]] = -1


def improve(packing: Packing, passes: int = IMPROVE_PASSES) -> None:
    """Lower T keeping S and every budget: for each server and partner (another server or
    the rejected tasks), the exchange within both budgets that lowers T the most, until a
    pass finds none."""
    budget = packing.budget
    for _ in range(passes):
        found_any = False
        for b in range(len(budget)):
            for c in partners(packing, b):
                if (found := exchanges(packing, b, c, packing.load())) is None:
                    continue
                fits = found.load_b <= budget[b]
                if c is not None:
                    fits &= found.load_c <= budget[c]
                added_t = np.where(fits, found.added_t, 0.0)
                a, z = np.unravel_index(int(np.argmin(added_t)), added_t.shape)
                if added_t[a, z] < -1e-12:
                    found.apply(packing, a, z)
                    found_any = True
        if not found_any:
            return


def lp_packing(data, x_lp: np.ndarray, y: np.ndarray, count: int) -> np.ndarray:
    """0/1 x serving at most ``count`` tasks, rounded from ``x_lp`` (an LP solution with the
    deployments ``y`` fixed) and repaired: every budget (1d) holds (up to rounding)."""
    packing = Packing(data, y)
    round_lp(packing, x_lp, count)
    repair(packing)
    improve(packing)
    return packing.x()
