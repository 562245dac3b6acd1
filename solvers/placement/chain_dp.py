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
    for node in instance.graph.nodes:
        members.setdefault(stage_of(node), []).append(node.id)
    first_seen = {stage: i for i, stage in enumerate(members)}
    stages = nx.DiGraph()
    stages.add_nodes_from(members)
    nodes = instance.nodes_by_id
    for edge in instance.graph.edges:
        a, b = stage_of(nodes[edge.source]), stage_of(nodes[edge.target])
        if a != b:
            stages.add_edge(a, b)
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
        for u, v, nbytes in data.edges:
            flow[stage[u], stage[v]] += nbytes
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

    def entering_bytes(self, i: int, j: int) -> float:
        """Bytes on edges from stages before i into stages [i, j)."""
        return self.entering[i, j] - self.entering[i, i]

    def fits(self, i: int, j: int, d: int) -> bool:
        """(2a), the compute bound and the pins hold for stages [i, j) on device d."""
        device = self.instance.devices[d]
        bound = self.instance.compute_time_max_s
        return (
            self.barred[j, d] == self.barred[i, d]
            and not exceeds(self.bytes[j] - self.bytes[i], device.memory_bytes)
            and (bound is None or not exceeds(self.compute_s[j, d] - self.compute_s[i, d], bound))
        )

    def node_cost(self, i: int, j: int) -> np.ndarray:
        """[device]: eq. (2) cost of stages [i, j) on each device."""
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


def partition(segments: Segments) -> list[tuple[int, int, int]] | None:
    """The cheapest contiguous partition as (start, end, device index) segments, or None."""
    k, n = len(segments.stages), len(segments.devices)
    sets = np.arange(1 << n)
    # best[j, d, S]: cheapest cost of stages [0, j) whose last segment is on d, devices S used
    best = np.full((k + 1, n, len(sets)), np.inf)
    came_from: dict[State, State] = {}
    paper = segments.instance.objective == "paper"
    for j in range(1, k + 1):
        for i in range(j):
            crossing = 0.0 if paper else segments.entering_bytes(i, j)
            costs = segments.node_cost(i, j) if paper else np.zeros(n)
            for d in range(n):
                if not segments.fits(i, j, d):
                    continue
                bit = 1 << d
                if i == 0:
                    value, origin = costs[d], (0, -1, 0)
                    if value < best[j, d, bit]:
                        best[j, d, bit], came_from[j, d, bit] = value, origin
                    continue
                # the segment on d follows one on p, priced from p to d
                previous = best[i] + crossing * segments.rate[:, d][:, None]
                previous[:, (sets & bit) != 0] = np.inf
                p_best = np.argmin(previous, axis=0)
                values = previous[p_best, sets] + costs[d]
                for used in np.flatnonzero(values < best[j, d, sets | bit]):
                    best[j, d, used | bit] = values[used]
                    came_from[j, d, used | bit] = (i, int(p_best[used]), int(used))
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
