"""The Solution record every solver produces (design §2, §9), format ``version: 2``.

Two axes describe a result (after linopy's ``SolverStatus`` + ``TerminationCondition``):

- **termination** (:class:`Status`): why the run ended: ``optimal`` (proven within the declared
  gap), ``infeasible`` (proven), ``time-limit``, ``gave-up`` (a heuristic found nothing and
  proves nothing), ``error``, or ``feasible`` (ended normally with decisions but no proof);
- **what it holds**: decisions or none (``decisions`` null), the evaluator's objective of
  those decisions, a finite proven bound or null, and the relative gap between the two.

A time limit with an incumbent is ``time-limit`` with decisions; without one, ``time-limit``
with none. ``error`` never carries decisions.

Decisions are typed per kind (:data:`AdmissionDecisions`, :class:`AssignmentDecisions`,
:data:`PlacementDecisions`), so the JSON Schema of a solution is exact. Version 1 files (one
``decisions`` object per kind, the assignment placement under a reserved ``"placement"`` key,
``{}`` for "no decisions") are read by :func:`parse_solution` and upgraded.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from .base import Identifier, Strict

SOLUTION_VERSION = 2


class Status(str, Enum):
    """The termination axis; every backend maps its native codes onto these explicitly."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time-limit"
    GAVE_UP = "gave-up"
    ERROR = "error"


class AdmissionDecision(Strict):
    action: Literal["local", "queue", "immediate"]
    bandwidth_hz: float = Field(0.0, ge=0)


class AdmissionAction(TypedDict):
    """One candidate's decision as a Solution holds it: plain JSON, the fields of
    :class:`AdmissionDecision` (which the solvers and the evaluator use)."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    action: Literal["local", "queue", "immediate"]
    bandwidth_hz: NotRequired[Annotated[float, Field(ge=0)]]


AdmissionDecisions = dict[Identifier, AdmissionAction]
"""candidate id -> action and bandwidth."""

PlacementDecisions = dict[Identifier, Identifier]
"""tensor (node) id -> device id."""


class AssignmentDecisions(TypedDict):
    """Task ids -> server id (null: rejected), and the model placement it runs under."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    tasks: dict[Identifier, Identifier | None]
    placement: dict[Identifier, list[Identifier]]


class SolutionBase(Strict):
    version: Literal[2] = SOLUTION_VERSION
    instance: Identifier
    solver: str
    options: dict[str, bool | int | float | str | None] = Field(
        default_factory=dict, description="the solver options the run used, time_limit included"
    )
    status: Status = Field(description="termination: why the run ended")
    objective: float | None = Field(
        None,
        description="the evaluator's objective of the decisions (design §2); null when "
        "there are no decisions",
    )
    bound: float | None = Field(
        None,
        description="proven bound on the optimum (an upper bound when maximising), finite, "
        "or null when the solver proved none",
    )
    gap: float | None = Field(
        None,
        ge=0,
        description="relative gap |objective - bound| / max(|objective|, |bound|); null "
        "without both",
    )
    wall_s: float = Field(ge=0)
    sense: Literal["max", "min"] = Field(description="whether a larger objective is better")
    metrics: dict[str, float | int | None] = Field(
        default_factory=dict, description="further evaluator figures (secondary objectives, usage)"
    )
    violations: list[str] = Field(
        default_factory=list,
        description="constraints the solver's decisions violate, as the evaluator names them",
    )
    message: str | None = Field(None, description="what the solver said beyond its status")

    @property
    def has_decisions(self) -> bool:
        """Whether the run holds decisions (an incumbent); ``decisions`` is per kind."""
        return getattr(self, "decisions", None) is not None


class AdmissionSolution(SolutionBase):
    kind: Literal["admission"]
    decisions: AdmissionDecisions | None = None


class AssignmentSolution(SolutionBase):
    kind: Literal["assignment"]
    decisions: AssignmentDecisions | None = None


class PlacementSolution(SolutionBase):
    kind: Literal["placement"]
    decisions: PlacementDecisions | None = None


Solution = Annotated[
    AdmissionSolution | AssignmentSolution | PlacementSolution, Field(discriminator="kind")
]
SOLUTION = TypeAdapter(Solution)
SOLUTION_CLASSES: dict[str, type[SolutionBase]] = {
    "admission": AdmissionSolution,
    "assignment": AssignmentSolution,
    "placement": PlacementSolution,
}

# Differences below this are float noise, not a gap (objectives are O(1e-12) at the finest).
GAP_ATOL = 1e-12


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective - bound| / max(|objective|, |bound|), 0 when they agree to float noise."""
    if objective is None or bound is None:
        return None
    difference = abs(objective - bound)
    if difference <= GAP_ATOL:
        return 0.0
    return difference / max(abs(objective), abs(bound))


def make_solution(**fields: Any) -> SolutionBase:
    """A Solution of ``fields['kind']``."""
    return SOLUTION_CLASSES[fields["kind"]](**fields)


V1_STATUS_WITHOUT_DECISIONS = {"infeasible", "error"}


def upgrade_v1(document: dict[str, Any]) -> dict[str, Any]:
    """A version 1 solution document in the version 2 layout.

    v1 wrote ``decisions: {}`` when there were none (and, on ``error``, sometimes fallback
    decisions), kept the assignment placement under a reserved ``"placement"`` key among the
    task ids, and had no ``version`` and no ``gap``.
    """
    upgraded = {k: v for k, v in document.items() if k != "version"}
    decisions = upgraded.get("decisions")
    status = upgraded.get("status")
    empty = isinstance(decisions, dict) and not decisions and upgraded.get("objective") is None
    if decisions is not None and (status in V1_STATUS_WITHOUT_DECISIONS or empty):
        decisions = None
    if (
        decisions is not None
        and upgraded.get("kind") == "assignment"
        and isinstance(decisions, dict)
    ):
        tasks = {k: v for k, v in decisions.items() if k != "placement"}
        decisions = {"tasks": tasks, "placement": decisions.get("placement") or {}}
    upgraded["decisions"] = decisions
    if decisions is None:
        upgraded["objective"] = None
    objective, bound = upgraded.get("objective"), upgraded.get("bound")
    finite = all(isinstance(v, int | float) and math.isfinite(v) for v in (objective, bound))
    upgraded["gap"] = relative_gap(objective, bound) if finite else None
    upgraded["version"] = SOLUTION_VERSION
    return upgraded


def parse_solution(document: Any) -> SolutionBase:
    """Validate a solution document of version 2, or of version 1 (upgraded)."""
    if isinstance(document, dict) and document.get("version", 1) == 1:
        document = upgrade_v1(document)
    return SOLUTION.validate_python(document)
