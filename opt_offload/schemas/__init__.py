"""Validated, immutable instance and solution data (design §9)."""

from .admission import AdmissionInstance
from .assignment import AssignmentInstance
from .placement import PlacementInstance
from .solution import (
    SOLUTION,
    AdmissionDecision,
    Solution,
    SolutionBase,
    Status,
    make_solution,
    parse_solution,
)

Instance = AdmissionInstance | AssignmentInstance | PlacementInstance

INSTANCE_MODELS: dict[str, type[AdmissionInstance | AssignmentInstance | PlacementInstance]] = {
    "admission": AdmissionInstance,
    "assignment": AssignmentInstance,
    "placement": PlacementInstance,
}

__all__ = [
    "SOLUTION",
    "AdmissionDecision",
    "AdmissionInstance",
    "AssignmentInstance",
    "INSTANCE_MODELS",
    "Instance",
    "PlacementInstance",
    "Solution",
    "SolutionBase",
    "Status",
    "make_solution",
    "parse_solution",
]
