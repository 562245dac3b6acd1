"""The connectivity cuts and the contiguous-partition incumbent of placement ``exact``
(models/placement.py, solvers/placement/exact.py) against independent oracles: brute-force
enumeration judged by the shared evaluator, the plain marginal formulation (``cuts=none``,
``incumbent=none``), and every cut row checked at every feasible placement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from opt_offload.evaluate.placement import evaluate_placement
from opt_offload.io import parse_instance
from opt_offload.models.placement import PlacementData, build_pyomo
from opt_offload.registry import SolverResult
from opt_offload.schemas import PlacementInstance, Status
from opt_offload.solve import solve
from opt_offload.solvers.placement.exact import against_known

from .placement_cases import brute_force

SEEDS = range(120)


def forced_instance(seed: int, *, objective: str = "graph") -> PlacementInstance:
    """A random instance whose memory forces the tensors over several devices: one large
    device and 1-3 identical small ones (equal memory, FLOP/s and rates, unless the seed
    perturbs one rate), edges of few distinct sizes (heavy, light, none), on a chain, a DAG
    or any digraph; some pins and compute bounds."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    n = int(rng.integers(2, 8 if k == 4 else 9))
    sizes = rng.integers(1, 10, n).astype(float)
    total = sizes.sum()
    small = float(rng.uniform(max(sizes), max(max(sizes), total / (k - 1)) + 1))
    memory = [float(rng.uniform(small, max(small, 0.7 * total))), *[small] * (k - 1)]
    rate = float(rng.uniform(1.0, 5.0))
    rates = {a: {b: rate for b in range(k) if b != a} for a in range(k)}
    if rng.random() < 0.2:  # one pair of small devices no longer interchangeable
        rates[k - 1][0] = rate * 2
    shape = rng.choice(["chain", "dag", "any"])
    if shape == "chain":
        pairs = [(i, i + 1) for i in range(n - 1)]
    else:
        pairs = [
            (i, j)
            for i in range(n)
            for j in range(n)
            if i != j and (shape == "any" or i < j) and rng.random() < 0.4
        ]
    weights = [0.0, 0.5, 1.0, 8.0]
    pins = {i: int(rng.integers(k)) for i in range(n) if rng.random() < 0.1}
    document = {
        "kind": "placement",
        "version": 1,
        "name": f"forced-{seed}",
        "objective": objective,
        "devices": [
            {"id": f"d{j}", "memory_bytes": m, "flops": 5.0 if j else 9.0}
            for j, m in enumerate(memory)
        ],
        "bandwidth_bytes_per_s": {
            f"d{a}": {f"d{b}": r for b, r in row.items()} for a, row in rates.items()
        },
        "graph": {
            "directed": True,
            "nodes": [
                {
                    "id": f"n{i}",
                    "bytes": float(sizes[i]),
                    "flop": float(rng.integers(0, 50)),
                    "accessed_by": [f"d{j}" for j in range(k) if rng.random() < 0.6],
                }
                for i in range(n)
            ],
            "edges": [
                {"source": f"n{i}", "target": f"n{j}", "bytes": float(rng.choice(weights))}
                for i, j in pairs
            ],
        },
        "pinned": {f"n{i}": f"d{d}" for i, d in pins.items()},
    }
    if rng.random() < 0.2:
        flop = sum(node["flop"] for node in document["graph"]["nodes"])
        document["compute_time_max_s"] = float(rng.uniform(0.3, 1.0) * flop / 5.0 + 0.5)
    return parse_instance(document)


def feasible_placements(instance: PlacementInstance):
    nodes = [n.id for n in instance.graph.nodes]
    devices = [d.id for d in instance.devices]
    for combination in itertools.product(devices, repeat=len(nodes)):
        decisions = dict(zip(nodes, combination))
        evaluation = evaluate_placement(instance, decisions)
        if evaluation.feasible:
            yield decisions, evaluation.objective


def set_point(model, data: PlacementData, decisions: dict[str, str]) -> None:
    """x, z (the product) and y (device holds a core tensor) of an integer placement."""
    device = [data.devices.index(decisions[p]) for p in data.nodes]
    for p in model.P:
        for d in model.D:
            model.x[p, d].set_value(float(device[p] == d), skip_validation=True)
    for e, (u, v, _) in enumerate(data.edges):
        for d1 in model.D:
            for d2 in model.D:
                if (e, d1, d2) in model.z:
                    model.z[e, d1, d2].set_value(float((device[u], device[v]) == (d1, d2)))
    if data.core is not None:
        held = {device[q] for q in data.core.nodes}
        for d in model.D:
            model.y[d].set_value(float(d in held))


def violated(model, skip: tuple[str, ...] = ()) -> list[str]:
    import pyomo.environ as pyo

    out = []
    for row in model.component_data_objects(pyo.Constraint, active=True):
        if row.parent_component().local_name in skip:
            continue
        body = pyo.value(row.body)
        if (row.has_ub() and body > pyo.value(row.upper) + 1e-9) or (
            row.has_lb() and body < pyo.value(row.lower) - 1e-9
        ):
            out.append(row.name)
    return out


def interchange_ordered(data: PlacementData, decisions: dict[str, str]) -> bool:
    """The symmetry rows' condition: within each class, devices holding a core tensor first."""
    held = {decisions[data.nodes[q]] for q in data.core.nodes}
    return all(
        data.devices[a] in held or data.devices[b] not in held
        for group in data.device_classes
        for a, b in zip(group, group[1:])
    )


def test_the_cases_exercise_the_cuts():
    datas = [PlacementData(forced_instance(seed)) for seed in SEEDS]
    cored = [d for d in datas if d.core is not None]
    assert len(cored) > len(SEEDS) / 2
    assert sum(d.core.devices_needed >= 3 for d in cored) >= 10
    assert sum(max(map(len, d.device_classes)) >= 2 for d in cored) > len(cored) / 2


@pytest.mark.parametrize("seed", SEEDS)
def test_tight_milp_equals_enumeration_and_the_plain_milp(seed):
    instance = forced_instance(seed)
    best = brute_force(instance)
    tight = solve(instance, "exact")
    plain = solve(instance, "exact", cuts="none", incumbent="none")
    if best is None:
        assert tight.status is plain.status is Status.INFEASIBLE
        return
    assert tight.status is plain.status is Status.OPTIMAL, (tight, plain)
    assert tight.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9)
    assert plain.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9)
    assert tight.bound <= tight.objective + 1e-9


@pytest.mark.parametrize("seed", range(0, 120, 4))
def test_cuts_with_the_pairwise_linearisation_and_no_incumbent(seed):
    instance = forced_instance(seed)
    best = brute_force(instance)
    solution = solve(instance, "exact", cut="pairwise", incumbent="none")
    if best is None:
        assert solution.status is Status.INFEASIBLE
    else:
        assert solution.status is Status.OPTIMAL
        assert solution.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", range(0, 120, 3))
@pytest.mark.parametrize("cut", ["marginal", "pairwise"])
def test_every_cut_holds_at_every_feasible_placement(seed, cut):
    # the symmetry rows hold up to renumbering the interchangeable devices: at least one
    # optimal placement satisfies them
    instance = forced_instance(seed)
    data = PlacementData(instance)
    model = build_pyomo(instance, cut)
    best, best_ordered = None, None
    for decisions, objective in feasible_placements(instance):
        set_point(model, data, decisions)
        assert violated(model, skip=("interchangeable",)) == [], decisions
        best = objective if best is None else min(best, objective)
        if data.core is None or interchange_ordered(data, decisions):
            assert violated(model) == [], decisions
            best_ordered = objective if best_ordered is None else min(best_ordered, objective)
    assert best_ordered == best


def chain_over_three_devices(width: float) -> PlacementInstance:
    """12 nodes of 1 byte in a chain of ``width``-byte edges; memories 5, 4, 4 (all three
    devices needed), rate 1: the optimum cuts 2 edges."""
    return parse_instance(
        {
            "kind": "placement",
            "version": 1,
            "name": "chain-3",
            "objective": "graph",
            "devices": [
                {"id": d, "memory_bytes": m, "flops": 1.0}
                for d, m in (("a", 5.0), ("b", 4.0), ("c", 4.0))
            ],
            "bandwidth_bytes_per_s": {a: {b: 1.0 for b in "abc" if b != a} for a in "abc"},
            "graph": {
                "directed": True,
                "nodes": [{"id": f"n{i}", "bytes": 1.0, "flop": 0.0} for i in range(12)],
                "edges": [
                    {"source": f"n{i}", "target": f"n{i + 1}", "bytes": width} for i in range(11)
                ],
            },
        }
    )


def lp_bound(instance: PlacementInstance, cuts: str) -> float:
    import pyomo.environ as pyo
    from pyomo.contrib.solver.solvers.highs import Highs

    model = build_pyomo(instance, cuts=cuts)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    results = Highs().solve(model)
    return results.incumbent_objective / PlacementData(instance).scale


def test_the_lp_relaxation_sees_the_forced_cuts():
    # without the cuts the LP spreads every node over the devices with a diagonal z (bound 0);
    # with them, K - 1 = 2 edges of the tree are cut
    instance = chain_over_three_devices(3.0)
    assert lp_bound(instance, "none") == pytest.approx(0.0, abs=1e-9)
    assert lp_bound(instance, "connectivity") == pytest.approx(6.0, rel=1e-6)
    solution = solve(instance, "exact", incumbent="none")
    assert solution.status is Status.OPTIMAL and solution.objective == pytest.approx(6.0)


def test_fewest_devices_counts_slots():
    # 3 tensors of 3 bytes: memories 5, 4, 4 hold one each by slots (bytes alone say 2)
    data = PlacementData(chain_over_three_devices(1.0))
    assert data.fewest_devices(list(range(12))) == 3
    assert data.fewest_devices([0, 1, 2, 3, 4]) == 1
    assert data.fewest_devices([0, 1, 2, 3, 4, 5]) == 2


def test_interchangeable_devices():
    instance = chain_over_three_devices(1.0)
    assert PlacementData(instance).device_classes == [[0], [1, 2]]
    document = instance.model_dump(mode="json")
    document["pinned"] = {"n0": "c"}
    assert PlacementData(parse_instance(document)).device_classes == [[0], [1], [2]]
    document = instance.model_dump(mode="json")
    document["bandwidth_bytes_per_s"]["a"]["c"] = 2.0
    assert PlacementData(parse_instance(document)).device_classes == [[0], [1], [2]]


def test_the_paper_objective_gets_no_cuts():
    instance = forced_instance(3, objective="paper")
    model = build_pyomo(instance)
    assert not hasattr(model, "y") and not hasattr(model, "z")


def test_incumbent_results_read_for_the_whole_problem():
    known = {"n0": "a"}
    proof = against_known(SolverResult(Status.INFEASIBLE, None, None, "HiGHS"), known, 2.0)
    assert (proof.status, proof.decisions, proof.bound) == (Status.OPTIMAL, known, 2.0)
    nothing = SolverResult(Status.TIME_LIMIT, None, 1.5, "HiGHS")
    kept = against_known(nothing, known, 2.0)
    assert (kept.status, kept.decisions, kept.bound) == (Status.TIME_LIMIT, known, 1.5)
    better = SolverResult(Status.OPTIMAL, {"n0": "b"}, 1.0, "HiGHS")
    assert against_known(better, known, 2.0) == better
    unbounded = SolverResult(Status.TIME_LIMIT, None, 3.0, "HiGHS")
    assert against_known(unbounded, known, 2.0).bound == 2.0  # beyond below_s: nothing there


def test_both_incumbent_outcomes_occur():
    # the MILP under chain-dp's cost: proven empty (the partition is optimal) or beaten
    messages = [solve(forced_instance(seed), "exact").message or "" for seed in SEEDS]
    proven = sum("contiguous partition is optimal" in m for m in messages)
    assert 0 < proven < len(SEEDS)


@pytest.mark.parametrize(
    "case, needed, cut_edges",
    # 13B: the cloud and one edge do not hold the model, 2 residual-stream edges are cut; 70B:
    # an edge holds 13 layers, the cloud 27, so 80 layers need 6 devices and 5 cut edges
    [("tensor-13b", 3, 2), ("layer-70b", 6, 5)],
)
def test_the_bench_goals_are_proven(case, needed, cut_edges):
    from opt_offload.benchmarks.placement import CASES, instance_for

    instance = instance_for(CASES[case])
    data = PlacementData(instance)
    assert data.core.devices_needed == needed
    solution = solve(instance, "exact")
    stream = data.core.min_edge_bytes * data.seconds_per_byte[0, 1]
    assert solution.status is Status.OPTIMAL
    assert solution.objective == pytest.approx(cut_edges * stream, rel=1e-9)
    assert solution.objective * (1 - 1.01e-6) <= solution.bound <= solution.objective
