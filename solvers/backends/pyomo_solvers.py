"""Gurobi, CPLEX and CBC on a formulation's Pyomo model, through Pyomo's own interfaces:

- ``pyomo-gurobi``: ``pyomo.contrib.solver``'s ``gurobi_direct`` (gurobipy), read through the
  same TerminationCondition as ``pyomo-highs``;
- ``pyomo-cplex``: Pyomo's ``cplex_direct`` (the ``cplex`` package), and ``pyomo-cbc``: Pyomo's
  ``cbc`` (the ``cbc`` executable on PATH), both read through the older ``pyomo.opt``
  TerminationCondition.

Pyomo's enums import without any of these solvers, so the status tables are tested everywhere;
whether a solver is here is what Pyomo's ``available()`` would find (the package, or the
executable). The PyPI wheels of gurobipy and cplex carry size-limited licences (Gurobi: 2,000
variables and constraints; CPLEX Community Edition: 1,000): a model over the limit is an
``error`` result whose message says so, never a traceback.
"""

from __future__ import annotations

import logging
import math
import shutil
from contextlib import contextmanager
from typing import ClassVar

from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.schemas import Status

from .base import Backend, BackendResult, Limits, register_backend, unscaled
from .pyomo_highs import PyomoHighs
from .scip import quiet_fds

# Gurobi's error 10010 and CPLEX's 1016: the size limit of the free licences
GUROBI_SIZE_LIMIT, CPLEX_SIZE_LIMIT = 10010, 1016


def licence_limit(exc: Exception) -> str | None:
    """The licence-limit message of a Gurobi or CPLEX error, else None."""
    if type(exc).__name__ == "GurobiError" and getattr(exc, "errno", None) == GUROBI_SIZE_LIMIT:
        return f"Gurobi: size-limited licence: {exc}"
    if type(exc).__name__ == "CplexSolverError" and CPLEX_SIZE_LIMIT in getattr(exc, "args", ()):
        return f"CPLEX: Community Edition size limit: {str(exc).strip()}"
    return None


def failed(solver: str, exc: Exception) -> BackendResult:
    message = licence_limit(exc) or f"{solver}: {str(exc).strip() or type(exc).__name__}"
    return BackendResult(Status.ERROR, None, None, None, "error", message.splitlines()[0])


@register_backend
class PyomoGurobi(PyomoHighs):
    name = "pyomo-gurobi"
    solver = "Gurobi"
    requires = ("pyomo", "gurobipy")
    install = "pip install gurobipy; the wheel's licence is size-limited"
    warm_start = False  # the MIP start of pyomo-highs is sent through highspy

    def persistent(self):
        if self._highs is None:
            from pyomo.contrib.solver.solvers.gurobi.gurobi_direct import GurobiDirect

            self._highs = GurobiDirect()
        return self._highs

    def solver_options(self, limits: Limits) -> dict:
        return {} if limits.workers is None else {"threads": limits.workers}

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        try:
            with quiet_fds():  # gurobipy prints its licence on fd 1
                return super().run(formulation, limits, warm)
        except Exception as exc:  # gurobipy raises for licence limits and solver failures
            return failed(self.solver, exc)

    @classmethod
    def licence(cls) -> str:
        """What Pyomo's interface says of the licence (FullLicense, LimitedLicense, ...)."""
        from pyomo.contrib.solver.solvers.gurobi.gurobi_direct import GurobiDirect

        with quiet_fds():
            return str(GurobiDirect().available().name)


def legacy_terminations() -> list[str]:
    from pyomo.opt import TerminationCondition

    return [member.name for member in TerminationCondition]


@contextmanager
def pyomo_logging_at(level: int):
    """Pyomo warns when it loads the incumbent of a solve stopped at a limit: that is the
    incumbent asked for, and the status says so."""
    logger = logging.getLogger("pyomo.core")
    saved = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(saved)


class PyomoLegacy(Backend):
    """A solver behind Pyomo's older ``SolverFactory`` (``pyomo.opt``)."""

    layer = "pyomo"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP})
    factory: ClassVar[str]
    # time, gap, abs_gap, threads -> the solver's own names
    option_names: ClassVar[dict[str, str]]
    fixed_options: ClassVar[dict[str, str]] = {}

    # pyomo.opt's TerminationCondition -> ours, by member name (every member; tested).
    STATUS_MAP = {
        "optimal": Status.OPTIMAL,
        "globallyOptimal": Status.OPTIMAL,
        "maxTimeLimit": Status.TIME_LIMIT,
        # limits this package never sets; stopping on one proves nothing
        "maxIterations": Status.TIME_LIMIT,
        "maxEvaluations": Status.TIME_LIMIT,
        "minFunctionValue": Status.TIME_LIMIT,
        "userInterrupt": Status.TIME_LIMIT,
        "resourceInterrupt": Status.TIME_LIMIT,
        # CBC's word for a time limit reached with only a fractional point (no incumbent)
        "intermediateNonInteger": Status.TIME_LIMIT,
        "infeasible": Status.INFEASIBLE,
        # our objectives are sums of bounded terms, so "infeasible or unbounded" is infeasible
        "infeasibleOrUnbounded": Status.INFEASIBLE,
        # a solution without a proof of optimality
        "feasible": Status.FEASIBLE,
        "locallyOptimal": Status.FEASIBLE,
        "minStepLength": Status.ERROR,
        "unbounded": Status.ERROR,
        "invalidProblem": Status.ERROR,
        "noSolution": Status.ERROR,
        "solverFailure": Status.ERROR,
        "internalSolverError": Status.ERROR,
        "error": Status.ERROR,
        "licensingProblems": Status.ERROR,
        "other": Status.ERROR,
        "unknown": Status.ERROR,
    }

    @classmethod
    def native_statuses(cls) -> list[str]:
        return legacy_terminations()

    def configured(self, limits: Limits):
        import pyomo.environ as pyo

        solver = pyo.SolverFactory(self.factory)
        solver.options.update(self.fixed_options)
        names = self.option_names
        solver.options[names["gap"]] = limits.mip_gap
        if limits.mip_abs_gap is not None:
            solver.options[names["abs_gap"]] = limits.mip_abs_gap
        if limits.time_limit is not None:
            solver.options[names["time"]] = limits.seconds
        if limits.workers is not None:
            solver.options[names["threads"]] = limits.workers
        return solver

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        model = formulation.model
        try:
            with quiet_fds():
                results = self.configured(limits).solve(model, load_solutions=False)
        except Exception as exc:  # the cplex package raises for licence limits
            return failed(self.solver, exc)
        native = results.solver.termination_condition.name
        found = len(results.solution) > 0
        if found:
            with pyomo_logging_at(logging.ERROR):
                model.solutions.load_from(results)
        bound = unscaled(self.bound(results, formulation.sense, native), formulation)
        incumbent = unscaled(finite(model_objective(model)), formulation) if found else None
        return self.result(formulation, native, found, bound, incumbent)

    @classmethod
    def bound(cls, results, sense: str, native: str) -> float | None:
        """The proven bound Pyomo read from the solver's answer."""
        problem = results.problem
        return finite(problem.upper_bound if sense == "max" else problem.lower_bound)


def finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def model_objective(model) -> float | None:
    import pyomo.environ as pyo

    (objective,) = model.component_data_objects(pyo.Objective, active=True)
    return pyo.value(objective, exception=False)


@register_backend
class PyomoCplex(PyomoLegacy):
    name = "pyomo-cplex"
    solver = "CPLEX"
    requires = ("pyomo", "cplex")
    install = "pip install cplex; the wheel is the size-limited Community Edition"
    factory = "cplex_direct"
    option_names = {
        "time": "timelimit",
        "gap": "mip_tolerances_mipgap",
        "abs_gap": "mip_tolerances_absmipgap",
        "threads": "threads",
    }

    @classmethod
    def licence(cls) -> str:
        """A model just over the Community Edition's 1,000 variables either solves or hits
        the size limit."""
        try:
            with quiet_fds():
                import cplex

                problem = cplex.Cplex()
                problem.variables.add(obj=[1.0] * 1001)
                problem.solve()
        except Exception as exc:
            return "size-limited" if licence_limit(exc) else f"no: {str(exc).strip()[:60]}"
        return "full"


@register_backend
class PyomoCbc(PyomoLegacy):
    name = "pyomo-cbc"
    solver = "CBC"
    requires = ("pyomo",)
    install = "a cbc executable on PATH, e.g. apt-get install coinor-cbc"
    factory = "cbc"
    option_names = {"time": "sec", "gap": "ratio", "abs_gap": "allow", "threads": "threads"}
    # CBC's limit counts CPU seconds unless told otherwise; the package's limits are wall time
    fixed_options = {"timeMode": "elapsed"}

    @classmethod
    def missing(cls) -> list[str]:
        return super().missing() + ([] if shutil.which("cbc") else ["cbc (on PATH)"])

    @classmethod
    def bound(cls, results, sense: str, native: str) -> float | None:
        """CBC minimises the negated objective of a maximisation; stopped early, its "best
        possible" reaches Pyomo's upper bound with the sign of that minimisation (-886.2 for a
        throughput of at most 886.2 at 1,000 tasks), so a maximisation's bound is kept only
        when CBC proved its optimum."""
        if sense == "max" and cls.STATUS_MAP[native] is not Status.OPTIMAL:
            return None
        return super().bound(results, sense, native)
