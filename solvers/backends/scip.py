"""SCIP through PySCIPOpt directly, read through SCIP's own status and dual bound:

- ``scip``: a PySCIPOpt model a formulation states itself (the admission MISOCP,
  :func:`opt_offload.models.admission.scip_formulation`);
- ``pyomo-scip``: a Pyomo MILP read back in matrix form (:mod:`opt_offload.models.linear`),
  stated as a PySCIPOpt model, its solution loaded back into the Pyomo variables.

Both share CVXPY+SCIP's table of SCIP's statuses (solvers/backends/cvxpy_scip.py): the
status is SCIP's own here too, only the way the model reaches SCIP differs.
"""

from __future__ import annotations

import math
import os
import sys
import time
from contextlib import contextmanager

from opt_offload.models.formulation import Formulation, ProblemClass

from .base import Backend, BackendResult, Limits, register_backend, unscaled
from .cvxpy_scip import FEASIBILITY_TOLERANCE, CvxpyScip, scip_statuses


@contextmanager
def quiet_fds():
    """Solvers' C libraries print banners and warnings on fd 1 and 2 past their own quiet
    switches (SoPlex, Gurobi's licence line), which would corrupt ``--json`` output: both go
    to /dev/null for the solve."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def optimize(model, limits: Limits) -> None:
    """Quiet, the declared gaps, the tight feasibility tolerance, the time limit; solve."""
    model.hideOutput()
    model.setParam("limits/gap", limits.mip_gap)
    if limits.mip_abs_gap is not None:
        model.setParam("limits/absgap", limits.mip_abs_gap)
    model.setParam("numerics/feastol", FEASIBILITY_TOLERANCE)
    if limits.time_limit is not None:
        model.setParam("limits/time", limits.seconds)
    with quiet_fds():
        model.optimize()


def dual_bound(model) -> float | None:
    """SCIP's dual bound; its infinity (1e20) is no bound."""
    bound = model.getDualbound()
    return None if model.isInfinity(abs(bound)) else float(bound)


class ScipReading(Backend):
    """What both SCIP backends share: the status table and the reading of a solved model."""

    solver = "SCIP"
    STATUS_MAP = CvxpyScip.STATUS_MAP

    @classmethod
    def native_statuses(cls) -> list[str]:
        return scip_statuses()

    def read(self, formulation: Formulation, model) -> BackendResult:
        found = model.getNSols() > 0
        incumbent = unscaled(model.getPrimalbound(), formulation) if found else None
        bound = unscaled(dual_bound(model), formulation)
        return self.result(formulation, model.getStatus(), found, bound, incumbent)


@register_backend
class Scip(ScipReading):
    name = "scip"
    layer = "pyscipopt"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP, ProblemClass.MISOCP})
    requires = ("pyscipopt",)
    install = "pip install pyscipopt"

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        optimize(formulation.model, limits)
        return self.read(formulation, formulation.model)


@register_backend
class PyomoScip(ScipReading):
    name = "pyomo-scip"
    layer = "pyomo"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP})
    requires = ("pyomo", "pyscipopt")
    install = "pip install pyscipopt"

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        from opt_offload.models.linear import from_formulation

        start = time.perf_counter()
        form = from_formulation(formulation)
        model, columns = scip_model(form)
        optimize(model, limits.after(start))
        if model.getNSols() > 0:
            best = model.getBestSol()
            form.load([model.getSolVal(best, v) for v in columns])
        return self.read(formulation, model)


def scip_model(form):
    """The matrix form as a PySCIPOpt model (its columns in order), names kept."""
    from pyscipopt import Model, quicksum

    model = Model("milp")
    infinity = model.infinity()

    def clip(value: float) -> float:
        return min(max(float(value), -infinity), infinity)

    columns = [
        model.addVar(
            name,
            vtype="B" if integer and lo >= 0 and hi <= 1 else ("I" if integer else "C"),
            lb=clip(lo),
            ub=clip(hi),
            obj=float(c),
        )
        for name, integer, lo, hi, c in zip(
            form.names, form.integer, form.col_lower, form.col_upper, form.objective
        )
    ]
    matrix = form.matrix
    for r, name in enumerate(form.row_names):
        start, stop = matrix.indptr[r], matrix.indptr[r + 1]
        body = quicksum(
            float(a) * columns[c]
            for a, c in zip(matrix.data[start:stop], matrix.indices[start:stop])
        )
        lower, upper = form.row_lower[r], form.row_upper[r]
        if lower == upper:
            model.addCons(body == float(lower), name=name)
        elif math.isfinite(lower) and math.isfinite(upper):
            model.addCons(float(lower) <= (body <= float(upper)), name=name)
        elif math.isfinite(upper):
            model.addCons(body <= float(upper), name=name)
        else:
            model.addCons(body >= float(lower), name=name)
    model.addObjoffset(form.offset)
    if form.sense == "max":
        model.setMaximize()
    return model, columns
