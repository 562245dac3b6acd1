"""Trivial placement baselines."""

from __future__ import annotations

from opt_offload.registry import SolverResult, register
from opt_offload.schemas import PlacementInstance, Status


@register(
    "placement",
    "largest-device",
    exact=False,
    description="every unpinned tensor on the device with the most memory, where it fits",
)
def largest_device(instance: PlacementInstance, *, time_limit: float | None = None) -> SolverResult:
    largest = max(instance.devices, key=lambda d: d.memory_bytes)
    decisions = {n.id: instance.pinned.get(n.id, largest.id) for n in instance.graph.nodes}
    load = sum(n.bytes for n in instance.graph.nodes if decisions[n.id] == largest.id)
    if load > largest.memory_bytes:
        return SolverResult(
            Status.INFEASIBLE,
            None,
            message=f"the tensors need {load:.6g} bytes, "
            f"{largest.id} has {largest.memory_bytes:.6g}",
        )
    return SolverResult(Status.FEASIBLE, decisions)
