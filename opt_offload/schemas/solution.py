"""The Solution record every solver produces (design §2, §9)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import Field

from .base import Identifier, Strict


class Status(str, Enum):
    """The common status set; every backend maps its own codes onto these explicitly."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time-limit"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)


class AdmissionDecision(Strict):
    action: Literal["local", "queue", "immediate"]
    bandwidth_hz: float = Field(0.0, ge=0)


class Solution(Strict):
    kind: Literal["admission", "assignment", "placement"]
    instance: Identifier
    solver: str
    options: dict[str, Any] = Field(default_factory=dict)
    status: Status
    objective: float | None = Field(
        None,
        description="the evaluator's objective of the decisions (design §2); null when "
        "there are no feasible decisions",
    )
    bound: float | None = Field(None, description="proven bound, where the solver has one")
    wall_s: float = Field(ge=0)
    decisions: dict[str, Any] = Field(
        default_factory=dict,
        description="admission: id -> {action, bandwidth_hz}; assignment: task id -> server id "
        "or null, plus 'placement': {edge: [models]}; placement: node id -> device id",
    )
    sense: Literal["max", "min"] = Field(description="whether a larger objective is better")
    metrics: dict[str, float | int | None] = Field(
        default_factory=dict, description="further evaluator figures (secondary objectives, usage)"
    )
    violations: list[str] = Field(
        default_factory=list,
        description="constraints the decisions violate, as the evaluator names them",
    )
    message: str | None = Field(None, description="what the solver said beyond its status")
