"""A MILP in matrix form (:mod:`opt_offload.models.linear`) as an OR-Tools CP-SAT model.

CP-SAT takes integer variables and integer coefficients only, so every row and the objective
are scaled to integers here, and the scale is stated:

- A row is multiplied by ``10^k``, the smallest power of ten at which each of its coefficients
  and bounds is an integer at the data's decimal precision (the shortest decimal that reads back
  as the same float, Python's ``repr``), or by ``2^k``, at which every float is exactly an
  integer (a float is m / 2^k), whichever gives the smaller integers. The scaled row is then the
  same constraint. A row that needs more than int64 holds is refused (:class:`ScalingError`):
  CP-SAT cannot take it exactly.
- The objective is scaled the same way when that fits in 2^53 (so CP-SAT's integer objective
  and bound read back as exact doubles). When it does not (coefficients such as bytes / B(d1, d2)
  have no short decimal), it is rounded at the largest power of ten that fits, and
  ``objective_error`` bounds what rounding can change in any solution:
  ``sum_p |c_p - round(c_p 10^k) / 10^k| max|x_p|``. The bound read back is widened by it, and a
  solve whose rounding error exceeds the declared gap is not called optimal.
- Continuous columns are refused, unless the formulation states that an optimal value of them
  is integer at every integer point of the others (``Formulation.integral_continuous``): the
  placement cut variables ``z`` are products of two binaries there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

from .linear import LinearForm

INT64 = 2**63 - 1
EXACT_DOUBLE = 2**53


class ScalingError(ValueError):
    """The data cannot be stated in integers exactly within CP-SAT's int64 range."""


@dataclass(frozen=True)
class CpsatModel:
    model: object  # ortools.sat.python.cp_model.CpModel
    variables: list  # one IntVar per column of the linear form
    objective_scale: float  # a power of ten: the integer objective is c x times it, rounded
    objective_error: float  # 0 when the objective is scaled exactly
    offset: float
    sense: str

    def value_of(self, scaled: float) -> float:
        """An integer objective (or bound) of the CP-SAT model in the formulation's units,
        before the rounding error is accounted for."""
        return scaled / self.objective_scale + self.offset


def decimal_places(value: float) -> int:
    """Digits after the point in the shortest decimal that reads back as ``value``."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def exact_integers(values, places: int) -> list[int]:
    scale = Decimal(10) ** places
    return [int(Decimal(repr(float(v))) * scale) for v in values]


def dyadic_integers(values) -> tuple[list[int], int]:
    """Every float is exactly m / 2^k: the integers at the smallest common 2^k, and k."""
    fractions = [Fraction(float(v)) for v in values]
    exponent = max((f.denominator.bit_length() - 1 for f in fractions), default=0)
    return [int(f * 2**exponent) for f in fractions], exponent


def row_integers(values) -> tuple[list[int], str]:
    """The smaller of the decimal and the binary exact scalings of a row (values include its
    bounds last), with the scale in words."""
    places = max((decimal_places(v) for v in values), default=0)
    decimal = exact_integers(values, places)
    binary, exponent = dyadic_integers(values)
    if max(map(abs, binary), default=0) < max(map(abs, decimal), default=0):
        return binary, f"2^{exponent}"
    return decimal, f"10^{places}"


def column_bounds(form: LinearForm) -> list[tuple[int, int]]:
    bounds = []
    for j, name in enumerate(form.names):
        lower, upper = form.col_lower[j], form.col_upper[j]
        if not form.integer[j] and not form.integral_continuous:
            raise ScalingError(f"CP-SAT takes integer variables only; {name} is continuous")
        if not (np.isfinite(lower) and np.isfinite(upper)):
            raise ScalingError(f"CP-SAT needs finite bounds; {name} is unbounded")
        bounds.append((int(np.ceil(lower - 1e-9)), int(np.floor(upper + 1e-9))))
    return bounds


def scaled_row(
    form: LinearForm, r: int, reach: np.ndarray
) -> tuple[list, list[int], int | None, int | None]:
    """Row r's columns, integer coefficients and integer bounds (None where infinite)."""
    start, stop = form.matrix.indptr[r], form.matrix.indptr[r + 1]
    columns = form.matrix.indices[start:stop]
    coefficients = form.matrix.data[start:stop]
    sides = [form.row_lower[r], form.row_upper[r]]
    finite = [v for v in sides if np.isfinite(v)]
    integers, scale = row_integers([*coefficients, *finite])
    if sum(abs(a) * reach[c] for a, c in zip(integers, columns)) >= INT64 // 2:
        raise ScalingError(
            f"CP-SAT needs integer data: row {form.row_names[r]} at scale {scale} exceeds int64"
        )
    scaled_sides = iter(integers[len(columns) :])
    lower, upper = (next(scaled_sides) if np.isfinite(v) else None for v in sides)
    return list(columns), integers[: len(columns)], lower, upper


def scaled_objective(form: LinearForm, reach: np.ndarray) -> tuple[list[int], float, float]:
    """Integer objective coefficients, the scale, and the rounding error bound (0: exact)."""
    c = form.objective
    places = max((decimal_places(v) for v in c if v != 0), default=0)
    if float(np.abs(c) @ reach) * 10.0**places < EXACT_DOUBLE:
        return exact_integers(c, places), 10.0**places, 0.0
    size = max(float(np.abs(c) @ reach), 1e-300)
    places = int(np.floor(np.log10(EXACT_DOUBLE / size)))
    scale = 10.0**places
    integers = np.rint(c * scale)
    error = float(np.abs(c - integers / scale) @ reach)
    return [int(v) for v in integers], scale, error


def build_cpsat(form: LinearForm) -> CpsatModel:
    """The CP-SAT model of ``form``; raises :class:`ScalingError` when it cannot be exact."""
    from ortools.sat.python import cp_model

    bounds = column_bounds(form)
    reach = np.array([max(abs(lo), abs(hi)) for lo, hi in bounds], dtype=float)
    model = cp_model.CpModel()
    variables = [model.new_int_var(lo, hi, name) for (lo, hi), name in zip(bounds, form.names)]
    for r in range(form.shape[0]):
        columns, coefficients, lower, upper = scaled_row(form, r, reach)
        expression = cp_model.LinearExpr.weighted_sum([variables[c] for c in columns], coefficients)
        if lower is not None and lower == upper:
            model.add(expression == lower)
        else:
            if lower is not None:
                model.add(expression >= lower)
            if upper is not None:
                model.add(expression <= upper)
    coefficients, scale, error = scaled_objective(form, reach)
    objective = cp_model.LinearExpr.weighted_sum(variables, coefficients)
    (model.maximize if form.sense == "max" else model.minimize)(objective)
    return CpsatModel(model, variables, scale, error, form.offset, form.sense)
