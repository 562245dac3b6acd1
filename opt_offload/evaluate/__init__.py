"""One evaluator per problem (design §2): every solver's decisions are judged here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..schemas import AdmissionInstance, AssignmentInstance, Instance, PlacementInstance
from .admission import evaluate_admission
from .assignment import evaluate_assignment
from .placement import evaluate_placement
from .result import Evaluation, objective_sense


def evaluate(instance: Instance, decisions: Mapping[str, Any]) -> Evaluation:
    """Objective, feasibility and named violations of ``decisions`` on ``instance``."""
    if isinstance(instance, AdmissionInstance):
        return evaluate_admission(instance, decisions)
    if isinstance(instance, AssignmentInstance):
        return evaluate_assignment(instance, decisions)
    if isinstance(instance, PlacementInstance):
        return evaluate_placement(instance, decisions)
    raise TypeError(f"not an instance: {type(instance).__name__}")


__all__ = ["Evaluation", "evaluate", "objective_sense"]
