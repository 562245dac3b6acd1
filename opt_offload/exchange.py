"""Models users take away and solutions they bring back: an instance's exact MILP written as an
LP or MPS file with every variable named in instance ids, and a solver's solution file read
back into decisions for the evaluator.

What is exported, per kind:

- assignment: the MILP of eq. (1). ``strict``: min T. ``admission``, lexicographic: stage 1,
  max S (stage 2 is the same model with ``S >= S*`` and min T); weighted: max w_S S - w_T T.
- placement: the MILP of eq. (2) / the cut cost, marginal form, the objective in seconds times
  the formulation's scale (stated when the file is written; models/formulation.py).
- admission (queue delays ``given``): the outer-approximation MILP at its initial cut set, the
  tangents of ``c_i x_i / B_i`` at the even shares ``B / k``, k = 1..min(free slots,
  candidates) (1..candidates when queued uploads share the band). Its optimum bounds the
  slot value from above; the decoded decisions take the closed-form split of their uploading
  set, and the evaluator gives their true value.

Solution files: any text with one ``NAME VALUE`` pair per line (Gurobi and SCIP ``.sol``,
HiGHS's solution file, CBC's output) or CPLEX's XML ``.sol`` (``<variable name=... value=...>``);
unknown names and other lines are skipped, and a variable the file leaves out is 0 (SCIP writes
only the non-zeros).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .schemas import Instance

FORMATS = ("lp", "mps")
XML_VARIABLE = re.compile(r"<variable\b[^>]*?\bname=\"([^\"]+)\"[^>]*?\bvalue=\"([^\"]+)\"")


@dataclass(frozen=True)
class Exported:
    form: Any  # opt_offload.models.linear.LinearForm
    decode: Callable[[np.ndarray], dict[str, Any]]
    description: str
    scale: float = 1.0  # the file's objective is the problem's times this


def exported(formulation, decisions: Callable[[], dict], description: str) -> Exported:
    """The formulation's matrix form, and a decoder of a solution vector through the
    formulation's own decoder (the vector is loaded into its Pyomo variables first)."""
    from .models.linear import from_formulation

    form = from_formulation(formulation)

    def decode(x: np.ndarray) -> dict:
        form.load(x)
        return decisions()

    return Exported(form, decode, description, formulation.objective_scale)


def assignment_export(instance) -> Exported:
    from .models.assignment import pyomo_formulation

    if instance.variant == "strict":
        stage, text = "transmission", "strict: min T"
    elif instance.objective.mode == "lexicographic":
        stage, text = "throughput", "admission, lexicographic stage 1: max S"
    else:
        stage, text = "weighted", "admission, weighted: max w_S S - w_T T"
    try:
        formulation = pyomo_formulation(instance, objective=stage)
    except ValueError as exc:  # a strict instance with a task no server can take
        raise InputError(f"export: {exc}") from None
    return exported(formulation, formulation.decode, f"assignment MILP, {text}")


def placement_export(instance) -> Exported:
    from .models.placement import pyomo_formulation

    formulation = pyomo_formulation(instance)
    text = f"placement MILP, objective {instance.objective}"
    if formulation.objective_scale != 1.0:
        text += f" in seconds times {formulation.objective_scale:.6g}"
    return exported(formulation, formulation.decode, text)


def admission_export(instance) -> Exported:
    from .models.admission import SlotData, pyomo_formulation
    from .solvers.admission.common import as_plain, decisions_of

    if instance.queue.delay != "given":
        raise InputError(
            "export: queue.delay 'estimate' is solved as a fixed point of many MILPs; "
            "export takes queue.delay 'given'"
        )
    data = SlotData.from_instance(instance)
    if not data.candidates:
        raise InputError("export: no candidate can upload this slot; the model has no variables")
    formulation = pyomo_formulation(data)

    def decisions() -> dict:
        return as_plain(decisions_of(data, *formulation.decode()))

    most = len(data.candidates) if data.shared else min(data.free_slots, len(data.candidates))
    text = f"admission outer-approximation MILP, tangents at B/k for k = 1..{max(1, most)}"
    return exported(formulation, decisions, text)


EXPORTERS = {
    "assignment": assignment_export,
    "placement": placement_export,
    "admission": admission_export,
}


def export_model(instance: Instance) -> Exported:
    return EXPORTERS[instance.kind](instance)


def highs_model(form):
    """The linear form as a highspy model, names included."""
    import highspy

    from .solvers.backends.cvxpy_highs import silence_highs_banner

    silence_highs_banner()
    lp = highspy.HighsLp()
    rows, columns = form.shape
    lp.num_col_, lp.num_row_ = columns, rows
    lp.col_cost_ = form.objective
    lp.offset_ = form.offset
    lp.sense_ = highspy.ObjSense.kMaximize if form.sense == "max" else highspy.ObjSense.kMinimize
    lp.col_lower_, lp.col_upper_ = form.col_lower, form.col_upper
    lp.row_lower_, lp.row_upper_ = form.row_lower, form.row_upper
    matrix = form.matrix.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in form.integer
    ]
    lp.col_names_ = list(form.names)
    lp.row_names_ = list(form.row_names)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs


def write_model(form, path: Path, fmt: str) -> None:
    """HiGHS writes by the file's extension; ``path`` must end in ``.lp`` or ``.mps``."""
    if path.suffix != f".{fmt}":
        raise ValueError(f"{path}: expected a .{fmt} file")
    highs_model(form).writeModel(str(path))


def read_solution(path: str | Path, form) -> np.ndarray:
    """A solution file's values in column order (see the module docstring for formats)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"--from-solution {path}: cannot read: {exc.strerror or exc}") from None
    position = {name: j for j, name in enumerate(form.names)}
    x = np.zeros(len(form.names))
    pairs = XML_VARIABLE.findall(text) or (line.split()[:2] for line in text.splitlines())
    found = 0
    for pair in pairs:
        if len(pair) == 2 and pair[0] in position:
            try:
                x[position[pair[0]]] = float(pair[1])
            except ValueError:
                continue
            found += 1
    if not found:
        raise InputError(
            f"--from-solution {path}: names no variable of the exported model "
            f"(expected names such as {form.names[0] if form.names else 'none'})"
        )
    return x
