"""``cvxpy-scip``: a CVXPY problem (MILP or MISOCP) solved by SCIP, read through SCIP's own
status from the PySCIPOpt model CVXPY keeps in ``solver_stats.extra_stats["model"]``.

CVXPY's own status would not do: it calls a time limit with an incumbent
``optimal_inaccurate`` and one without ``solver_error`` (and raises, losing the model: see
:func:`solve_through_chain`). The incumbent and the dual bound come
from the same PySCIPOpt model (CVXPY hands SCIP the minimisation of the negated objective of
a Maximize problem).
"""

from __future__ import annotations

import warnings

from opt_offload.models.formulation import Formulation, ProblemClass
from opt_offload.schemas import Status

from .base import Backend, BackendResult, Limits, register_backend, unscaled
from .cvxpy_highs import minimised_sign

# Cones held to a tight tolerance: the admission MISOCP's perspective constraints are what
# price the bandwidth, and SCIP's default 1e-6 lets a split look cheaper than it is.
FEASIBILITY_TOLERANCE = 1e-9


def scip_statuses() -> list[str]:
    """Every SCIP status, as PySCIPOpt's ``Model.getStatus()`` spells it."""
    from pyscipopt.scip import PY_SCIP_STATUS

    return [name.lower() for name in dir(PY_SCIP_STATUS) if name.isupper()]


@register_backend
class CvxpyScip(Backend):
    name = "cvxpy-scip"
    layer = "cvxpy"
    solver = "SCIP"
    classes = frozenset({ProblemClass.LP, ProblemClass.MILP, ProblemClass.MISOCP})
    requires = ("cvxpy", "pyscipopt")

    # SCIP_STATUS -> ours (every member; tested).
    STATUS_MAP = {
        "optimal": Status.OPTIMAL,
        # limits/gap is how mip_gap reaches SCIP: stopping there is the proof asked for
        "gaplimit": Status.OPTIMAL,
        "timelimit": Status.TIME_LIMIT,
        # limits this package never sets; stopping on one proves nothing beyond the bound
        "nodelimit": Status.TIME_LIMIT,
        "totalnodelimit": Status.TIME_LIMIT,
        "stallnodelimit": Status.TIME_LIMIT,
        "sollimit": Status.TIME_LIMIT,
        "bestsollimit": Status.TIME_LIMIT,
        "restartlimit": Status.TIME_LIMIT,
        "primallimit": Status.TIME_LIMIT,
        "duallimit": Status.TIME_LIMIT,
        "memlimit": Status.TIME_LIMIT,
        "userinterrupt": Status.TIME_LIMIT,
        "infeasible": Status.INFEASIBLE,
        # our objectives are sums of bounded terms, so never unbounded
        "inforunbd": Status.INFEASIBLE,
        "unbounded": Status.ERROR,
        "unknown": Status.ERROR,
    }

    @classmethod
    def native_statuses(cls) -> list[str]:
        return scip_statuses()

    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        import cvxpy as cp

        problem = formulation.model
        params = {"limits/gap": limits.mip_gap, "numerics/feastol": FEASIBILITY_TOLERANCE}
        if limits.time_limit is not None:
            params["limits/time"] = limits.seconds
        try:
            model = solve_through_chain(problem, params)
        except cp.error.SolverError as exc:
            return BackendResult(Status.ERROR, None, None, None, "solver_error", f"SCIP: {exc}")
        sign = minimised_sign(problem)
        found = model.getNSols() > 0 and formulation_has_values(formulation)
        incumbent = unscaled(sign * model.getPrimalbound(), formulation) if found else None
        dual = model.getDualbound()
        # SCIP's infinity is 1e20, a number: no bound rather than a "bound" of 1e20
        bound = None if model.isInfinity(abs(dual)) else unscaled(sign * dual, formulation)
        return self.result(formulation, model.getStatus(), found, bound, incumbent)


def solve_through_chain(problem, params: dict):
    """Solve ``problem`` with SCIP through CVXPY's public solving-chain steps and return the
    PySCIPOpt model; the solution is loaded into the problem's variables when SCIP has one.

    ``problem.solve`` would not do: where SCIP stops at its time limit before any solution,
    CVXPY raises a SolverError and the model, whose status says ``timelimit`` and whose dual
    bound is still worth reading, is lost with it."""
    import cvxpy as cp

    data, chain, inverse = problem.get_problem_data(cp.SCIP)
    raw = chain.solver.solve_via_data(data, False, False, {"scip_params": params})
    model = raw["model"]
    if model.getNSols() > 0:
        with warnings.catch_warnings():  # "solution may be inaccurate": our status says it
            warnings.simplefilter("ignore", UserWarning)
            problem.unpack_results(raw, chain, inverse)
    return model


def formulation_has_values(formulation: Formulation) -> bool:
    """Whether CVXPY loaded the solution into the variables (it does when SCIP has one)."""
    return all(v.value is not None for v in formulation.model.variables())
