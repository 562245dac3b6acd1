"""Evaluator of problem C, tensor placement (design §6, 003 paper eqs. 2, 2a-2b).

Decisions map every node id to a device id. Objective (seconds, to minimise):

- ``graph``: sum over edges (u, v) placed on different devices of bytes(u, v) / B(dev u, dev v);
- ``paper``: eq. (2) verbatim. Its sums run over all ordered device pairs and
  ``x_{p,d1} (1 - x_{p,d2})`` is 1 exactly when p sits on d1 and d2 != d1, so a tensor p on
  device d costs Size(p) / B(d, d2) for every other device d2, provided Acc(p) holds for the
  pair, i.e. both d and d2 are among the devices that access p.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ..schemas import PlacementInstance
from ..tolerance import exceeds
from .result import Evaluation, objective_sense


def graph_transfer_s(instance: PlacementInstance, placement: Mapping[str, str]) -> float:
    """The cut cost of design §6: bytes crossing devices over the directed link rate."""
    total = 0.0
    for edge in instance.graph.edges:
        d1, d2 = placement[edge.source], placement[edge.target]
        if d1 != d2:
            total += edge.bytes / instance.rate(d1, d2)
    return total


def paper_transfer_s(instance: PlacementInstance, placement: Mapping[str, str]) -> float:
    """Eq. (2) verbatim (see the module docstring for the reading)."""
    total = 0.0
    for node in instance.graph.nodes:
        home = placement[node.id]
        if home not in node.accessed_by:
            continue
        total += sum(node.bytes / instance.rate(home, d2) for d2 in node.accessed_by if d2 != home)
    return total


TRANSFER = {"graph": graph_transfer_s, "paper": paper_transfer_s}


def evaluate_placement(instance: PlacementInstance, decisions: Mapping[str, Any]) -> Evaluation:
    nodes = instance.nodes_by_id
    devices = instance.devices_by_id
    problems = [f"decisions.{k}: unknown node" for k in decisions if k not in nodes]
    for node_id in nodes:
        device = decisions.get(node_id)
        if device is None:
            problems.append(f"decisions.{node_id}: missing (2b: every tensor on one device)")
        elif device not in devices:
            problems.append(f"decisions.{node_id}: unknown device {device!r}")
    if problems:
        return Evaluation(objective_sense(instance), None, tuple(problems))

    memory: dict[str, float] = defaultdict(float)
    compute: dict[str, float] = defaultdict(float)
    for node in instance.graph.nodes:
        memory[decisions[node.id]] += node.bytes
        compute[decisions[node.id]] += node.flop / devices[decisions[node.id]].flops
    for node_id, device in instance.pinned.items():
        if decisions[node_id] != device:
            problems.append(f"pinned: {node_id} must be on {device}, is on {decisions[node_id]}")
    for device in instance.devices:
        if exceeds(memory[device.id], device.memory_bytes):
            problems.append(
                f"memory (2a): {device.id} holds {memory[device.id]:.6g} bytes, "
                f"capacity {device.memory_bytes:.6g}"
            )
        bound = instance.compute_time_max_s
        if bound is not None and exceeds(compute[device.id], bound):
            problems.append(
                f"compute balance: {device.id} computes {compute[device.id]:.6g} s > {bound} s"
            )
    objective = TRANSFER[instance.objective](instance, decisions)
    metrics = {"transfer_s": objective, "compute_max_s": max(compute.values(), default=0.0)}
    metrics.update({f"memory_bytes.{d.id}": memory[d.id] for d in instance.devices})
    details = {n: {"device": decisions[n]} for n in nodes}
    return Evaluation(objective_sense(instance), objective, tuple(problems), metrics, details)
