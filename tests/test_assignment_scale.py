"""Assignment at scale: the MILP's tightenings (each switched off gives the same optimum),
symmetry between interchangeable servers, and the Lagrangian solver against enumeration."""

from __future__ import annotations

import pytest

from opt_offload.io import parse_instance
from opt_offload.models.assignment import NO_TIGHTENING, AssignmentData
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .test_assignment_exact import assert_feasible, feasible_outcomes, random_instance

OFF = {field: False for field in NO_TIGHTENING.__dataclass_fields__}


def twin_edges(transmission_differs: bool = False):
    """Four tasks, a cloud and three equal edges (same storage, budget, FLOP/s and, unless
    asked otherwise, the same Ltrans): the symmetric case of the testbed preset."""
    edges = ["e1", "e2", "e3"]
    servers = [{"id": "cloud", "cloud": True, "flops": 10.0, "compute_budget_flop": 4.0}] + [
        {"id": e, "storage_gb": 8.0, "flops": 2.0, "compute_budget_flop": 5.0} for e in edges
    ]
    tasks = [{"id": f"t{i}", "model": "ab"[i % 2], "workload_flop": float(2 + i)} for i in range(4)]
    transmission = {
        t["id"]: {
            "cloud": 0.5,
            **{e: 0.1 + (0.01 * j if transmission_differs else 0.0) for j, e in enumerate(edges)},
        }
        for t in tasks
    }
    return parse_instance(
        {
            "kind": "assignment",
            "version": 1,
            "name": "twins",
            "variant": "admission",
            "latency_max_s": None,
            "models": [{"id": "a", "size_gb": 5.0}, {"id": "b", "size_gb": 6.0}],
            "servers": servers,
            "tasks": tasks,
            "transmission_s": transmission,
            "placement": None,
        }
    )


def test_data_is_computed_once_per_instance():
    first, second = random_instance(1), random_instance(2)
    data = AssignmentData.of(first)
    assert AssignmentData.of(first) is data
    assert AssignmentData.of(second).instance is second


def test_interchangeable_servers_and_storage_covers():
    data = AssignmentData.of(twin_edges())
    assert data.interchangeable_servers(prices_transmission=True) == [[1, 2, 3]]
    assert all(len(data.storage_covers(j)) == 1 for j in (1, 2, 3))  # a and b do not fit
    priced = AssignmentData.of(twin_edges(transmission_differs=True))
    assert priced.interchangeable_servers(prices_transmission=True) == []
    assert priced.interchangeable_servers(prices_transmission=False) == [[1, 2, 3]]


@pytest.mark.parametrize("instance", [twin_edges(), twin_edges(transmission_differs=True)])
def test_symmetry_keeps_the_optimum(instance):
    best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
    for options in ({}, OFF):
        solution = solve(instance, "exact", mode="lexicographic", **options)
        assert solution.status is Status.OPTIMAL
        assert_feasible(instance, solution)
        assert solution.metrics["throughput"] == best_s
        assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9)


@pytest.mark.parametrize("switch", sorted(OFF))
def test_each_tightening_off_gives_the_same_optimum(switch):
    for seed in range(12):
        instance = random_instance(seed, variant="admission")
        on = solve(instance, "exact", mode="lexicographic")
        off = solve(instance, "exact", mode="lexicographic", **{switch: False})
        assert on.status is off.status is Status.OPTIMAL, seed
        assert on.metrics["throughput"] == off.metrics["throughput"], seed
        assert on.metrics["transmission_s"] == pytest.approx(
            off.metrics["transmission_s"], abs=1e-9
        ), seed


def test_lagrangian_bound_and_incumbent_against_enumeration():
    proven = 0
    for seed in range(40):
        instance = random_instance(seed, variant="admission")
        best_s = max(o[0] for o in feasible_outcomes(instance))
        solution = solve(instance, "lagrangian", mode="lexicographic")
        assert solution.status in (Status.OPTIMAL, Status.FEASIBLE), seed
        assert_feasible(instance, solution)
        assert solution.objective <= best_s <= solution.bound, seed
        if solution.gap == 0:  # a heuristic's incumbent, proven by the bound
            assert solution.objective == best_s, seed
            proven += 1
    assert proven > 0


def test_lagrangian_weighted_never_beats_the_optimum():
    for seed in range(40):
        instance = random_instance(seed, variant="admission")
        best = max(o[2] for o in feasible_outcomes(instance))
        solution = solve(instance, "lagrangian", mode="weighted")
        assert_feasible(instance, solution)
        assert solution.metrics["weighted"] <= best + 1e-9, seed


def test_lagrangian_refuses_strict():
    from opt_offload.registry import SolverUnavailable

    with pytest.raises(SolverUnavailable, match="admission"):
        solve(random_instance(0, variant="strict"), "lagrangian")


def test_one_milp_lexicographic_equals_enumeration_and_two_stages():
    for seed in range(30):
        instance = random_instance(seed, variant="admission")
        best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
        once = solve(instance, "exact", mode="lexicographic", stages=1, packing="off")
        twice = solve(instance, "exact", mode="lexicographic", stages=2, packing="off")
        for solution in (once, twice):
            assert solution.status is Status.OPTIMAL, seed
            assert_feasible(instance, solution)
            assert solution.metrics["throughput"] == best_s == solution.bound, seed
            assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9), seed
        assert "one MILP" in once.message, seed


def test_lexicographic_weight_and_transmission_floor_bound_every_solution():
    for seed in range(30):
        instance = random_instance(seed, variant="admission")
        data = AssignmentData.of(instance)
        outcomes = feasible_outcomes(instance)
        assert max(t for _, t, _ in outcomes) < data.transmission_ceiling() + 1e-12, seed
        assert data.lexicographic_weight() > data.transmission_ceiling(), seed
        for served in range(len(instance.tasks) + 1):
            reaching = [t for s, t, _ in outcomes if s >= served]
            if reaching:
                assert data.transmission_floor(served) <= min(reaching) + 1e-12, seed


def test_one_milp_falls_back_to_two_stages_without_a_packing(monkeypatch):
    from opt_offload.solvers.assignment import lagrangian

    monkeypatch.setattr(lagrangian, "packed_throughput", lambda data: None)
    instance = twin_edges(transmission_differs=True)
    best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
    solution = solve(instance, "exact", mode="lexicographic", stages=1, packing="off")
    assert solution.status is Status.OPTIMAL
    assert "one MILP" not in solution.message
    assert solution.metrics["throughput"] == best_s
    assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9)


@pytest.mark.parametrize("loosen", ["S", "T"])
def test_one_milp_checks_its_proofs_and_falls_back(monkeypatch, loosen):
    """A claimed optimum whose bound does not prove S* (or T) sends the solve to the two
    stages (or to stage 2 from S*), which still reach the enumerated optimum."""
    from dataclasses import replace

    from opt_offload.solvers.assignment import exact

    instance = twin_edges(transmission_differs=True)
    weight = AssignmentData.of(instance).lexicographic_weight()
    original, calls = exact.solve_with, []

    def loose_first(backend, formulation, limits, *args):
        result = original(backend, formulation, limits, *args)
        calls.append(limits.mip_abs_gap)
        if len(calls) > 1:
            return result
        return replace(result, bound=result.bound + (weight if loosen == "S" else 1e-3))

    monkeypatch.setattr(exact, "solve_with", loose_first)
    best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
    solution = solve(instance, "exact", mode="lexicographic", stages=1, packing="off")
    assert len(calls) == (3 if loosen == "S" else 2)
    assert solution.status is Status.OPTIMAL
    assert solution.message.startswith("lexicographic: S*=")
    assert solution.metrics["throughput"] == best_s == solution.bound
    assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9)


def test_packing_path_equals_enumeration():
    """The packing path (``on``; ``auto`` takes it on large instances): S* proven by the LP
    bound and a packing where the packing meets it (then stage 2 from it), the MILP
    otherwise; both reach the enumerated optimum."""
    packed = 0
    for seed in range(30):
        instance = random_instance(seed, variant="admission")
        best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
        solution = solve(instance, "exact", mode="lexicographic", packing="on")
        assert solution.status is Status.OPTIMAL, seed
        assert_feasible(instance, solution)
        assert solution.metrics["throughput"] == best_s == solution.bound, seed
        assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9), seed
        packed += "and a packing" in solution.message
    assert packed > 0


def test_packing_is_feasible_and_never_beats_the_optimum():
    """The rounded and repaired packing serves at most the LP's count and at most S*, and the
    evaluator accepts it; on a case whose LP count is S* it serves S*."""
    import math

    from opt_offload.evaluate import evaluate
    from opt_offload.solvers.assignment.exact import lp_relaxation
    from opt_offload.solvers.assignment.packing import chosen_deployments, lp_packing

    options = dict(backend="pyomo-highs", tightening=None, workers=None)
    reached = 0
    for seed in range(30):
        instance = random_instance(seed, variant="admission")
        data = AssignmentData.of(instance)
        if not data.pairs:
            continue
        best_s = max(o[0] for o in feasible_outcomes(instance))
        first, _, _ = lp_relaxation(instance, "throughput", None, None, None, **options)
        count = math.floor(first.bound + 1e-6 * max(1.0, abs(first.bound)))
        assert best_s <= count, seed
        _, _, y_lp = lp_relaxation(instance, "transmission", count, None, None, **options)
        deployed = chosen_deployments(data, y_lp)
        fixed, x_lp, _ = lp_relaxation(instance, "transmission", count, deployed, None, **options)
        if fixed.status is not Status.OPTIMAL:
            continue
        decisions = data.decisions(lp_packing(data, x_lp, deployed, count), deployed)
        evaluation = evaluate(instance, decisions)
        assert not evaluation.violations, seed
        assert evaluation.metrics["throughput"] <= best_s, seed
        reached += evaluation.metrics["throughput"] == best_s
    assert reached > 0


def test_packing_short_of_the_bound_falls_back(monkeypatch):
    """A packing that serves fewer than the LP bound proves nothing: the MILP solves as
    before and still reaches the enumerated optimum."""
    import numpy as np

    from opt_offload.solvers.assignment import packing

    monkeypatch.setattr(packing, "lp_packing", lambda data, *args: np.zeros(len(data.pairs)))
    for seed in range(6):
        instance = random_instance(seed, variant="admission")
        best_s, best_t, _ = max(feasible_outcomes(instance), key=lambda o: (o[0], -o[1]))
        solution = solve(instance, "exact", mode="lexicographic", packing="on")
        assert solution.status is Status.OPTIMAL, seed
        assert "packing" not in solution.message, seed
        assert solution.metrics["throughput"] == best_s, seed
        assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9), seed


def test_packing_auto_runs_from_the_pair_threshold(monkeypatch):
    from opt_offload.solvers.assignment import exact

    instance = random_instance(0, variant="admission")
    assert "packing" not in solve(instance, "exact", mode="lexicographic").message
    monkeypatch.setattr(exact, "PACKING_PAIRS", 1)
    assert "and a packing" in solve(instance, "exact", mode="lexicographic").message
    assert "packing" not in solve(instance, "exact", mode="lexicographic", packing="off").message


def test_stage_from_a_mip_start_keeps_it_at_a_tiny_limit():
    """pyomo-highs takes a MIP start: with almost no time, stage 2 still answers with an
    assignment at least as good as the start."""
    from opt_offload.solvers.assignment.exact import min_transmission

    from .test_assignment_exact import hard_instance

    document = hard_instance().model_dump()
    document["variant"] = "admission"
    instance = parse_instance(document)
    data = AssignmentData.of(instance)
    start = data.decisions(*first_fit(data))
    served = sum(server is not None for server in start["tasks"].values())
    start_t = solve_metrics(instance, start)["transmission_s"]
    result = min_transmission(
        instance, min_throughput=served, time_limit=1e-3, start=start, backend="pyomo-highs"
    )
    assert result.decisions is not None
    cold = min_transmission(instance, min_throughput=served, time_limit=1e-3, backend="pyomo-highs")
    assert cold.decisions is None  # what the start gave
    values = solve_metrics(instance, result.decisions)
    assert values["throughput"] >= served
    assert values["transmission_s"] <= start_t + 1e-9


@pytest.mark.parametrize("seed", [9, 21])
def test_stage_two_from_stage_one_s_assignment_reaches_the_cold_optimum(seed):
    """On these instances HiGHS 1.16 with presolve called the start optimal at a value it did
    not have (below the optimum); started solves run without presolve and prove the optimum."""
    from opt_offload.solvers.assignment.exact import max_throughput, min_transmission

    instance = random_instance(seed, variant="admission")
    options = dict(backend="pyomo-highs", mip_gap=1e-6, tightening=None, workers=None)
    first = max_throughput(instance, time_limit=None, **options)
    served = solve_metrics(instance, first.decisions)["throughput"]
    cold = min_transmission(instance, min_throughput=served, time_limit=None, **options)
    warm = min_transmission(
        instance, min_throughput=served, time_limit=None, start=first.decisions, **options
    )
    assert cold.status is warm.status is Status.OPTIMAL, warm.message
    t_cold = solve_metrics(instance, cold.decisions)["transmission_s"]
    assert solve_metrics(instance, warm.decisions)["transmission_s"] == pytest.approx(t_cold)
    assert warm.bound == pytest.approx(t_cold)


def test_a_started_optimum_whose_incumbent_value_is_not_its_solution_s_is_not_proven():
    """After a MIP start, HiGHS's incumbent value must be the value of the solution it hands
    back; where it is not, the answer is kept but not called optimal."""
    from dataclasses import replace

    from opt_offload.models.assignment import pyomo_formulation
    from opt_offload.solvers.backends import Limits, get_backend
    from opt_offload.solvers.backends.pyomo_highs import checked_after_start

    from .test_assignment_exact import hard_instance

    formulation = pyomo_formulation(hard_instance(), objective="transmission")
    solved = get_backend("pyomo-highs").solve(formulation, Limits(None, 1e-9))
    assert solved.status is Status.OPTIMAL
    assert checked_after_start(formulation, solved) == solved
    wrong = replace(solved, incumbent=solved.incumbent * 0.5 - 1.0)
    flagged = checked_after_start(formulation, wrong)
    assert flagged.status is Status.FEASIBLE and "not proven" in flagged.message
    assert flagged.decisions == solved.decisions


def first_fit(data):
    """Each task, in order, on the first of its servers with room (fixed placement)."""
    import numpy as np

    from opt_offload.tolerance import exceeds

    load = {}
    x = np.zeros(len(data.pairs))
    taken = set()
    for p, (i, j) in enumerate(data.pairs):
        budget = data.instance.servers[j].compute_budget_flop
        if i in taken or (
            budget is not None and exceeds(load.get(j, 0.0) + data.workload[p], budget)
        ):
            continue
        load[j] = load.get(j, 0.0) + data.workload[p]
        x[p] = 1.0
        taken.add(i)
    return x, None


def solve_metrics(instance, decisions):
    from opt_offload.evaluate import evaluate

    evaluation = evaluate(instance, decisions)
    assert not evaluation.violations
    return evaluation.metrics
