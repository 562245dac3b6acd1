"""Placement baselines: feasible whenever they answer, never better than the exact optimum, and
the contiguous-partition DP exact where it claims to be."""

from __future__ import annotations

import itertools

import pytest

from opt_offload.errors import InputError
from opt_offload.evaluate.placement import evaluate_placement
from opt_offload.io import load_instance, parse_instance
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .conftest import INSTANCES, read_json
from .placement_cases import random_instance

HEURISTICS = ["largest-device", "ffd", "chain-dp", "kl"]


def exact_optimum(instance) -> float | None:
    solution = solve(instance, "exact")
    return solution.objective if solution.status is Status.OPTIMAL else None


@pytest.mark.parametrize("seed", range(60))
def test_heuristics_feasible_and_never_better_than_exact(seed):
    # a third of the cases are two-device graph-objective instances, so that kl runs too
    two = seed % 3 == 0
    instance = random_instance(
        1000 + seed, shape="dag", devices=2 if two else None, objective="graph" if two else None
    )
    optimum = exact_optimum(instance)
    for name in HEURISTICS:
        if name == "kl" and (len(instance.devices) != 2 or instance.objective != "graph"):
            continue
        solution = solve(instance, name)
        assert not solution.violations, (name, solution.violations)
        if solution.status is Status.FEASIBLE:
            assert optimum is not None, name
            assert solution.objective >= optimum - 1e-9 * max(1.0, optimum), name
        else:
            assert solution.status is Status.GAVE_UP and solution.message, name


def contiguous(sequence) -> bool:
    """Each device holds one run of consecutive nodes."""
    runs = [device for device, _ in itertools.groupby(sequence)]
    return len(runs) == len(set(runs))


@pytest.mark.parametrize("seed", range(40))
def test_chain_dp_is_the_best_contiguous_partition(seed):
    # oracle: every placement of a chain, kept if contiguous, judged by the evaluator
    instance = random_instance(2000 + seed, shape="chain", max_nodes=8)
    nodes = [n.id for n in instance.graph.nodes]
    values = []
    for sequence in itertools.product([d.id for d in instance.devices], repeat=len(nodes)):
        evaluation = evaluate_placement(instance, dict(zip(nodes, sequence)))
        if contiguous(sequence) and evaluation.feasible:
            values.append(evaluation.objective)
    solution = solve(instance, "chain-dp")
    if not values:
        assert solution.status is Status.GAVE_UP
    else:
        assert solution.status is Status.FEASIBLE
        assert solution.objective == pytest.approx(min(values), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_chain_dp_equals_milp_on_chains_with_loose_memory(seed):
    # ends pinned, memory loose: some optimum uses each device for one run, so the DP is exact
    instance = random_instance(3000 + seed, shape="chain", objective="graph", loose_memory=True)
    dp, milp = solve(instance, "chain-dp"), solve(instance, "exact")
    assert milp.status is Status.OPTIMAL and dp.status is Status.FEASIBLE
    assert dp.objective == pytest.approx(milp.objective, rel=1e-6, abs=1e-9)


def test_hand_chain():
    instance = load_instance(INSTANCES / "placement" / "hand-chain.json")
    assert solve(instance, "chain-dp").objective == pytest.approx(1.0)
    assert solve(instance, "largest-device").status is Status.GAVE_UP
    assert solve(instance, "ffd").objective == pytest.approx(6.0)  # a, b, c on cpu; d on gpu


def test_chain_dp_names_a_cycle():
    document = read_json(INSTANCES / "placement" / "hand-chain.json")
    document["graph"]["edges"].append({"source": "d", "target": "b", "bytes": 1.0})
    cyclic = parse_instance(document)
    with pytest.raises(InputError, match="chain-dp needs a DAG of layers; the graph has a cycle"):
        solve(cyclic, "chain-dp")
    assert solve(cyclic, "exact").status is Status.OPTIMAL  # the MILP takes any graph


def test_kl_declines_what_it_cannot_take():
    instance = load_instance(INSTANCES / "placement" / "hand-paper.json")
    with pytest.raises(InputError, match="kl bisects between two devices; this instance has 3"):
        solve(instance, "kl")
