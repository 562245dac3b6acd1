"""Instance schema of problem B, edge/cloud task assignment (design §5, §9)."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from .base import (
    Flop,
    FlopPerSecond,
    Gigabytes,
    Identifier,
    PositiveGigabytes,
    PositiveSeconds,
    Seconds,
    Strict,
    Weight,
    duplicate_problems,
    raise_problems,
)


class ObjectiveWeights(Strict):
    throughput: Weight = 1.0
    latency: Weight = 0.01


class Objective(Strict):
    mode: Literal["lexicographic", "weighted"] = Field(
        "lexicographic",
        description="lexicographic: max throughput, then min transmission latency; "
        "weighted: max w_S S - w_T T",
    )
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)


class Model(Strict):
    id: Identifier
    size_gb: PositiveGigabytes = Field(description="M_k: storage the model needs on an edge server")


class Server(Strict):
    id: Identifier
    cloud: bool = Field(
        False, description="a cloud server hosts every model, without storage limit"
    )
    storage_gb: Gigabytes | None = Field(
        None, description="S_j: edge storage for models; null for a cloud server"
    )
    flops: FlopPerSecond = Field(description="FLOP/s, for computation latency W / flops")
    compute_budget_flop: Flop | None = Field(
        None, description="Omega_j: FLOP available over the horizon (1d); null = unlimited"
    )


class Task(Strict):
    id: Identifier
    model: Identifier = Field(description="mod(i): the model kind the task needs")
    workload_flop: Flop = Field(description="W_i")
    workload_flop_by_server: dict[str, Flop] | None = Field(
        None,
        description="per-server override of W_i (what embeds the GAP); missing servers "
        "use workload_flop",
    )


class AssignmentInstance(Strict):
    kind: Literal["assignment"]
    version: Literal[1]
    name: Identifier
    comment: str | None = None
    variant: Literal["strict", "admission"] = Field(
        "admission",
        description="strict: every task served (1a as equality), minimise transmission latency; "
        "admission: tasks may be rejected, maximise throughput first",
    )
    latency_max_s: PositiveSeconds | None = Field(None, description="L_max of (1e); null = no QoS")
    objective: Objective = Field(default_factory=Objective)
    models: list[Model]
    servers: list[Server] = Field(min_length=1)
    tasks: list[Task] = Field(default_factory=list)
    transmission_s: dict[str, dict[str, Seconds]] = Field(
        description="Ltrans_ij for every task and server"
    )
    computation_s: dict[str, dict[str, Seconds]] | None = Field(
        None, description="Lcomp_ij for every task and server; null = workload / flops"
    )
    placement: dict[str, list[str]] | None = Field(
        None, description="fixed model placement per edge server; null = the solver chooses y"
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> AssignmentInstance:
        problems = duplicate_problems("models", (m.id for m in self.models))
        problems += duplicate_problems("servers", (s.id for s in self.servers))
        problems += duplicate_problems("tasks", (t.id for t in self.tasks))
        problems += self._server_problems()
        problems += self._task_problems()
        problems += self._matrix_problems("transmission_s", self.transmission_s)
        if self.computation_s is not None:
            problems += self._matrix_problems("computation_s", self.computation_s)
        problems += self._placement_problems()
        raise_problems(problems)
        return self

    def _server_problems(self) -> list[str]:
        problems = []
        for j, server in enumerate(self.servers):
            if server.cloud and server.storage_gb is not None:
                problems.append(f"servers[{j}].storage_gb: must be null for a cloud server")
            if not server.cloud and server.storage_gb is None:
                problems.append(f"servers[{j}].storage_gb: required for an edge server")
        return problems

    def _task_problems(self) -> list[str]:
        sizes = {m.id: m.size_gb for m in self.models}
        servers = {s.id for s in self.servers}
        has_cloud = any(s.cloud for s in self.servers)
        largest_edge = max((s.storage_gb or 0.0 for s in self.servers if not s.cloud), default=0.0)
        problems = []
        for i, task in enumerate(self.tasks):
            if task.model not in sizes:
                problems.append(f"tasks[{i}].model: unknown model {task.model!r}")
            elif not has_cloud and sizes[task.model] > largest_edge:
                problems.append(
                    f"tasks[{i}].model: {task.model!r} ({sizes[task.model]} GB) fits on no edge "
                    "server and there is no cloud server"
                )
            for server in task.workload_flop_by_server or {}:
                if server not in servers:
                    problems.append(f"tasks[{i}].workload_flop_by_server.{server}: unknown server")
        return problems

    def _matrix_problems(self, field: str, matrix: dict[str, dict[str, float]]) -> list[str]:
        """Every task has a row, every row has every server, and nothing else (linear in the
        matrix: a row that holds exactly the servers is recognised by its key set)."""
        tasks = [t.id for t in self.tasks]
        task_ids = set(tasks)
        servers = [s.id for s in self.servers]
        server_ids = set(servers)
        problems = [f"{field}.{t}: unknown task" for t in matrix if t not in task_ids]
        for task in tasks:
            row = matrix.get(task)
            if row is None:
                problems.append(f"{field}.{task}: missing (every task needs a value per server)")
                continue
            if row.keys() == server_ids:
                continue
            problems += [f"{field}.{task}.{s}: missing" for s in servers if s not in row]
            problems += [f"{field}.{task}.{s}: unknown server" for s in row if s not in server_ids]
        return problems

    def _placement_problems(self) -> list[str]:
        if self.placement is None:
            return []
        edges = {s.id: s for s in self.servers if not s.cloud}
        sizes = {m.id: m.size_gb for m in self.models}
        problems = []
        for server_id, models in self.placement.items():
            if server_id not in edges:
                problems.append(f"placement.{server_id}: not an edge server")
                continue
            unknown = [m for m in models if m not in sizes]
            problems += [f"placement.{server_id}: unknown model {m!r}" for m in unknown]
            used = sum(sizes[m] for m in set(models) if m in sizes)
            if used > edges[server_id].storage_gb * (1 + 1e-9):
                problems.append(
                    f"placement.{server_id}: models need {used} GB, storage is "
                    f"{edges[server_id].storage_gb} GB"
                )
        return problems

    # Lookups used by models, solvers and the evaluator.

    @cached_property
    def servers_by_id(self) -> dict[str, Server]:
        return {s.id: s for s in self.servers}

    @cached_property
    def model_sizes(self) -> dict[str, float]:
        return {m.id: m.size_gb for m in self.models}

    def workload(self, task: Task, server: Server) -> float:
        """W_ij: the task's workload on this server (1d)."""
        by_server = task.workload_flop_by_server or {}
        return by_server.get(server.id, task.workload_flop)

    def computation(self, task: Task, server: Server) -> float:
        """Lcomp_ij: given, or W_ij over the server's FLOP/s."""
        if self.computation_s is not None:
            return self.computation_s[task.id][server.id]
        return self.workload(task, server) / server.flops

    def total_latency(self, task: Task, server: Server) -> float:
        """Ltrans_ij + Lcomp_ij, the left side of (1e)."""
        return self.transmission_s[task.id][server.id] + self.computation(task, server)

    def meets_qos(self, task: Task, server: Server) -> bool:
        """(1e) for the pair; tolerance 1e-9 relative so that ties at L_max count as met."""
        if self.latency_max_s is None:
            return True
        return self.total_latency(task, server) <= self.latency_max_s * (1 + 1e-9)

    def hosts(self, server: Server, model_id: str, placement: dict[str, list[str]]) -> bool:
        """(1c): a cloud hosts every model; an edge hosts what the placement puts there."""
        return server.cloud or model_id in placement.get(server.id, [])
