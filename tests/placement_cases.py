"""Seeded random placement instances and the brute-force oracle the placement tests share."""

from __future__ import annotations

import itertools

import numpy as np

from opt_offload.evaluate.placement import evaluate_placement
from opt_offload.io import parse_instance
from opt_offload.schemas import PlacementInstance


def random_instance(
    seed: int,
    *,
    max_nodes: int = 9,
    max_devices: int = 3,
    devices: int | None = None,
    objective: str | None = None,
    shape: str = "any",
    loose_memory: bool = False,
) -> PlacementInstance:
    """A random instance: ``shape`` is ``any`` (edges in both directions, cycles possible),
    ``dag`` (edges from lower to higher index) or ``chain`` (n0 -> n1 -> ...); ``devices`` fixes
    the number of devices. Memory is tight
    enough that some instances are infeasible, unless ``loose_memory`` (every device holds
    everything); then only the first and last node are pinned."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, max_nodes + 1))
    k = int(rng.integers(1, max_devices + 1)) if devices is None else devices
    devices = [f"d{j}" for j in range(k)]
    sizes = rng.integers(1, 10, n).astype(float)
    flop = rng.integers(0, 100, n).astype(float)
    if shape == "chain":
        pairs = [(i, i + 1) for i in range(n - 1)]
    else:
        density = rng.uniform(0.1, 0.6)
        pairs = [
            (i, j)
            for i in range(n)
            for j in range(n)
            if i != j and (shape == "any" or i < j) and rng.random() < density
        ]
    if loose_memory:
        memory = [sizes.sum()] * k
        pins = {0: int(rng.integers(k)), n - 1: int(rng.integers(k))} if n > 1 else {}
    else:
        memory = list(rng.uniform(max(sizes), max(sizes) + 1.2 * sizes.sum() / k, k))
        pins = {int(i): int(rng.integers(k)) for i in range(n) if rng.random() < 0.15}
    document = {
        "kind": "placement",
        "version": 1,
        "name": f"random-{seed}",
        "objective": objective or str(rng.choice(["graph", "paper"])),
        "devices": [
            {"id": d, "memory_bytes": float(m), "flops": float(rng.uniform(1, 10))}
            for d, m in zip(devices, memory)
        ],
        "bandwidth_bytes_per_s": {
            a: {b: float(rng.uniform(1.0, 5.0)) for b in devices if b != a} for a in devices
        },
        "graph": {
            "directed": True,
            "nodes": [
                {
                    "id": f"n{i}",
                    "bytes": float(sizes[i]),
                    "flop": float(flop[i]),
                    "accessed_by": [d for d in devices if rng.random() < 0.6],
                }
                for i in range(n)
            ],
            "edges": [
                {"source": f"n{i}", "target": f"n{j}", "bytes": float(rng.uniform(0, 10))}
                for i, j in pairs
            ],
        },
        "pinned": {f"n{i}": devices[d] for i, d in pins.items()},
    }
    if not loose_memory and rng.random() < 0.3:
        # a compute bound that some devices can meet and some placements break
        document["compute_time_max_s"] = float(rng.uniform(0.3, 1.0) * flop.sum() / k + 1)
    return parse_instance(document)


def brute_force(instance: PlacementInstance) -> tuple[float, dict] | None:
    """The least objective over every placement, judged by the shared evaluator."""
    nodes = [n.id for n in instance.graph.nodes]
    devices = [d.id for d in instance.devices]
    best = None
    for combination in itertools.product(devices, repeat=len(nodes)):
        decisions = dict(zip(nodes, combination))
        evaluation = evaluate_placement(instance, decisions)
        if evaluation.feasible and (best is None or evaluation.objective < best[0]):
            best = (evaluation.objective, decisions)
    return best
