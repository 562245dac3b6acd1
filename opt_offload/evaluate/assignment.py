"""Evaluator of problem B, edge/cloud assignment (design §5, 003 paper eq. 1, 1a-1e).

Decisions are ``{"tasks": {task id: server id, or None for a rejected task}, "placement":
{edge id: [model ids]}}`` (schemas/solution.py). A fixed placement in the instance takes
precedence; with a free placement and none given, the smallest placement that hosts the
assigned tasks is assumed.

Objective: ``strict`` minimises the total transmission latency T (every task must be served);
``admission`` maximises the throughput S (tasks served within QoS). Both S and T, and the
weighted value ``w_S S - w_T T``, are reported as metrics whatever the variant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ..schemas import AssignmentInstance
from ..tolerance import exceeds
from .result import Evaluation, objective_sense

DECISION_FIELDS = ("tasks", "placement")


def effective_placement(
    instance: AssignmentInstance, assigned: Mapping[str, Any], stated: Any
) -> tuple[dict[str, list[str]], list[str]]:
    """The placement the task assignment runs under, and problems with the one stated."""
    if instance.placement is not None:
        fixed = {j: sorted(set(m)) for j, m in instance.placement.items() if m}
        if stated is not None and {j: sorted(set(m)) for j, m in stated.items() if m} != fixed:
            return dict(instance.placement), [
                "placement: differs from the instance's fixed placement"
            ]
        return dict(instance.placement), []
    if stated is None:
        inferred: dict[str, set[str]] = defaultdict(set)
        tasks = {t.id: t for t in instance.tasks}
        for task_id, server_id in assigned.items():
            server = instance.servers_by_id.get(server_id) if isinstance(server_id, str) else None
            if task_id in tasks and server is not None and not server.cloud:
                inferred[server_id].add(tasks[task_id].model)
        return {j: sorted(m) for j, m in inferred.items()}, []
    if not isinstance(stated, Mapping):
        return {}, ["placement: expected an object {edge server: [models]}"]
    problems = []
    for server_id, models in stated.items():
        server = instance.servers_by_id.get(server_id)
        if server is None or server.cloud:
            problems.append(f"placement.{server_id}: not an edge server")
        problems += [
            f"placement.{server_id}: unknown model {m!r}"
            for m in models
            if m not in instance.model_sizes
        ]
    return {j: list(m) for j, m in stated.items()}, problems


def storage_violations(
    instance: AssignmentInstance, placement: Mapping[str, list[str]]
) -> list[str]:
    """(1b): the models deployed on an edge fit its storage."""
    problems = []
    for server_id, models in placement.items():
        server = instance.servers_by_id.get(server_id)
        if server is None or server.cloud:
            continue
        used = sum(instance.model_sizes.get(m, 0.0) for m in set(models))
        if exceeds(used, server.storage_gb):
            problems.append(
                f"storage (1b): {server_id} holds {used:g} GB of models, "
                f"storage {server.storage_gb:g} GB"
            )
    return problems


def evaluate_assignment(instance: AssignmentInstance, decisions: Mapping[str, Any]) -> Evaluation:
    sense = objective_sense(instance)
    tasks = {t.id: t for t in instance.tasks}
    problems = [f"decisions.{k}: unknown field" for k in decisions if k not in DECISION_FIELDS]
    assigned = decisions.get("tasks")
    if not isinstance(assigned, Mapping):
        return Evaluation(sense, None, ("decisions.tasks: expected {task: server or null}",))
    problems += [f"decisions.tasks.{k}: unknown task" for k in assigned if k not in tasks]
    placement, placement_problems = effective_placement(
        instance, assigned, decisions.get("placement")
    )
    problems += placement_problems + storage_violations(instance, placement)

    load: dict[str, float] = defaultdict(float)
    throughput = 0
    transmission = 0.0
    details = {}
    for task in instance.tasks:
        if task.id not in assigned:
            problems.append(f"decisions.tasks.{task.id}: missing (use null for a rejected task)")
            continue
        server_id = assigned[task.id]
        if server_id is None:
            if instance.variant == "strict":
                problems.append(f"assignment (1a): {task.id} is not served (variant strict)")
            details[task.id] = {"server": None}
            continue
        server = instance.servers_by_id.get(server_id) if isinstance(server_id, str) else None
        if server is None:
            problems.append(f"decisions.tasks.{task.id}: unknown server {server_id!r}")
            continue
        if not instance.hosts(server, task.model, placement):
            problems.append(f"model (1c): {task.id} runs on {server_id}, which lacks {task.model}")
        if not instance.meets_qos(task, server):
            problems.append(
                f"QoS (1e): {task.id} on {server_id} takes "
                f"{instance.total_latency(task, server):.6g} s > L_max {instance.latency_max_s} s"
            )
        load[server_id] += instance.workload(task, server)
        throughput += 1
        trans = instance.transmission_s[task.id][server_id]
        transmission += trans
        details[task.id] = {
            "server": server_id,
            "transmission_s": trans,
            "computation_s": instance.computation(task, server),
        }
    for server in instance.servers:
        budget = server.compute_budget_flop
        if budget is not None and exceeds(load[server.id], budget):
            problems.append(
                f"compute (1d): {server.id} carries {load[server.id]:.6g} FLOP, budget {budget:.6g}"
            )

    weights = instance.objective.weights
    metrics = {
        "throughput": throughput,
        "transmission_s": transmission,
        "weighted": weights.throughput * throughput - weights.latency * transmission,
        "rejected": len(instance.tasks) - throughput,
    }
    objective = transmission if instance.variant == "strict" else float(throughput)
    return Evaluation(sense, objective, tuple(problems), metrics, details)
