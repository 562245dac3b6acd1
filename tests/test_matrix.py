"""The standard-case matrix (after CVXPY's ``solver_test_helpers``): every registered solver
on every shipped instance, held to the termination and objective stored beside the instance
in ``instances/<kind>/expected.csv``.

A new solver joins by registering (the rules below follow from ``exact``); a new instance by
a row in its folder's ``expected.csv``. Rows with ``limit_s`` run under that time limit (heavy
instances), and then a ``time-limit`` answer is accepted if what it holds is consistent with
the stored optimum.
"""

from __future__ import annotations

import csv
import math

import pytest

from opt_offload.errors import SolverUnavailable
from opt_offload.io import load_instance
from opt_offload.registry import solvers_for
from opt_offload.schemas import Status
from opt_offload.solve import GAP_SLACK, solve  # the float slack of "within the gap"

from .conftest import INSTANCES, instance_files

TOL = 1e-6


def expectations() -> dict:
    rows = {}
    for kind in ("admission", "assignment", "placement"):
        with open(INSTANCES / kind / "expected.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[INSTANCES / kind / row["instance"]] = row
    return rows


EXPECTED = expectations()
CASES = [(path, spec.name) for path in instance_files() for spec in solvers_for(path.parent.name)]


def test_every_shipped_instance_has_an_expectation():
    assert set(instance_files()) == set(EXPECTED)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=1e-9)


def not_better(solution, optimum: float) -> bool:
    slack = TOL * max(1.0, abs(optimum))
    if solution.sense == "max":
        return solution.objective <= optimum + slack
    return solution.objective >= optimum - slack


@pytest.mark.parametrize(
    "path, solver", CASES, ids=[f"{p.parent.name}/{p.stem}/{s}" for p, s in CASES]
)
def test_matrix(path, solver):
    instance = load_instance(path)
    expected = EXPECTED[path]
    spec = next(s for s in solvers_for(instance.kind) if s.name == solver)
    try:
        spec.check(instance)
    except SolverUnavailable:
        pytest.skip(f"{solver} cannot take {path.name}")
    limit = float(expected["limit_s"]) if expected["limit_s"] else None
    solution = solve(instance, solver, time_limit=limit)
    status, termination = solution.status, expected["termination"]
    optimum = float(expected["objective"]) if expected["objective"] else None

    # the vocabulary, whoever the solver
    assert status is not Status.ERROR, solution.message
    assert solution.has_decisions == (solution.objective is not None)
    if solution.has_decisions:
        assert not solution.violations
    if status is Status.GAVE_UP or status is Status.INFEASIBLE:
        assert not solution.has_decisions
    if not spec.exact:
        assert status in (Status.FEASIBLE, Status.GAVE_UP, Status.TIME_LIMIT)
    if solution.has_decisions and termination == "optimal":
        assert not_better(solution, optimum), "beats the stored optimum"
    if solution.bound is not None and termination == "optimal":
        # a bound must not exclude the optimum
        margin = TOL * max(1.0, abs(optimum))
        assert (
            (solution.bound >= optimum - margin)
            if solution.sense == "max"
            else (solution.bound <= optimum + margin)
        )
    if termination == "infeasible":
        assert status in ((Status.INFEASIBLE,) if spec.exact else (Status.GAVE_UP,))
    if not spec.exact:
        return

    # an exact solver reaches the stored answer (or, under a limit, is consistent with it)
    if limit is not None and status is Status.TIME_LIMIT:
        return
    if termination == "optimal":
        assert status is Status.OPTIMAL, solution.message
        assert close(solution.objective, optimum)
        assert solution.gap is not None and solution.gap <= 1e-6 + GAP_SLACK
    elif termination == "feasible":
        # the stored value is the best known; a solver that proves optimality (exact-joint in
        # estimate mode) must prove exactly that value
        assert status in (Status.FEASIBLE, Status.OPTIMAL), solution.message
        if status is Status.OPTIMAL:
            assert close(solution.objective, optimum)
            assert solution.gap is not None and solution.gap <= 1e-6 + GAP_SLACK
