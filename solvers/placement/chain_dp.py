"""Contiguous layer partition by dynamic programming (the pipeline-parallel baseline of
design §6).

Tensors are grouped into stages: one per (model, layer) for nodes with a ``layer``, one per
node otherwise. The stage graph must be a DAG; its topological order (ties in file order) is
cut into contiguous segments, each on a different device, subject to (2a), the pins and the
compute bound. State: (stages placed so far, device of the last segment, set of devices used);
``2^D`` sets make it exponential in the number of devices only.

The DP charges an edge (u, v) when v's segment starts and u lies in an earlier one, at the rate
from the previous segment's device. That is exact when every edge joins the same or
consecutive stages (a chain of stages, as in a transformer's layer graph), so on chains the DP
finds the best contiguous partition; the paper objective is a sum over nodes and always exact.
Elsewhere it is a heuristic, and the shared evaluator prices its answer.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from opt_offload.errors import InputError
from opt_offload.models.placement import PlacementData
from opt_offload.registry import SolverResult, register
from opt_offload.schemas import PlacementInstance, Status
from opt_offload.tolerance import exceeds

# The DP visits every (segment start, segment end) pair and keeps best[stage, device, set of
# devices]: quadratic in the stages, exponential in the devices. Larger instances are refused
# up front (solver "cannot take this instance") instead of running for hours.
MAX_STAGES = 1_000
MAX_DEVICES = 10


def stage_of(node) -> tuple:
    return ("layer", node.model, node.layer) if node.layer is not None else ("node", node.id)


def stage_order(instance: PlacementInstance) -> list[list[str]]:
    """Node ids per stage, stages in topological order; a cycle is an InputError."""
    members: dict[tuple, list[str]] = {}
    stage = {}  # node id -> its stage
    for node in instance.graph.nodes:
        stage[node.id] = stage_of(node)
        members.setdefault(stage[node.id], []).append(node.id)
    first_seen = {s: i for i, s in enumerate(members)}
    stages = nx.DiGraph()
    stages.add_nodes_from(members)
    between = ((stage[e.source], stage[e.target]) for e in instance.graph.edges)
    # once each, in file order (the order a cycle is found in)
    stages.add_edges_from(dict.fromkeys((a, b) for a, b in between if a != b))
    try:
        order = list(nx.lexicographical_topological_sort(stages, key=first_seen.get))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(stages)
        path = " -> ".join(members[a][0] for a, _ in cycle) + f" -> {members[cycle[0][0]][0]}"
        raise InputError(
            f"graph: chain-dp needs a DAG of layers; the graph has a cycle {path}"
        ) from None
    return [members[stage] for stage in order]


def prefix(rows: np.ndarray) -> np.ndarray:
    """Prefix sums along axis 0 with a leading zero row: ``p[j] - p[i]`` sums rows [i, j)."""
    return np.concatenate([np.zeros((1, *rows.shape[1:])), np.cumsum(rows, axis=0)])


class Segments:
    """Costs and feasibility of placing stages [i, j) on one device, from prefix sums over the
    stages of the model's coefficient arrays."""

    def __init__(self, instance: PlacementInstance, stages: list[list[str]]):
        self.instance, self.stages = instance, stages
        data = PlacementData(instance)
        self.devices = data.devices
        index = {n: i for i, n in enumerate(data.nodes)}
        k = len(stages)
        stage = np.empty(len(data.nodes), dtype=np.int64)  # [node]: its stage
        for s, members in enumerate(stages):
            stage[[index[n] for n in members]] = s
        flow = np.zeros((k, k))  # [stage, stage]: bytes on the edges between them
        if data.edges:
            u, v, nbytes = (np.array(column) for column in zip(*data.edges))
            np.add.at(flow, (stage[u.astype(np.int64)], stage[v.astype(np.int64)]), nbytes)
        # entering[i, j]: bytes from stages before i into stages before j
        self.entering = prefix(prefix(flow).T).T
        self.rate = data.seconds_per_byte
        self.bytes = prefix(per_stage(stage, k, data.node_bytes))
        self.compute_s = prefix(per_stage(stage, k, data.compute_s))
        self.paper = prefix(per_stage(stage, k, data.paper_cost))
        barred = np.zeros((k, len(self.devices)))  # [stage, device]: pins elsewhere
        for p, d in data.pinned.items():
            barred[stage[p]] += 1.0
            barred[stage[p], d] -= 1.0
        self.barred = prefix(barred)

    def entering_bytes(self, i: np.ndarray, j: int) -> np.ndarray:
        """[start]: bytes on edges from stages before i into stages [i, j), for each start i."""
        return self.entering[i, j] - self.entering[i, i]

    def fits(self, i: np.ndarray, j: int, d: int) -> np.ndarray:
        """[start]: whether (2a), the compute bound and the pins hold for stages [i, j) on
        device d, for each start i."""
        device = self.instance.devices[d]
        bound = self.instance.compute_time_max_s
        fit = (self.barred[j, d] == self.barred[i, d]) & ~exceeds(
            self.bytes[j] - self.bytes[i], device.memory_bytes
        )
        if bound is not None:
            fit &= ~exceeds(self.compute_s[j, d] - self.compute_s[i, d], bound)
        return fit

    def node_cost(self, i: np.ndarray, j: int) -> np.ndarray:
        """[start, device]: eq. (2) cost of stages [i, j) on each device, for each start i."""
        return self.paper[j] - self.paper[i]


def per_stage(stage: np.ndarray, count: int, values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (one per node) summed by stage."""
    total = np.zeros((count, *values.shape[1:]))
    np.add.at(total, stage, values)
    return total


def size_limits(instance: PlacementInstance) -> str | None:
    """Why the DP refuses the instance (too many stages or devices), or None."""
    stages = len({stage_of(node) for node in instance.graph.nodes})
    if stages > MAX_STAGES:
        return f"{stages} layer stages, above the chain-dp limit of {MAX_STAGES}"
    if len(instance.devices) > MAX_DEVICES:
        return f"{len(instance.devices)} devices, above the chain-dp limit of {MAX_DEVICES}"
    return None


State = tuple[int, int, int]  # (stages placed, device of the last segment, devices used)

# Segment starts handled at once: the DP's arrays [start, previous device, set of devices] are
# kept to about this many entries (8 MB), whatever the number of devices.
BLOCK_ENTRIES = 1 << 20


def partition(segments: Segments) -> list[tuple[int, int, int]] | None:
    """The cheapest contiguous partition as (start, end, device index) segments, or None."""
    k, n = len(segments.stages), len(segments.devices)
    sets = np.arange(1 << n)
    # best[j, d, S]: cheapest cost of stages [0, j) whose last segment is on d, devices S used
    best = np.full((k + 1, n, len(sets)), np.inf)
    came_from: dict[State, State] = {}
    paper = segments.instance.objective == "paper"
    block = max(1, BLOCK_ENTRIES // (n * len(sets)))
    for j in range(1, k + 1):
        starts = np.arange(j)
        crossing = np.zeros(j) if paper else segments.entering_bytes(starts, j)
        costs = segments.node_cost(starts, j) if paper else np.zeros((j, n))  # [start, device]
        for d in range(n):
            fits = segments.fits(starts, j, d)
            bit = 1 << d
            if fits[0] and costs[0, d] < best[j, d, bit]:  # one segment [0, j) on d
                best[j, d, bit], came_from[j, d, bit] = costs[0, d], (0, -1, 0)
            following = np.flatnonzero(fits[1:]) + 1
            # starts in increasing order, a later one kept only if strictly cheaper
            for first in range(0, len(following), block):
                follow(
                    segments,
                    best,
                    came_from,
                    j,
                    d,
                    following[first : first + block],
                    crossing,
                    costs,
                )
    if not np.isfinite(best[k]).any():
        return None
    d, used = np.unravel_index(np.argmin(best[k]), best[k].shape)
    state: State = (k, int(d), int(used))
    result = []
    while state[0] > 0:
        origin = came_from[state]
        result.append((origin[0], state[0], state[1]))
        state = origin
    return result[::-1]


def follow(
    segments: Segments,
    best: np.ndarray,
    came_from: dict[State, State],
    j: int,
    d: int,
    starts: np.ndarray,
    crossing: np.ndarray,
    costs: np.ndarray,
) -> None:
    """Relax best[j, d] with a segment [i, j) on d after one ending at i, for the starts i
    given (increasing): the segment on d follows one on p, priced from p to d; for each set,
    the cheapest previous device (the first of equals) and the earliest cheapest start win."""
    sets = np.arange(best.shape[2])
    bit = 1 << d
    # [start, previous device, set]
    previous = best[starts] + crossing[starts, None, None] * segments.rate[:, d][None, :, None]
    previous[:, :, (sets & bit) != 0] = np.inf
    p_best = np.argmin(previous, axis=1)  # [start, set]
    values = np.take_along_axis(previous, p_best[:, None, :], axis=1)[:, 0, :]
    values += costs[starts, d][:, None]
    values[np.isnan(values)] = np.inf  # never cheaper, as a comparison with NaN is false
    chosen = np.argmin(values, axis=0)  # [set]: the earliest start at the minimum
    cheapest = values[chosen, sets]
    for used in np.flatnonzero(cheapest < best[j, d, sets | bit]):
        best[j, d, used | bit] = cheapest[used]
        i = int(starts[chosen[used]])
        came_from[j, d, used | bit] = (i, int(p_best[chosen[used], used]), int(used))


@register(
    "placement",
    "chain-dp",
    exact=False,
    description="contiguous partition of the layers (topological order) into one segment per "
    "device, by dynamic programming; exact among such partitions on chains of layers",
    supports=size_limits,
)
def chain_dp(instance: PlacementInstance, *, time_limit: float | None = None) -> SolverResult:
    stages = stage_order(instance)
    segments = Segments(instance, stages)
    found = partition(segments)
    if found is None:
        return SolverResult(
            Status.GAVE_UP,
            None,
            message="no contiguous partition with one segment per device fits",
        )
    decisions = {
        node: segments.devices[d]
        for i, j, d in found
        for members in stages[i:j]
        for node in members
    }
    return SolverResult(Status.FEASIBLE, decisions)
