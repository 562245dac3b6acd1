"""A Lagrangian bound with a heuristic incumbent for assignment instances past the MILP's
reach (``lagrangian``; admission variant).

Relaxing the assignment rows (1a) ``sum_j x_ij <= 1`` with multipliers ``lambda_i >= 0``
splits the MILP of :mod:`opt_offload.models.assignment` into one problem per server:

    L(lambda) = sum_i lambda_i + sum_j max { sum_i (c_ij - lambda_i) x_ij : (1b)-(1e) on j }

with ``c_ij = 1`` for throughput (max S) and ``w_S - w_T Ltrans_ij`` for the weighted
objective. Each server's problem is solved over every maximal set of models that fits its
storage (1b) (the y are enumerated exactly), and for each set the budget knapsack (1d) is
bounded by its LP relaxation (Dantzig's bound: items by profit per unit of budget, the last
one fractional), so every ``L(lambda)`` is a valid upper bound, at least as strong as the LP
relaxation of the MILP. ``lambda`` follows projected subgradient steps with Polyak's step
length towards the best incumbent (Held, Wolfe and Crowder 1974; Fisher 1981, Manag. Sci. 27).
Written here because no maintained library offers Lagrangian relaxation of a MILP.

Incumbent: the deployment the relaxation chooses on each edge, then tasks in increasing W_i
each to the candidate server with room (1d) that has the lowest Ltrans_ij (greedy, which for a
single knapsack of unit profits is the optimum), tried every few iterations; the best is kept.

The result: for ``lexicographic`` the objective is S and ``bound`` is floor(L) (S is an
integer); status ``optimal`` when the incumbent meets it within ``mip_gap``, else ``feasible``
with the proven gap in the message. T is the greedy's (no bound on T is claimed). For
``weighted`` the bound is on ``w_S S - w_T T`` and is given in the message only.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AssignmentInstance, Status
from opt_offload.tolerance import exceeds

MAX_MODELS = 12  # deployment sets are enumerated: at most 2^12 subsets per edge
ITERATIONS = 400
HEURISTIC_EVERY = 10
STALL = 15  # iterations without a better bound before the step factor is halved


@dataclass(frozen=True)
class ServerBlock:
    """One server's subproblem: its pairs, their budget shares W_ij / Omega_j (None: no
    budget) and, per maximal storage-feasible model set, which of its pairs the set enables."""

    server: int
    pairs: np.ndarray
    share: np.ndarray | None
    model_sets: list[tuple[int, ...]]
    enabled: list[np.ndarray]


@dataclass
class Relaxation:
    value: float
    x: np.ndarray  # fractional, per pair
    choice: list[int]  # model set index per block


def maximal_model_sets(data, j: int) -> list[tuple[int, ...]]:
    """Model indices of every maximal set that fits edge j's storage (1b); the cloud and a
    fixed placement give one set (what the pair filter allows)."""
    rows = data.deployments_of_server()[j]
    if not rows:
        return [tuple(range(len(data.instance.models)))]
    models = [data.deployments[q][1] for q in rows]
    capacity = data.instance.servers[j].storage_gb
    sizes = {k: data.instance.models[k].size_gb for k in models}
    fitting = [
        set(subset)
        for count in range(len(models), 0, -1)
        for subset in itertools.combinations(models, count)
        if not exceeds(sum(sizes[k] for k in subset), capacity)
    ]
    maximal = [s for s in fitting if not any(s < other for other in fitting)]
    return [tuple(sorted(s)) for s in maximal] or [()]


def server_blocks(data) -> list[ServerBlock]:
    model_of_pair = np.array(
        [data.model_index[data.instance.tasks[i].model] for i, _ in data.pairs], dtype=int
    )
    blocks = []
    for j, rows in enumerate(data.pairs_of_server()):
        if not rows:
            continue
        pairs = np.array(rows, dtype=int)
        budget = data.instance.servers[j].compute_budget_flop
        share = None if budget is None else data.workload[pairs] / budget
        sets = maximal_model_sets(data, j)
        enabled = [np.isin(model_of_pair[pairs], list(s)) for s in sets]
        blocks.append(ServerBlock(j, pairs, share, sets, enabled))
    return blocks


def knapsack_bound(profit: np.ndarray, share: np.ndarray | None) -> tuple[float, np.ndarray]:
    """Dantzig's bound of max profit.x, share.x <= 1, 0 <= x <= 1, and its maximiser."""
    x = (profit > 0).astype(float)
    if share is None or share[x > 0].sum() <= 1.0:
        return float(profit[x > 0].sum()), x
    candidates = np.flatnonzero(profit > 0)
    ratio = profit[candidates] / np.maximum(share[candidates], 1e-300)
    order = candidates[np.argsort(-ratio, kind="stable")]
    used = np.cumsum(share[order])
    full = order[used <= 1.0]
    x[:] = 0.0
    x[full] = 1.0
    value = float(profit[full].sum())
    if len(full) < len(order):
        nxt = order[len(full)]
        room = 1.0 - (used[len(full) - 1] if len(full) else 0.0)
        x[nxt] = room / share[nxt]
        value += profit[nxt] * x[nxt]
    return value, x


def relax(blocks: list[ServerBlock], profit: np.ndarray, n_pairs: int) -> Relaxation:
    """Each server's best model set and its knapsack bound, at these pair profits."""
    x = np.zeros(n_pairs)
    total, choice = 0.0, []
    for block in blocks:
        best = (-math.inf, None, 0)
        for s, enabled in enumerate(block.enabled):
            local = np.where(enabled, profit[block.pairs], 0.0)
            value, xs = knapsack_bound(local, block.share)
            if value > best[0]:
                best = (value, xs, s)
        total += best[0]
        x[block.pairs] = best[1]
        choice.append(best[2])
    return Relaxation(total, x, choice)


def greedy(
    data, blocks: list[ServerBlock], relaxation: Relaxation, profit: np.ndarray
) -> np.ndarray:
    """0/1 x from the relaxed solution: its deployments; then the tasks the relaxation serves
    (largest x first), then the others, each by increasing W_i, each to a candidate server
    with room (1d, the evaluator's tolerance), the relaxation's pair first, then the lowest
    Ltrans_ij; pairs of no profit are left out."""
    choice, relaxed = relaxation.choice, relaxation.x
    allowed = np.zeros(len(data.pairs), dtype=bool)
    for block, s in zip(blocks, choice):
        allowed[block.pairs[block.enabled[s]]] = True
    allowed &= profit > 0
    servers = data.instance.servers
    load = np.zeros(len(servers))
    x = np.zeros(len(data.pairs))
    rows = data.pairs_of_task()
    task_of_pair = np.array([i for i, _ in data.pairs], dtype=int)
    wanted = np.zeros(len(rows))
    np.maximum.at(wanted, task_of_pair, relaxed)
    work = np.array([t.workload_flop for t in data.instance.tasks])
    for i in np.lexsort((work, -np.round(wanted, 6))):
        ranked = sorted(
            (p for p in rows[i] if allowed[p]), key=lambda p: (-relaxed[p], data.transmission[p])
        )
        for p in ranked:
            j = data.pairs[p][1]
            budget = servers[j].compute_budget_flop
            if budget is None or not exceeds(load[j] + data.workload[p], budget):
                load[j] += data.workload[p]
                x[p] = 1.0
                break
    return x


def sequential_packing(data, blocks: list[ServerBlock], profit: np.ndarray):
    """0/1 x and the model set per block, server by server: tasks with fewer candidate
    servers first, then by increasing W_i; each edge takes the model set that packs the most
    of the tasks still unserved (a set's tasks in that order until the budget is full)."""
    rows = data.pairs_of_task()
    candidates = np.array([len(r) for r in rows])
    work = np.array([t.workload_flop for t in data.instance.tasks])
    rank = np.empty(len(rows), dtype=int)
    rank[np.lexsort((work, candidates))] = np.arange(len(rows))
    task_of_pair = np.array([i for i, _ in data.pairs], dtype=int)
    servers = data.instance.servers
    served = np.zeros(len(rows), dtype=bool)
    x = np.zeros(len(data.pairs))
    choice = [0] * len(blocks)
    ordered = sorted(range(len(blocks)), key=lambda b: not servers[blocks[b].server].cloud)
    for b in ordered:
        block = blocks[b]
        budget = servers[block.server].compute_budget_flop
        best: tuple[float, int, list[int]] = (-1.0, 0, [])
        for s, enabled in enumerate(block.enabled):
            pairs = block.pairs[enabled]
            pairs = pairs[~served[task_of_pair[pairs]] & (profit[pairs] > 0)]
            pairs = pairs[np.argsort(rank[task_of_pair[pairs]], kind="stable")]
            taken, load = [], 0.0
            for p in pairs:
                if budget is None or not exceeds(load + data.workload[p], budget):
                    load += data.workload[p]
                    taken.append(int(p))
            gained = float(profit[taken].sum())
            if gained > best[0]:
                best = (gained, s, taken)
        choice[b] = best[1]
        x[best[2]] = 1.0
        served[task_of_pair[best[2]]] = True
    return x, choice


def packed_throughput(data) -> int | None:
    """S of the sequential packing: a lower bound on the optimal S in milliseconds; None
    where the packing does not apply (:func:`unsupported`)."""
    if unsupported(data.instance) is not None:
        return None
    x, _ = sequential_packing(data, server_blocks(data), np.ones(len(data.pairs)))
    return int(x.sum())


def deployment_vector(data, blocks: list[ServerBlock], choice: list[int]) -> np.ndarray:
    y = np.zeros(len(data.deployments))
    position = {d: q for q, d in enumerate(data.deployments)}
    for block, s in zip(blocks, choice):
        for k in block.model_sets[s]:
            if (block.server, k) in position:
                y[position[(block.server, k)]] = 1.0
    return y


def pair_profit(data, mode: str) -> np.ndarray:
    if mode == "weighted":
        weights = data.instance.objective.weights
        return weights.throughput - weights.latency * data.transmission
    return np.ones(len(data.pairs))


def subgradient(data, blocks, profit, time_limit, mip_gap):
    """Projected subgradient on lambda; returns (best bound, best incumbent x, its choice)."""
    start = time.perf_counter()
    task_of_pair = np.array([i for i, _ in data.pairs], dtype=int)
    n_tasks = len(data.instance.tasks)
    cap = np.zeros(n_tasks)
    np.maximum.at(cap, task_of_pair, profit)
    lam = np.zeros(n_tasks)
    bound, best_x, best_value, best_choice = math.inf, None, -math.inf, None
    theta, stall = 2.0, 0
    for iteration in range(ITERATIONS):
        relaxation = relax(blocks, profit - lam[task_of_pair], len(data.pairs))
        value = lam.sum() + relaxation.value
        if value < bound - 1e-9:
            bound, stall = value, 0
        else:
            stall += 1
        if iteration == 0:
            best_x, best_choice = sequential_packing(data, blocks, profit)
            best_value = float(profit @ best_x)
        if iteration % HEURISTIC_EVERY == 0:
            x = greedy(data, blocks, relaxation, profit)
            if (incumbent := float(profit @ x)) > best_value:
                best_x, best_value, best_choice = x, incumbent, relaxation.choice
        if proven(bound, best_value, mip_gap) or over(start, time_limit):
            break
        if stall >= STALL:
            theta, stall = theta / 2, 0
            if theta < 1e-4:
                break
        served = np.bincount(task_of_pair, weights=relaxation.x, minlength=n_tasks)
        gradient = 1.0 - served
        gradient[(lam <= 0) & (gradient > 0)] = 0.0  # projection onto lambda >= 0
        norm = float(gradient @ gradient)
        if norm == 0:
            break  # the relaxed solution is feasible for (1a): L is attained
        step = theta * (value - best_value) / norm
        lam = np.clip(lam - step * gradient, 0.0, cap)
    return bound, best_x, best_value, best_choice


def proven(bound: float, incumbent: float, mip_gap: float) -> bool:
    return bound - incumbent <= mip_gap * max(1.0, abs(bound))


def over(start: float, time_limit: float | None) -> bool:
    return time_limit is not None and time.perf_counter() - start >= time_limit


def unsupported(instance: AssignmentInstance) -> str | None:
    if instance.variant == "strict":
        return "the Lagrangian solver takes the admission variant (a greedy may serve too few)"
    if instance.placement is None:
        most = max((len(instance.models) if not s.cloud else 0) for s in instance.servers)
        if most > MAX_MODELS:
            return f"more than {MAX_MODELS} models per edge to enumerate"
    return None


@register(
    "assignment",
    "lagrangian",
    exact=False,
    description="Lagrangian relaxation of (1a) with exact deployments and LP knapsacks per "
    "server: a proven bound on S (or the weighted value) and a greedy incumbent; admission",
    options=(
        Option(
            "mode",
            str,
            "",
            "lexicographic or weighted; empty: the instance's objective.mode",
            choices=("", "lexicographic", "weighted"),
        ),
        Option("mip_gap", float, 1e-6, "relative gap at which the search stops"),
    ),
    supports=unsupported,
)
def lagrangian(
    instance: AssignmentInstance,
    *,
    time_limit: float | None = None,
    mode: str = "",
    mip_gap: float = 1e-6,
) -> SolverResult:
    from opt_offload.models.assignment import AssignmentData

    data = AssignmentData.of(instance)
    chosen = mode or instance.objective.mode
    if not data.pairs:
        return SolverResult(Status.OPTIMAL, data.decisions(np.zeros(0), None), 0.0)
    blocks = server_blocks(data)
    profit = pair_profit(data, chosen)
    bound, x, value, choice = subgradient(data, blocks, profit, time_limit, mip_gap)
    if chosen == "weighted":
        bound_s = None
        message = f"weighted: w_S S - w_T T = {value:.9g}, Lagrangian bound {bound:.9g}"
    else:
        bound_s = math.floor(bound + 1e-6)
        gap = (bound_s - value) / max(1.0, bound_s)
        message = f"lexicographic: S={value:.0f}, Lagrangian bound {bound_s} (gap {gap:.3%})"
        bound = bound_s
    status = Status.OPTIMAL if proven(bound, value, mip_gap) else Status.FEASIBLE
    decisions = data.decisions(x, deployment_vector(data, blocks, choice))
    return SolverResult(status, decisions, bound_s, message, proves_objective=bound_s is not None)
