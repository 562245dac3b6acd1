"""What every formulation returns: the model, its sense, its problem class and a decoder
(design §2: formulation -> backend -> result).

A backend (``opt_offload.solvers.backends``) takes a :class:`Formulation`, solves ``model``
and calls ``decode()`` to read the solved variables back as instance decisions; it never
needs to know which problem the model states.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

# "pyscipopt": a PySCIPOpt Model stated directly (the admission MISOCP read through SCIP's own
# status, models/admission.py)
Layer = Literal["pyomo", "cvxpy", "pyscipopt"]
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
    values of a decisions object, for a MIP start. ``namer``: a Pyomo variable -> its name
    in instance ids (``x(TASK,SERVER)``), for the matrix form the CP-SAT and SCIP backends
    read and ``opt-offload export`` writes (models/linear.py). ``integral_continuous``: the
    continuous variables take integer values at every integer point of the others (the
    placement cut variables z of the marginal form are products of binaries), so a backend
    over integers (CP-SAT) may treat them as integers.
    """

    model: Any  # a Pyomo ConcreteModel or a cvxpy.Problem
    layer: Layer
    problem_class: ProblemClass
    sense: Sense
    decode: Callable[[], Any]
    objective_scale: float = 1.0
    start: Callable[[Any], None] | None = None
    namer: Callable[[Any], str] | None = None
    integral_continuous: bool = False


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


def binary_unit(magnitude: float) -> float:
    """The power of two at or just below ``magnitude`` (1 for 0): the unit a row of FLOP or
    bytes is stated in, so that its right-hand side lies in [1, 2).

    Rows with coefficients near 1e10-1e13 lose more to rounding in the row activity than a
    solver's absolute feasibility tolerance (1e-6); at raw byte rows Gurobi proved a wrong
    placement optimum and SCIP and CPLEX cut off the assignment optimum of testbed-s0.
    Dividing by Omega_j instead puts the coefficients in (0, 1] too, but W_ij / Omega_j is
    rounded: the row is then not the same constraint, and its coefficients need 2^52-sized
    integers in CP-SAT. Dividing by a power of two is exact in floating point (only the
    exponent changes), so the row is the very same constraint and keeps the data's integers.
    """
    return 2.0 ** math.floor(math.log2(magnitude)) if magnitude > 0 else 1.0
