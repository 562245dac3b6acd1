"""Simple placement baselines: everything on the largest device, and first-fit decreasing."""

from __future__ import annotations

from opt_offload.registry import SolverResult, register
from opt_offload.schemas import PlacementInstance, Status

from .capacity import Capacity, overloaded


@register(
    "placement",
    "largest-device",
    exact=False,
    description="every unpinned tensor on the device with the most memory, where it fits",
)
def largest_device(instance: PlacementInstance, *, time_limit: float | None = None) -> SolverResult:
    largest = max(instance.devices, key=lambda d: d.memory_bytes)
    decisions = {n.id: instance.pinned.get(n.id, largest.id) for n in instance.graph.nodes}
    full = overloaded(instance, decisions)
    if full:
        load = sum(n.bytes for n in instance.graph.nodes if decisions[n.id] == largest.id)
        return SolverResult(
            Status.GAVE_UP,
            None,
            message=f"{', '.join(full)} over memory or compute bound; the tensors on "
            f"{largest.id} need {load:.6g} bytes, it has {largest.memory_bytes:.6g}",
        )
    return SolverResult(Status.FEASIBLE, decisions)


@register(
    "placement",
    "ffd",
    exact=False,
    description="first-fit decreasing: pinned tensors first, then the others from the largest "
    "down, each on the first device (most memory first) with room in memory and compute time",
)
def first_fit_decreasing(
    instance: PlacementInstance, *, time_limit: float | None = None
) -> SolverResult:
    capacity = Capacity(instance)
    decisions = {}
    for node, device in instance.pinned.items():
        if not capacity.fits([node], device):
            return SolverResult(Status.GAVE_UP, None, message=f"pinned {node} overfills {device}")
        capacity.add([node], device)
        decisions[node] = device
    devices = sorted(instance.devices, key=lambda d: -d.memory_bytes)
    free = [n for n in instance.graph.nodes if n.id not in instance.pinned]
    for node in sorted(free, key=lambda n: -n.bytes):
        device = next((d.id for d in devices if capacity.fits([node.id], d.id)), None)
        if device is None:
            return SolverResult(Status.GAVE_UP, None, message=f"no device has room for {node.id}")
        capacity.add([node.id], device)
        decisions[node.id] = device
    return SolverResult(Status.FEASIBLE, decisions)
