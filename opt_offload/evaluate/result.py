"""The result every evaluator returns (design §2: one evaluator per problem)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


def objective_sense(instance) -> Literal["max", "min"]:
    """Admission and assignment-admission maximise; strict assignment and placement minimise."""
    if instance.kind == "placement" or getattr(instance, "variant", None) == "strict":
        return "min"
    return "max"


@dataclass(frozen=True)
class Evaluation:
    """Objective and feasibility of a set of decisions, computed from the instance alone.

    ``objective`` is None when it cannot be computed (e.g. an immediate admission with no
    bandwidth). ``details`` holds per-decision figures for reports, keyed by instance id.
    """

    sense: Literal["max", "min"]
    objective: float | None
    violations: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, dict[str, float | str | None]] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations and self.objective is not None
