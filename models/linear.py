"""A MILP in matrix form, compiled from a formulation's Pyomo model, with every column named in
instance ids by the formulation's ``namer``: what the backends without a Pyomo interface of
their own here (``pyomo-scip`` through PySCIPOpt, ``pyomo-cpsat``) read, what
``opt-offload export`` writes as LP or MPS, and what a solution file is decoded against.

The Pyomo model stays the one statement of each problem: this module only reads it back, through
Pyomo's own standard-form compiler (``pyomo.repn.plugins.standard_form``), and loads a solution
vector back into its variables so that the formulation's decoder turns it into decisions.

Rows are ``row_lower <= A x <= row_upper`` (either side infinite); columns
``col_lower <= x <= col_upper``, integer where ``integer`` is set; the objective is
``c x + offset`` in the model's own sense. Variables the model fixes (pinned tensors) are folded
into the rows and the offset by the compiler, so they are not columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .formulation import Formulation

# Names in the LP format (CPLEX's definition, which HiGHS, SCIP and Gurobi read): letters,
# digits and !"#$%&()/,.;?@_`'{}|~, not starting with a digit or a period. Instance ids may
# hold anything but white space at their ends, so other characters become "_".
NOT_IN_LP_NAME = re.compile(r"[^A-Za-z0-9!\"#$%&()/,.;?@_`'{}|~]")

Namer = Callable[[Any], str]  # a Pyomo VarData -> its name in instance ids


def lp_name(text: str) -> str:
    name = NOT_IN_LP_NAME.sub("_", text)
    return name if name and not (name[0].isdigit() or name[0] == ".") else f"_{name}"


def unique_names(names: Sequence[str]) -> list[str]:
    """``names`` made LP-safe and unique (a clash gets ``~2``, ``~3``... appended)."""
    seen: dict[str, int] = {}
    result = []
    for raw in names:
        name = lp_name(raw)
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}~{count + 1}")
    return result


@dataclass(frozen=True)
class LinearForm:
    names: list[str]  # column names, LP-safe and unique
    row_names: list[str]
    objective: np.ndarray  # c
    offset: float
    sense: Literal["min", "max"]
    matrix: object  # scipy.sparse.csr_array, rows x columns
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    integral_continuous: bool  # see Formulation.integral_continuous
    columns: tuple  # the Pyomo VarData of each column, to load a solution back

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def value(self, x: np.ndarray) -> float:
        return float(self.objective @ x + self.offset)

    def load(self, x: Sequence[float]) -> None:
        """Set the Pyomo model's variables to the solution ``x`` (column order)."""
        for var, value in zip(self.columns, x):
            var.set_value(float(value), skip_validation=True)


def bound_or_inf(value: float | None, infinite: float) -> float:
    return infinite if value is None else float(value)


def from_formulation(formulation: Formulation) -> LinearForm:
    """The formulation's Pyomo model (one active linear objective, linear constraints) in
    matrix form, columns named by its ``namer`` (Pyomo's own names without one)."""
    namer = formulation.namer or (lambda var: var.name)
    return from_pyomo(formulation.model, namer, formulation.integral_continuous)


def from_pyomo(model, namer: Namer, integral_continuous: bool = False) -> LinearForm:
    """The model's one active linear objective and its linear constraints in matrix form."""
    import pyomo.environ as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    (objective,) = info.objectives
    lower = np.full(len(info.rows), -np.inf)
    upper = np.full(len(info.rows), np.inf)
    row_names = []
    for r, row in enumerate(info.rows):
        side = row.bound_type  # 0: equality, 1: upper bound, -1: lower bound (mixed form)
        if side >= 0:
            upper[r] = info.rhs[r]
        if side <= 0:
            lower[r] = info.rhs[r]
        ranged = side != 0 and row.constraint.has_lb() and row.constraint.has_ub()
        row_names.append(row.constraint.name + ({1: "_up", -1: "_lo"}[side] if ranged else ""))
    columns = tuple(info.columns)
    return LinearForm(
        names=unique_names([namer(v) for v in columns]),
        row_names=unique_names(row_names),
        objective=np.asarray(info.c.toarray()[0], dtype=float),
        offset=float(info.c_offset[0]),
        sense="max" if objective.sense == pyo.maximize else "min",
        matrix=info.A.tocsr(),
        row_lower=lower,
        row_upper=upper,
        col_lower=np.array([bound_or_inf(v.lb, -np.inf) for v in columns]),
        col_upper=np.array([bound_or_inf(v.ub, np.inf) for v in columns]),
        integer=np.array([v.is_integer() or v.is_binary() for v in columns], dtype=bool),
        integral_continuous=integral_continuous,
        columns=columns,
    )
