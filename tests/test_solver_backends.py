"""The backends users bring (CP-SAT, SCIP direct, Gurobi, CPLEX, CBC): every native status
mapped, every installed backend against an independent oracle (enumeration, brute force) on
small instances of every problem it takes, agreement with HiGHS on the shipped instances,
one-line refusals, and exported models re-solved by highspy directly."""

from __future__ import annotations

import math

import pytest

from opt_offload.io import load_instance
from opt_offload.models.formulation import ProblemClass, binary_unit
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.backends import backend_classes, backends_for

from .conftest import INSTANCES, run_cli
from .placement_cases import brute_force
from .placement_cases import random_instance as random_placement
from .test_assignment_exact import feasible_outcomes
from .test_assignment_exact import random_instance as random_assignment

PYOMO_MILP = backends_for("pyomo", ProblemClass.MILP)
OTHER_PYOMO = [name for name in PYOMO_MILP if name != "pyomo-highs"]
NEW = ("pyomo-cpsat", "pyomo-scip", "scip", "pyomo-gurobi", "pyomo-cplex", "pyomo-cbc")


def need(backend: str) -> None:
    reason = backend_classes()[backend].unavailable()
    if reason:
        pytest.skip(reason)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


# --- status maps against the native enums ---------------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_status_map_is_exactly_the_native_enum(name):
    cls = backend_classes()[name]
    module = {"pyomo-cpsat": "ortools"}.get(name)
    if module:
        pytest.importorskip(module)
    natives = cls.native_statuses()
    assert natives and set(natives) == set(cls.STATUS_MAP)
    assert all(isinstance(cls.STATUS_MAP[n], Status) for n in natives)


def test_native_enums_are_the_libraries_own():
    from pyomo.contrib.solver.common.results import TerminationCondition
    from pyomo.opt import TerminationCondition as Legacy
    from pyscipopt.scip import PY_SCIP_STATUS

    classes = backend_classes()
    assert set(classes["pyomo-gurobi"].native_statuses()) == {m.name for m in TerminationCondition}
    for name in ("pyomo-cplex", "pyomo-cbc"):
        assert set(classes[name].native_statuses()) == {m.name for m in Legacy}
    scip = {a.lower() for a in dir(PY_SCIP_STATUS) if a.isupper()}
    assert set(classes["scip"].native_statuses()) == scip == set(classes["pyomo-scip"].STATUS_MAP)


def test_cpsat_enum_is_cp_models_own():
    pytest.importorskip("ortools")
    from ortools.sat.python import cp_model

    table = backend_classes()["pyomo-cpsat"].STATUS_MAP
    # CpSolver.status_name(code) is the name the backend reads
    names = {cp_model.CpSolver().status_name(getattr(cp_model, n)) for n in table}
    assert names == set(table)


def test_no_limit_or_doubt_maps_to_a_proof():
    doubtful = {"FEASIBLE", "UNKNOWN", "maxTimeLimit", "feasible", "locallyOptimal", "unknown"}
    doubtful |= {"timelimit", "userInterrupt", "maxIterations", "noSolution", "error"}
    for name in NEW:
        table = backend_classes()[name].STATUS_MAP
        assert not [n for n in doubtful if table.get(n) in (Status.OPTIMAL, Status.INFEASIBLE)]


# --- every backend against an independent oracle --------------------------------------------


@pytest.mark.parametrize("backend", [*OTHER_PYOMO, "cvxpy-scip"])
def test_assignment_backend_equals_enumeration(backend):
    need(backend)
    solver = "exact-cvxpy" if backend.startswith("cvxpy") else "exact"
    infeasible = 0
    for seed in range(12):
        instance = random_assignment(seed)
        outcomes = feasible_outcomes(instance)
        solution = solve(instance, solver, mode="lexicographic", backend=backend)
        if not outcomes:
            assert solution.status is Status.INFEASIBLE, (seed, solution.message)
            infeasible += 1
            continue
        assert solution.status is Status.OPTIMAL, (seed, solution.message)
        best_s, best_t, _ = max(outcomes, key=lambda o: (o[0], -o[1]))
        assert solution.metrics["throughput"] == best_s, seed
        assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9), seed
    assert 0 < infeasible < 12  # both outcomes exercised


@pytest.mark.parametrize("backend", OTHER_PYOMO)
def test_placement_backend_equals_brute_force(backend):
    need(backend)
    for seed in range(10):
        instance = random_placement(seed, max_nodes=6)
        best = brute_force(instance)
        solution = solve(instance, "exact", backend=backend)
        if best is None:
            assert solution.status is Status.INFEASIBLE, (seed, solution.message)
            continue
        assert solution.status is Status.OPTIMAL, (seed, solution.message)
        assert solution.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9), seed
        assert solution.bound <= solution.objective * (1 + 1e-6) + 1e-9, seed


# --- the shipped instances: agreement with HiGHS --------------------------------------------

SHIPPED = [
    ("assignment", "gap1-1"),
    ("assignment", "hand-two-edges"),
    ("assignment", "testbed-s0"),
    ("assignment", "hand-strict-infeasible"),
    ("placement", "hand-chain"),
    ("placement", "llama2-13b-fp16-paper-testbed-1"),
]


@pytest.fixture(scope="module")
def highs_answers():
    return {}


@pytest.mark.parametrize("backend", OTHER_PYOMO)
@pytest.mark.parametrize(("kind", "name"), SHIPPED)
def test_backend_agrees_with_highs_on_shipped_instances(highs_answers, backend, kind, name):
    need(backend)
    instance = load_instance(INSTANCES / kind / f"{name}.json")
    if (kind, name) not in highs_answers:
        highs_answers[kind, name] = solve(instance, "exact")
    reference = highs_answers[kind, name]
    solution = solve(instance, "exact", backend=backend)
    if solution.status is Status.ERROR and "size" in (solution.message or ""):
        pytest.skip(f"{backend}'s licence is size-limited: {solution.message}")
    assert solution.status is reference.status, solution.message
    if solution.status is Status.OPTIMAL:
        assert close(solution.objective, reference.objective)
        if kind == "assignment":  # lexicographic: the second objective agrees too
            assert close(solution.metrics["transmission_s"], reference.metrics["transmission_s"])


# --- CP-SAT's exact integers ----------------------------------------------------------------


def test_binary_unit_is_an_exact_division():
    for value in (1.0, 3.0, 7.3e12, 1.6e10, 12345.678):
        unit = binary_unit(value)
        assert 1.0 <= value / unit < 2.0 and (value / unit) * unit == value
    assert binary_unit(0.0) == 1.0


def test_cpsat_states_its_scale_and_rounding():
    need("pyomo-cpsat")
    exact = solve(load_instance(INSTANCES / "assignment" / "gap1-1.json"), backend="pyomo-cpsat")
    assert exact.status is Status.OPTIMAL and "(exact)" in exact.message
    # bytes / B(d1, d2) has no short decimal: the objective is rounded, the bound widened
    instance = load_instance(INSTANCES / "placement" / "llama2-13b-fp16-paper-testbed-1.json")
    rounded = solve(instance, "exact", backend="pyomo-cpsat")
    assert "objective scale" in rounded.message
    assert rounded.bound <= rounded.objective


def test_cpsat_refuses_continuous_columns_of_the_admission_milp():
    need("pyomo-cpsat")
    done = run_cli(
        "solve",
        INSTANCES / "admission" / "table3-binding.json",
        "--solver",
        "exact-pyomo",
        "--backend",
        "pyomo-cpsat",
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "cannot take this solver's pyomo milp with continuous columns" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_cpsat_workers_and_time_limit_reach_the_solver():
    need("pyomo-cpsat")
    instance = load_instance(INSTANCES / "placement" / "hand-paper.json")
    solution = solve(instance, "exact", backend="pyomo-cpsat", workers=1, time_limit=5.0)
    assert solution.status is Status.OPTIMAL
    assert solution.options["workers"] == 1 and solution.options["backend"] == "pyomo-cpsat"
