"""Kernighan-Lin bisection (networkx) for two devices, the graph-partitioning baseline of
design §6.

KL swaps pairs of nodes between the two sides to lower the weight of the cut, keeping the
number of nodes per side; it knows neither memory nor pins. So: the undirected weight of an
edge is its transfer time averaged over the two directions; the first-fit-decreasing placement
(which respects memory, pins and the compute bound) is the starting partition; pinned tensors
go back to their device afterwards. If the result breaks (2a) or the compute bound, the
solver returns its (feasible) start and says so.
"""

from __future__ import annotations

import networkx as nx

from opt_offload.registry import Option, SolverResult, non_negative, register
from opt_offload.schemas import PlacementInstance, Status

from .baselines import first_fit_decreasing
from .capacity import overloaded


def two_devices_graph_objective(instance: PlacementInstance) -> str | None:
    if len(instance.devices) != 2:
        return f"kl bisects between two devices; this instance has {len(instance.devices)}"
    if instance.objective != "graph":
        return "kl minimises a cut; eq. (2) (objective paper) has no edges to cut"
    return None


def undirected_weights(instance: PlacementInstance) -> nx.Graph:
    a, b = (d.id for d in instance.devices)
    seconds_per_byte = (1 / instance.rate(a, b) + 1 / instance.rate(b, a)) / 2
    graph = nx.Graph()
    graph.add_nodes_from(n.id for n in instance.graph.nodes)
    for edge in instance.graph.edges:
        if edge.source == edge.target:
            continue
        weight = edge.bytes * seconds_per_byte
        if graph.has_edge(edge.source, edge.target):
            weight += graph[edge.source][edge.target]["weight"]
        graph.add_edge(edge.source, edge.target, weight=weight)
    return graph


@register(
    "placement",
    "kl",
    exact=False,
    description="Kernighan-Lin bisection (networkx) from the first-fit-decreasing placement, "
    "two devices, graph objective; pins restored afterwards",
    options=(
        Option("max_iter", int, 10, "KL passes"),
        Option("seed", int, 0, "seed of networkx's tie-breaking", valid=non_negative),
    ),
    supports=two_devices_graph_objective,
)
def kernighan_lin(
    instance: PlacementInstance,
    *,
    time_limit: float | None = None,
    max_iter: int = 10,
    seed: int = 0,
) -> SolverResult:
    start = first_fit_decreasing(instance)
    if start.decisions is None:
        return SolverResult(Status.GAVE_UP, None, message=f"no start: {start.message}")
    a, b = (d.id for d in instance.devices)
    side_a = {n for n, d in start.decisions.items() if d == a}
    side_b = set(start.decisions) - side_a
    if not side_a or not side_b:
        # KL swaps pairs across the cut; with one side empty there is nothing to swap
        return SolverResult(Status.FEASIBLE, start.decisions, message="one side empty; no swaps")
    side_a, side_b = nx.community.kernighan_lin_bisection(
        undirected_weights(instance),
        partition=(side_a, side_b),
        max_iter=max_iter,
        weight="weight",
        seed=seed,
    )
    decisions = {**{n: a for n in side_a}, **{n: b for n in side_b}, **instance.pinned}
    full = overloaded(instance, decisions)
    if full:
        message = f"KL's swaps overfill {', '.join(full)}; its start is returned"
        return SolverResult(Status.FEASIBLE, start.decisions, message=message)
    return SolverResult(Status.FEASIBLE, decisions)
