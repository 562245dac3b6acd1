"""``pyomo-cpsat``: a Pyomo MILP solved by OR-Tools CP-SAT. The model is read back in matrix
form (:mod:`opt_offload.models.linear`), scaled exactly to integers
(:func:`opt_offload.models.cpsat.build_cpsat`, the scale stated in the message), and CP-SAT's
solution is loaded back into the Pyomo variables for the formulation's decoder.

CP-SAT proves on the integer model: its bound is read back in the problem's units and widened
by the objective's rounding error where the objective could not be scaled exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.schemas import Status

from .base import Backend, BackendResult, Limits, register_backend, unscaled


def cpsat_statuses() -> list[str]:
    """Every member of CP-SAT's ``CpSolverStatus`` enum, by name."""
    from ortools.sat import cp_model_pb2

    return list(cp_model_pb2.CpSolverStatus.keys())


@register_backend
class PyomoCpsat(Backend):
    name = "pyomo-cpsat"
    layer = "pyomo"
    solver = "CP-SAT"
    classes = frozenset({ProblemClass.MILP})
    requires = ("pyomo", "ortools")
    install = 'pip install "opt-offload[backends]", or pip install ortools'
    integer_only = True

    # CpSolverStatus -> ours (every member; tested). FEASIBLE is CP-SAT's word for a limit
    # reached with an incumbent and UNKNOWN for one reached without (the model is validated
    # before the solve, so no other path reaches either).
    STATUS_MAP = {
        "OPTIMAL": Status.OPTIMAL,
        "FEASIBLE": Status.TIME_LIMIT,
        "INFEASIBLE": Status.INFEASIBLE,
        "UNKNOWN": Status.TIME_LIMIT,
        "MODEL_INVALID": Status.ERROR,
    }

    @classmethod
    def native_statuses(cls) -> list[str]:
        return cpsat_statuses()

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        from ortools.sat.python import cp_model

        from opt_offload.models.cpsat import ScalingError, build_cpsat
        from opt_offload.models.linear import from_formulation

        start = time.perf_counter()
        form = from_formulation(formulation)
        try:
            built = build_cpsat(form)
        except ScalingError as exc:
            return BackendResult(Status.ERROR, None, None, None, "scaling", f"CP-SAT: {exc}")
        solver = configured_solver(limits.after(start), built.objective_scale)
        native = solver.solve(built.model)
        label = solver.status_name(native)
        message = f"CP-SAT: {label}, {scale_text(built)}"
        if native == cp_model.MODEL_INVALID:
            message += f": {built.model.validate()}"
        found = native in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        incumbent = None
        if found:
            form.load([solver.value(v) for v in built.variables])
            incumbent = unscaled(built.value_of(solver.objective_value), formulation)
        result = self.result(
            formulation,
            label,
            found,
            unscaled(true_bound(built, solver), formulation),
            incumbent,
            message,
        )
        if result.status is Status.OPTIMAL and not rounding_within_gap(built, solver, limits):
            note = "; optimal for the rounded objective, not proven for the exact one"
            return replace(result, status=Status.FEASIBLE, message=message + note)
        return result


def configured_solver(limits: Limits, objective_scale: float):
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    if limits.time_limit is not None:
        solver.parameters.max_time_in_seconds = limits.seconds
    if limits.workers is not None:
        solver.parameters.num_workers = limits.workers
    solver.parameters.relative_gap_limit = limits.mip_gap
    # the objective is integer, so a gap below 1 is a proof; an absolute gap asked for in the
    # model's units is that gap times the integer objective's scale
    absolute = (limits.mip_abs_gap or 0.0) * objective_scale
    solver.parameters.absolute_gap_limit = max(absolute, 0.5)
    return solver


def true_bound(built, solver) -> float | None:
    """CP-SAT's bound in the model's units, widened by the rounding error."""
    bound = solver.best_objective_bound
    if not math.isfinite(bound):
        return None
    widen = built.objective_error if built.sense == "max" else -built.objective_error
    return built.value_of(bound) + widen


def rounding_within_gap(built, solver, limits: Limits) -> bool:
    """Whether the objective's rounding (both ways: the incumbent and the bound) stays within
    the declared gap of the incumbent (relative, or absolute where one is asked for)."""
    if built.objective_error == 0:
        return True
    incumbent = built.value_of(solver.objective_value)
    allowed = max(limits.mip_gap * max(1.0, abs(incumbent)), limits.mip_abs_gap or 0.0)
    return 2 * built.objective_error <= allowed


def scale_text(built) -> str:
    error = built.objective_error
    exact = "exact" if error == 0 else f"rounded, error <= {error:.3g}"
    return f"objective scale {built.objective_scale:g} ({exact})"
