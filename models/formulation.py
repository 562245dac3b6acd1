"""What every formulation returns: the model, its sense, its problem class and a decoder
(design §2: formulation -> backend -> result).

A backend (``opt_offload.solvers.backends``) takes a :class:`Formulation`, solves ``model``
and calls ``decode()`` to read the solved variables back as instance decisions; it never
needs to know which problem the model states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

Layer = Literal["pyomo", "cvxpy"]
Sense = Literal["min", "max"]


class ProblemClass(str, Enum):
    """What a formulation is, and what a backend can take (STYLE: linopy's capabilities)."""

    LP = "lp"
    MILP = "milp"
    MISOCP = "misocp"


@dataclass(frozen=True)
class Formulation:
    """A model ready for a backend.

    ``objective_scale``: the model's objective is the problem's objective times this factor
    (chosen so that the solver's tolerances act on coefficients of order one); backends divide
    the incumbent and bound by it. ``start``: when given, sets the model's variables to the
    values of a decisions object, for a MIP start.
    """

    model: Any  # a Pyomo ConcreteModel or a cvxpy.Problem
    layer: Layer
    problem_class: ProblemClass
    sense: Sense
    decode: Callable[[], Any]
    objective_scale: float = 1.0
    start: Callable[[Any], None] | None = None


# Coefficients are scaled so that the smallest is 1, unless that pushes the largest past this:
# HiGHS and SCIP judge reduced costs and gaps against absolute tolerances near 1e-6..1e-9,
# under which an objective in seconds of 1e-8 is indistinguishable from 0.
LARGEST_SCALED_COEFFICIENT = 1e9


def objective_scale(coefficients: Iterable[float]) -> float:
    """The factor that makes the smallest nonzero |coefficient| 1, within the largest's cap."""
    sizes = [abs(c) for c in coefficients if c != 0]
    if not sizes:
        return 1.0
    scale = 1.0 / min(sizes)
    return min(scale, LARGEST_SCALED_COEFFICIENT / max(sizes))
