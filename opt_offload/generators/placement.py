"""``opt-offload generate placement``: a transformer's tensor graph on a device preset (design §6).

The target model (a preset or a Hugging Face ``config.json``) and an optional draft model are
turned into one speculative decoding step's tensor graph (:mod:`opt_offload.costs.graph`); the
devices come from :mod:`opt_offload.costs.devices`. Readings the file records:

- pins: every model's input token ids sit on the preset's ``home`` device, where requests
  arrive; everything else is free (the sampled ids, 8 bytes a token, may leave from anywhere);
- ``accessed_by`` (Acc(p) of eq. 2, used by ``objective: paper``): weights and KV caches are read
  by every device (the paper's hybrid mode, where any device may run any layer); activations and
  token ids by none, since eq. (2) prices only tensors placed ahead of time.

No randomness: the seed is accepted for uniformity and changes nothing.
"""

from __future__ import annotations

import argparse

import networkx as nx

from ..costs.configs import DTYPE_BYTES, PRESETS, load_hf_config, preset
from ..costs.devices import DEVICE_PRESETS, DevicePreset, device_preset
from ..costs.graph import speculative_graph
from ..errors import InputError
from ..io import parse_instance
from ..schemas import PlacementInstance
from . import register_generator

PLACED_AHEAD = ("weight", "cache", "layer")  # roles that eq. (2) prices


def add_arguments(parser: argparse.ArgumentParser) -> None:
    models = ", ".join(PRESETS)
    parser.add_argument("--model", default="llama2-13b", help=f"target preset ({models})")
    parser.add_argument("--config", metavar="FILE", help="target from a Hugging Face config.json")
    parser.add_argument("--draft", help="draft model preset for speculative decoding (none)")
    parser.add_argument(
        "--devices", default="paper-testbed", help=f"device preset ({', '.join(DEVICE_PRESETS)})"
    )
    parser.add_argument("--granularity", choices=("layer", "tensor"), default="layer")
    parser.add_argument("--objective", choices=("graph", "paper"), default="graph")
    parser.add_argument(
        "--dtype", choices=tuple(DTYPE_BYTES), default="int8", help="int8 as in the 003 paper"
    )
    from ..cli.common import number

    parser.add_argument(
        "--batch", type=number(1, 4096, integer=True), default=16, help="sequences per step (16)"
    )
    parser.add_argument(
        "--context",
        type=number(1, 10_000_000, integer=True),
        default=2048,
        help="tokens in the KV cache (2048)",
    )
    parser.add_argument(
        "--candidates",
        type=number(0, 64, integer=True),
        default=4,
        help="draft tokens verified per step (4)",
    )
    parser.add_argument(
        "--compute-time-max",
        dest="compute_time_max_s",
        type=number(0, 1e9, above=True),
        metavar="S",
        help="bound on each device's compute time per step (compute_time_max_s)",
    )
    parser.add_argument("--name", help="instance name (default: from the arguments)")


def node_records(graph: nx.DiGraph, devices: list[str]) -> list[dict]:
    return [
        {
            "id": node,
            "bytes": data["bytes"],
            "flop": data["flop"],
            "accessed_by": devices if data["role"] in PLACED_AHEAD else [],
            "layer": data["layer"],
            "model": data["model"],
        }
        for node, data in graph.nodes(data=True)
    ]


def instance_document(
    graph: nx.DiGraph,
    devices: DevicePreset,
    *,
    objective: str,
    compute_time_max_s: float | None,
    name: str,
    comment: str,
) -> dict:
    ids = [d.id for d in devices.devices]
    return {
        "kind": "placement",
        "version": 1,
        "name": name,
        "comment": comment,
        "objective": objective,
        "devices": [
            {"id": d.id, "memory_bytes": d.memory_bytes, "flops": d.flops} for d in devices.devices
        ],
        "bandwidth_bytes_per_s": devices.bandwidth,
        "graph": {
            "directed": True,
            "graph": dict(graph.graph),
            "nodes": node_records(graph, ids),
            "edges": [
                {"source": u, "target": v, "bytes": b} for u, v, b in graph.edges(data="bytes")
            ],
        },
        "pinned": {
            node: devices.home for node, role in graph.nodes(data="role") if role == "input"
        },
        "compute_time_max_s": compute_time_max_s,
    }


def generate_placement(
    *,
    model: str = "llama2-13b",
    config: str | None = None,
    draft: str | None = None,
    devices: str = "paper-testbed",
    granularity: str = "layer",
    objective: str = "graph",
    dtype: str = "int8",
    batch: int = 16,
    context: int = 2048,
    candidates: int = 4,
    compute_time_max_s: float | None = None,
    name: str | None = None,
) -> PlacementInstance:
    """A placement instance: the tensor graph of the ``model`` preset (or of a Hugging Face
    ``config.json`` at ``config``), with an optional speculative ``draft``, on a device preset;
    the instance that ``opt-offload generate placement`` writes for the same arguments."""
    target = load_hf_config(config) if config else preset(model)
    draft_config = preset(draft) if draft else None
    device_set = device_preset(devices)
    try:
        graph = speculative_graph(
            target,
            draft_config,
            batch=batch,
            context=context,
            candidates=candidates,
            dtype=dtype,
            granularity=granularity,
        )
    except ValueError as exc:
        raise InputError(f"generate placement: {exc}") from None
    graph.graph.update(granularity=granularity, dtype=dtype, batch=batch, context=context)
    if draft_config is not None:
        graph.graph["candidates"] = candidates
    models = target.name + (f"+{draft_config.name}" if draft_config else "")
    name = name or f"{models}-{granularity}-on-{device_set.name}"
    comment = (
        f"{models} ({dtype}), {granularity} granularity, one "
        + (f"speculative step ({candidates} candidates)" if draft_config else "decode step")
        + f" for {batch} sequences after {context} cached tokens, on {device_set.name}: "
        f"{device_set.description}. Token ids pinned to {device_set.home}."
    )
    document = instance_document(
        graph,
        device_set,
        objective=objective,
        compute_time_max_s=compute_time_max_s,
        name=name,
        comment=comment,
    )
    return parse_instance(document, "generate placement")


register_generator(
    "placement",
    description="tensor placement: a transformer's tensor graph (+ draft) on a device preset",
    add_arguments=add_arguments,
)(generate_placement)
