"""K-Priority FCFS, static use (003 Sec. 3.3.2): judged feasible by the shared evaluator, never
better than the MILP (lexicographically), the K_q window honoured, work-conserving."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.errors import InputError
from opt_offload.generators.assignment import generate_assignment
from opt_offload.io import load_instance, parse_instance
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.assignment.kpfcfs import RULES, greedy_placement, ranked_servers

from .conftest import INSTANCES

WINDOWS = (1, 4, 16)
SHIPPED = sorted((INSTANCES / "assignment").glob("*.json"))
TOL = 1e-9


def cloud_instance(workloads: list[float], budget: float) -> dict:
    """One cloud server with a FLOP budget, no QoS: only (1d) decides who is served."""
    tasks = [f"t{i}" for i in range(1, len(workloads) + 1)]
    return {
        "kind": "assignment",
        "version": 1,
        "name": "window",
        "models": [{"id": "m", "size_gb": 1.0}],
        "servers": [{"id": "cloud", "cloud": True, "flops": 1.0, "compute_budget_flop": budget}],
        "tasks": [{"id": t, "model": "m", "workload_flop": w} for t, w in zip(tasks, workloads)],
        "transmission_s": {t: {"cloud": 0.1} for t in tasks},
    }


def served(solution) -> list[str]:
    return [t for t, s in solution.decisions["tasks"].items() if s is not None]


def test_window_of_three_lets_the_short_tasks_past_the_long_one():
    instance = parse_instance(cloud_instance([3.0, 1.0, 1.0, 1.0], budget=3.0))
    # K = 1: only t1 is seen, it takes the whole budget.
    assert served(solve(instance, "kpfcfs", k=1, rule="shortest-workload")) == ["t1"]
    # K = 3: t2, t3 (the window's shortest), then t4 enters the window; t1 no longer fits.
    assert served(solve(instance, "kpfcfs", k=3, rule="shortest-workload")) == ["t2", "t3", "t4"]
    # FCFS ignores the window's contents: t1 first whatever K is.
    assert served(solve(instance, "kpfcfs", k=3, rule="fcfs")) == ["t1"]


def test_earliest_deadline_is_least_slack_first():
    document = cloud_instance([1.0, 1.0], budget=1.0)
    document["latency_max_s"] = 2.0
    document["transmission_s"] = {"t1": {"cloud": 0.1}, "t2": {"cloud": 0.5}}
    instance = parse_instance(document)
    # t2's latest start is 2 - 1.5 = 0.5 s, t1's 0.9 s: t2 goes first and takes the budget.
    assert served(solve(instance, "kpfcfs", k=2, rule="earliest-deadline")) == ["t2"]
    assert served(solve(instance, "kpfcfs", k=2, rule="fcfs")) == ["t1"]


def test_bad_window_is_input_error():
    instance = parse_instance(cloud_instance([1.0], budget=1.0))
    with pytest.raises(InputError, match="option k"):
        solve(instance, "kpfcfs", k=0)
    with pytest.raises(InputError, match="option rule"):
        solve(instance, "kpfcfs", rule="lifo")


def test_greedy_placement_fits_storage_and_follows_demand():
    instance = load_instance(INSTANCES / "assignment" / "hand-two-edges.json")
    placement = greedy_placement(instance)
    # e1 (14 GB): m7 is asked by three tasks, m13 by one, and both do not fit together.
    assert placement == {"e1": ["m7"], "e2": ["m7"]}


def assert_not_better_than_exact(instance, solution, exact) -> None:
    s, t = solution.metrics["throughput"], solution.metrics["transmission_s"]
    s_opt, t_opt = exact.metrics["throughput"], exact.metrics["transmission_s"]
    assert s <= s_opt
    if s == s_opt:
        assert t >= t_opt - TOL * max(1.0, t_opt)


def admission_cases() -> list:
    shipped = [load_instance(p) for p in SHIPPED]
    generated = [generate_assignment(preset="random", seed=s) for s in range(12)]
    return [i for i in shipped + generated if i.variant == "admission"]


@pytest.mark.parametrize("instance", admission_cases(), ids=lambda i: i.name)
def test_feasible_and_never_better_than_exact(instance):
    exact = solve(instance, "exact")
    assert exact.status is Status.OPTIMAL
    for rule in RULES:
        for k in WINDOWS:
            solution = solve(instance, "kpfcfs", k=k, rule=rule)
            assert solution.status is Status.FEASIBLE, solution.violations
            assert_not_better_than_exact(instance, solution, exact)


def test_strict_instance_left_short_gave_up_not_infeasible_nor_error():
    instance = load_instance(INSTANCES / "assignment" / "hand-gap-strict.json")
    solution = solve(instance, "kpfcfs")
    # a heuristic that leaves a task unserved proves nothing about the instance
    assert solution.status in (Status.FEASIBLE, Status.GAVE_UP)
    if solution.status is Status.GAVE_UP:
        assert any("(1a)" in v for v in solution.violations) and not solution.has_decisions


@given(
    seed=st.integers(0, 10_000),
    k=st.sampled_from(WINDOWS + (2,)),
    rule=st.sampled_from(RULES),
)
def test_work_conserving_no_rejected_task_fits_a_capable_server(seed, k, rule):
    """Definition 2, static form: a rejected task has no capable server (model, QoS) with
    budget left for it at the end (budgets only shrink, so none had at its rejection either)."""
    instance = generate_assignment(preset="random", seed=seed)
    solution = solve(instance, "kpfcfs", k=k, rule=rule)
    placement = solution.decisions["placement"]
    tasks = {t.id: t for t in instance.tasks}
    used = Counter()
    for task_id, server_id in solution.decisions["tasks"].items():
        if server_id is not None:
            used[server_id] += instance.workload(tasks[task_id], instance.servers_by_id[server_id])
    for task_id, server_id in solution.decisions["tasks"].items():
        if server_id is not None:
            continue
        for server in ranked_servers(instance, tasks[task_id], placement):
            left = server.compute_budget_flop - used[server.id]
            assert instance.workload(tasks[task_id], server) > left * (1 + TOL)


def test_gap_study_rows_and_summary():
    from argparse import Namespace

    from opt_offload.benchmarks.assignment_gap import study_rows, summary

    args = Namespace(instances=2, seed=0, shipped=str(INSTANCES / "assignment"), csv=None)
    rows, skipped = study_rows(args)
    assert {r["source"] for r in rows} == {"shipped", "random"}
    assert any("hand-strict-infeasible" in s for s in skipped)
    assert all(r["S"] <= r["S*"] for r in rows)
    entries = summary(rows)
    assert len(entries) == 2 * len(RULES) * len(WINDOWS)
    assert all(0.0 <= e["lex opt %"] <= 100.0 and e["S gap max %"] >= 0.0 for e in entries)
