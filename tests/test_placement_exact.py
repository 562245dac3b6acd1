"""The placement MILP (models/placement.py) against independent oracles: brute-force enumeration
judged by the shared evaluator, a second linearisation, the CVXPY statement, hand optima."""

from __future__ import annotations

import pytest

from opt_offload.io import load_instance
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .conftest import INSTANCES
from .placement_cases import brute_force, random_instance

SEEDS = range(200)


def assert_matches_enumeration(instance, solution) -> None:
    best = brute_force(instance)
    if best is None:
        assert solution.status is Status.INFEASIBLE, solution
        return
    assert solution.status is Status.OPTIMAL, solution
    assert solution.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9)
    if solution.bound is not None:
        assert solution.bound <= solution.objective + 1e-6 * max(1.0, solution.objective)


def test_milp_equals_enumeration_on_200_random_graphs():
    # at most 9 nodes and 3 devices; both objectives, pins, compute bounds, infeasible cases
    infeasible = 0
    for seed in SEEDS:
        instance = random_instance(seed)
        solution = solve(instance, "exact")
        assert_matches_enumeration(instance, solution)
        infeasible += solution.status is Status.INFEASIBLE
    assert 0 < infeasible < len(SEEDS) / 2  # the cases exercise both outcomes


@pytest.mark.parametrize("seed", range(0, 200, 5))
def test_pairwise_linearisation_agrees(seed):
    instance = random_instance(seed, objective="graph")
    assert_matches_enumeration(instance, solve(instance, "exact", cut="pairwise"))


@pytest.mark.parametrize("seed", range(0, 200, 8))
def test_cvxpy_agrees_with_pyomo(seed):
    instance = random_instance(seed)
    pyomo, cvxpy = solve(instance, "exact"), solve(instance, "exact-cvxpy")
    assert cvxpy.status is pyomo.status
    if pyomo.status is Status.OPTIMAL:
        assert cvxpy.objective == pytest.approx(pyomo.objective, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name, optimum", [("hand-chain.json", 1.0), ("hand-paper.json", 5.0)])
@pytest.mark.parametrize("solver", ["exact", "exact-cvxpy"])
def test_hand_optima(name, optimum, solver):
    solution = solve(load_instance(INSTANCES / "placement" / name), solver)
    assert solution.status is Status.OPTIMAL
    assert solution.objective == pytest.approx(optimum)
