"""``pyomo-highs``: a Pyomo model solved by HiGHS through ``pyomo.contrib.solver`` (the one
Pyomo-HiGHS interface of the package), read through Pyomo's ``TerminationCondition``.

The solver object is persistent: calling :meth:`PyomoHighs.solve` again on the same model
(the admission outer-approximation rounds add cuts between calls) sends HiGHS only the change.
"""

from __future__ import annotations

import math
from dataclasses import replace

from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.schemas import Status

from .base import Backend, BackendResult, Limits, register_backend, unscaled


def pyomo_terminations():
    from pyomo.contrib.solver.common.results import TerminationCondition

    return TerminationCondition


@register_backend
class PyomoHighs(Backend):
    name = "pyomo-highs"
    layer = "pyomo"
    solver = "HiGHS"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP})
    requires = ("pyomo", "highspy")
    absolute_gap = True
    warm_start = True

    # Pyomo's TerminationCondition -> ours, by member name (every member; tested).
    STATUS_MAP = {
        "convergenceCriteriaSatisfied": Status.OPTIMAL,
        "maxTimeLimit": Status.TIME_LIMIT,
        # limits this package never sets; stopping on one proves nothing
        "iterationLimit": Status.TIME_LIMIT,
        "objectiveLimit": Status.TIME_LIMIT,
        "interrupted": Status.TIME_LIMIT,
        "provenInfeasible": Status.INFEASIBLE,
        # our objectives are sums of bounded terms, so "infeasible or unbounded" is infeasible
        # (HiGHS answers it when presolve finds the constraints contradictory)
        "infeasibleOrUnbounded": Status.INFEASIBLE,
        "unbounded": Status.ERROR,
        "locallyInfeasible": Status.ERROR,  # a NLP answer; no proof for a MILP
        "minStepLength": Status.ERROR,
        "error": Status.ERROR,
        "licensingProblems": Status.ERROR,
        "emptyModel": Status.ERROR,
        "unknown": Status.ERROR,
    }

    def __init__(self) -> None:
        self._highs = None

    @classmethod
    def native_statuses(cls) -> list[str]:
        return [member.name for member in pyomo_terminations()]

    def persistent(self):
        if self._highs is None:
            from pyomo.contrib.solver.solvers.highs import Highs

            self._highs = Highs()
        return self._highs

    def solver_options(self, limits: Limits) -> dict:
        """More arguments of the interface's ``solve`` (HiGHS's MIP search is serial)."""
        return {}

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        from pyomo.contrib.solver.common.results import SolutionStatus

        extra = self.solver_options(limits)
        if warm:
            self.load_start(formulation.model)
            # HiGHS 1.16 prices a MIP start wrongly after presolve (seen: "optimal" at 1.039
            # for a start worth 1.365, the optimum 1.106; without presolve it finds 1.106)
            extra["solver_options"] = {"presolve": "off"}
        results = self.persistent().solve(
            formulation.model,
            time_limit=limits.seconds,
            rel_gap=limits.mip_gap,
            abs_gap=limits.mip_abs_gap,
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            **extra,
        )
        native = results.termination_condition.name
        found = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if found:
            results.solution_loader.load_vars()
        result = self.result(
            formulation,
            native,
            found,
            unscaled(results.objective_bound, formulation),
            unscaled(results.incumbent_objective, formulation),
        )
        return checked_after_start(formulation, result) if warm and found else result

    def load_start(self, model) -> None:
        """Send the model's variable values to HiGHS as a MIP start (pyomo.contrib.solver's
        interface takes none): the model is loaded first, so that ``solve`` only updates it."""
        import highspy

        solver = self.persistent()
        solver.set_instance(model)
        highs = solver._solver_model
        values = [0.0] * highs.getNumCol()
        for var, column in zip_columns(model, solver._pyomo_var_to_solver_var_map):
            values[column] = var.value or 0.0
        start = highspy.HighsSolution()
        start.col_value = values
        start.value_valid = True
        highs.setSolution(start)


def checked_after_start(formulation: Formulation, result: BackendResult) -> BackendResult:
    """A MIP-started solve is proven only when HiGHS's incumbent value is the value of the
    solution it hands back: HiGHS 1.16 was seen to call a start "optimal" with an incumbent
    value its solution did not have. Where the two differ, the answer is kept, unproven."""
    from pyomo.environ import Objective, value

    objective = next(formulation.model.component_data_objects(Objective, active=True))
    solution = value(objective) / formulation.objective_scale
    if result.incumbent is None or math.isclose(
        solution, result.incumbent, rel_tol=1e-6, abs_tol=1e-9
    ):
        return result
    note = (
        f"HiGHS's incumbent value {result.incumbent:.9g} after the MIP start is not its "
        f"solution's {solution:.9g}: not proven"
    )
    status = Status.FEASIBLE if result.status is Status.OPTIMAL else result.status
    return replace(result, status=status, message=note)


def zip_columns(model, columns: dict):
    """(variable, HiGHS column) for every variable of the model that HiGHS holds."""
    from pyomo.environ import Var

    for var in model.component_data_objects(Var, descend_into=True):
        if id(var) in columns:
            yield var, columns[id(var)]
