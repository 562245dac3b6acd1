"""Trivial admission baselines."""

from __future__ import annotations

from opt_offload.registry import SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status


def local_decisions(instance: AdmissionInstance) -> dict[str, dict]:
    return {c.id: {"action": "local", "bandwidth_hz": 0.0} for c in instance.candidates}


@register(
    "admission",
    "all-local",
    exact=False,
    description="every candidate runs locally (alpha = 0); always feasible, objective 0",
)
def all_local(instance: AdmissionInstance, *, time_limit: float | None = None) -> SolverResult:
    return SolverResult(Status.FEASIBLE, local_decisions(instance))
