"""Instance schema of problem C, tensor placement across devices (design §6, §9)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

if TYPE_CHECKING:  # networkx costs 0.2-0.4 s of every command's start-up; imported on use
    import networkx as nx

from .base import (
    Bytes,
    BytesPerSecond,
    Flop,
    FlopPerSecond,
    Identifier,
    PositiveBytes,
    PositiveSeconds,
    Strict,
    duplicate_problems,
    raise_problems,
)


class Device(Strict):
    id: Identifier
    memory_bytes: PositiveBytes = Field(description="C_mem^(d) of (2a)")
    flops: FlopPerSecond = Field(description="T_comp^(d): FLOP/s")


class Node(Strict):
    id: Identifier
    bytes: Bytes = Field(description="Size(p): memory the tensor occupies")
    flop: Flop = Field(0.0, description="FLOP of the operator the node runs, if any")
    accessed_by: list[str] = Field(
        default_factory=list, description="devices that read the tensor (Acc(p) of eq. 2)"
    )
    layer: int | None = Field(
        None, ge=-(10**6), le=10**6, description="layer index, for plots and the chain DP"
    )
    model: str | None = Field(None, description="which model (target, draft) the node belongs to")


class Edge(Strict):
    source: Identifier
    target: Identifier
    bytes: Bytes = Field(description="bytes moved from source to target per pass")


class Graph(Strict):
    """The networkx node-link form (``nx.node_link_data(G, edges="edges")``)."""

    directed: Literal[True] = True
    multigraph: Literal[False] = False
    graph: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)


class PlacementInstance(Strict):
    kind: Literal["placement"]
    version: Literal[1]
    name: Identifier
    comment: str | None = None
    objective: Literal["graph", "paper"] = Field(
        "graph",
        description="graph: bytes crossing devices over the link rate (design §6); "
        "paper: eq. (2) verbatim",
    )
    devices: list[Device] = Field(min_length=1)
    bandwidth_bytes_per_s: dict[str, dict[str, BytesPerSecond]] = Field(
        default_factory=dict,
        description="[d1][d2]: rate for data moving from d1 to d2, every ordered pair d1 != d2",
    )
    graph: Graph
    pinned: dict[str, str] = Field(default_factory=dict, description="node id -> device id")
    compute_time_max_s: PositiveSeconds | None = Field(
        None, description="optional load-balance bound on each device's FLOP / FLOP/s"
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> PlacementInstance:
        devices = [d.id for d in self.devices]
        problems = duplicate_problems("devices", devices)
        problems += duplicate_problems("graph.nodes", (n.id for n in self.graph.nodes))
        problems += self._bandwidth_problems(devices)
        problems += self._graph_problems(set(devices))
        problems += self._pinned_problems(set(devices))
        raise_problems(problems)
        return self

    def _bandwidth_problems(self, devices: list[str]) -> list[str]:
        matrix = self.bandwidth_bytes_per_s
        problems = [
            f"bandwidth_bytes_per_s.{d}: unknown device" for d in matrix if d not in devices
        ]
        for d1 in devices:
            row = matrix.get(d1, {})
            for d2 in row:
                if d2 not in devices:
                    problems.append(f"bandwidth_bytes_per_s.{d1}.{d2}: unknown device")
                elif d2 == d1:
                    problems.append(f"bandwidth_bytes_per_s.{d1}.{d2}: the diagonal is not given")
            problems += [
                f"bandwidth_bytes_per_s.{d1}.{d2}: missing (every ordered device pair is needed)"
                for d2 in devices
                if d2 != d1 and d2 not in row
            ]
        return problems

    def _graph_problems(self, devices: set[str]) -> list[str]:
        nodes = {n.id for n in self.graph.nodes}
        largest = max(d.memory_bytes for d in self.devices)
        problems = []
        for i, node in enumerate(self.graph.nodes):
            if node.bytes > largest:
                problems.append(
                    f"graph.nodes[{i}].bytes: {node.id!r} needs {node.bytes:.6g} bytes, larger "
                    f"than every device (largest {largest:.6g})"
                )
            problems += [
                f"graph.nodes[{i}].accessed_by: unknown device {d!r}"
                for d in node.accessed_by
                if d not in devices
            ]
        seen: set[tuple[str, str]] = set()
        for k, edge in enumerate(self.graph.edges):
            for end in ("source", "target"):
                if getattr(edge, end) not in nodes:
                    problems.append(f"graph.edges[{k}].{end}: unknown node {getattr(edge, end)!r}")
            if (edge.source, edge.target) in seen:
                problems.append(f"graph.edges[{k}]: duplicate edge {edge.source} -> {edge.target}")
            seen.add((edge.source, edge.target))
        return problems

    def _pinned_problems(self, devices: set[str]) -> list[str]:
        nodes = {n.id for n in self.graph.nodes}
        problems = []
        for node, device in self.pinned.items():
            if node not in nodes:
                problems.append(f"pinned.{node}: unknown node")
            if device not in devices:
                problems.append(f"pinned.{node}: unknown device {device!r}")
        return problems

    # Lookups used by models, solvers and the evaluator.

    @cached_property
    def devices_by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}

    @cached_property
    def nodes_by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.graph.nodes}

    def rate(self, source_device: str, target_device: str) -> float:
        """Bytes per second for data moving from ``source_device`` to ``target_device``."""
        return self.bandwidth_bytes_per_s[source_device][target_device]

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph, node and edge attributes as in the file."""
        import networkx as nx

        graph = nx.DiGraph(**self.graph.graph)
        for node in self.graph.nodes:
            graph.add_node(node.id, **node.model_dump(exclude={"id"}))
        for edge in self.graph.edges:
            graph.add_edge(edge.source, edge.target, bytes=edge.bytes)
        return graph
