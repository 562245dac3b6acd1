"""What the placement heuristics share: the room left on each device under (2a) and the
compute-balance bound."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opt_offload.schemas import PlacementInstance
from opt_offload.tolerance import exceeds


class Capacity:
    """Memory (2a) and compute time (the optional bound) used so far on each device."""

    def __init__(self, instance: PlacementInstance):
        self.instance = instance
        self.memory = {d.id: 0.0 for d in instance.devices}
        self.compute_s = {d.id: 0.0 for d in instance.devices}

    def _after(self, nodes: Iterable[str], device: str) -> tuple[float, float]:
        nodes_by_id = self.instance.nodes_by_id
        flops = self.instance.devices_by_id[device].flops
        nodes = list(nodes)
        memory = self.memory[device] + sum(nodes_by_id[n].bytes for n in nodes)
        compute = self.compute_s[device] + sum(nodes_by_id[n].flop for n in nodes) / flops
        return memory, compute

    def fits(self, nodes: Iterable[str], device: str) -> bool:
        memory, compute = self._after(nodes, device)
        bound = self.instance.compute_time_max_s
        over_memory = exceeds(memory, self.instance.devices_by_id[device].memory_bytes)
        return not over_memory and (bound is None or not exceeds(compute, bound))

    def add(self, nodes: Iterable[str], device: str) -> None:
        self.memory[device], self.compute_s[device] = self._after(nodes, device)


def overloaded(instance: PlacementInstance, placement: Mapping[str, str]) -> list[str]:
    """The devices whose memory (2a) or compute bound the placement breaks."""
    capacity = Capacity(instance)
    return [
        device.id
        for device in instance.devices
        if not capacity.fits([n for n, d in placement.items() if d == device.id], device.id)
    ]
