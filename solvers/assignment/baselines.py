"""Trivial assignment baselines."""

from __future__ import annotations

from opt_offload.registry import SolverResult, register
from opt_offload.schemas import AssignmentInstance, Status


@register(
    "assignment",
    "cloud-only",
    exact=False,
    description="tasks in file order go to the cloud while QoS (1e) and its budget (1d) allow; "
    "the rest are rejected (variant admission) or left unserved (strict: infeasible)",
)
def cloud_only(instance: AssignmentInstance, *, time_limit: float | None = None) -> SolverResult:
    tasks: dict[str, str | None] = {t.id: None for t in instance.tasks}
    decisions = {"tasks": tasks, "placement": dict(instance.placement or {})}
    cloud = next((s for s in instance.servers if s.cloud), None)
    if cloud is None:
        return SolverResult(Status.FEASIBLE, decisions, message="the instance has no cloud server")
    budget = cloud.compute_budget_flop
    used = 0.0
    for task in instance.tasks:
        work = instance.workload(task, cloud)
        fits = budget is None or used + work <= budget
        if fits and instance.meets_qos(task, cloud):
            tasks[task.id] = cloud.id
            used += work
    return SolverResult(Status.FEASIBLE, decisions)
