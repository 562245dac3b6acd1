"""Dynamic K-Priority FCFS (003 Sec. 3.3): a hand-checked trace, work conservation at every
scheduling instant, bounded at low rates and unbounded far above capacity, the capacities, and
``opt-offload stability`` from the command line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.io import load_instance, parse_instance
from opt_offload.simulation.assignment import (
    dispatch,
    find_stable_rate,
    fluid_capacity,
    milp_window_capacity,
    run_trace,
    simulate_assignment,
)
from opt_offload.solvers.assignment.kpfcfs import RULES, greedy_placement, make_job

from .conftest import INSTANCES, run_cli

TESTBED = INSTANCES / "assignment" / "testbed-s0.json"


def one_server(latency_max_s: float | None = None) -> object:
    """A cloud of 1 FLOP/s: t1 computes 1 s, t2 0.5 s; both transmit in 0.1 s."""
    return parse_instance(
        {
            "kind": "assignment",
            "version": 1,
            "name": "trace",
            "latency_max_s": latency_max_s,
            "models": [{"id": "m", "size_gb": 1.0}],
            "servers": [{"id": "cloud", "cloud": True, "flops": 1.0}],
            "tasks": [
                {"id": "t1", "model": "m", "workload_flop": 1.0},
                {"id": "t2", "model": "m", "workload_flop": 0.5},
            ],
            "transmission_s": {"t1": {"cloud": 0.1}, "t2": {"cloud": 0.1}},
        }
    )


ARRIVALS = [(0.0, 0), (0.2, 0), (0.4, 1)]  # t1 at 0 and 0.2 s, t2 at 0.4 s


def test_hand_trace_fcfs():
    result = run_trace(one_server(latency_max_s=2.0), ARRIVALS, k=1, rule="fcfs")
    # t1 runs 0-1; the second t1 waits 0.8 s, runs 1-2; t2 waits 1.6 s, runs 2-2.5.
    assert result.starts == ((0.0, "t1", "cloud"), (1.0, "t1", "cloud"), (2.0, "t2", "cloud"))
    assert result.latencies_s == pytest.approx((1.1, 1.9, 2.2))
    assert result.late == 1  # 2.2 s > L_max = 2 s: served, counted late
    # Instants: arrivals at 0, 0.2, 0.4; completions at 1, 2, 2.5.
    times, lengths = zip(*result.queue_trace)
    assert times == pytest.approx((0.0, 0.2, 0.4, 1.0, 2.0, 2.5))
    assert lengths == (0, 1, 2, 1, 0, 0)
    assert result.mean_queue == pytest.approx((0.2 * 1 + 0.0) / 0.4)  # over the arrival period


def test_hand_trace_shortest_workload_looks_past_the_head_with_a_window():
    result = run_trace(one_server(), ARRIVALS, k=2, rule="shortest-workload")
    # At t = 1 the window holds the second t1 and t2; t2 (0.5 FLOP) goes first.
    assert [task for _, task, _ in result.starts] == ["t1", "t2", "t1"]
    assert result.latencies_s == pytest.approx((1.1, 1.0 - 0.4 + 0.6, 1.5 - 0.2 + 1.1))
    same_with_k1 = run_trace(one_server(), ARRIVALS, k=1, rule="shortest-workload")
    assert [task for _, task, _ in same_with_k1.starts] == ["t1", "t1", "t2"]


def test_task_with_no_qos_feasible_server_is_rejected_on_arrival():
    result = run_trace(one_server(latency_max_s=1.0), ARRIVALS, k=1)
    # t1 needs 1.1 s > 1 s anywhere: both rejected; t2 served at once.
    assert (result.rejected, result.served) == (2, 1)
    assert result.latencies_s == pytest.approx((0.6,))


def test_fluid_capacity_by_hand():
    # Half the arrivals take 1 s, half 0.5 s on the single server: 1 / 0.75 tasks/s.
    assert fluid_capacity(one_server()) == pytest.approx(1 / 0.75)


@given(
    busy=st.lists(st.booleans(), min_size=5, max_size=5),
    picks=st.lists(st.integers(0, 39), max_size=30),
    k=st.sampled_from((1, 2, 4, 16)),
    rule=st.sampled_from(RULES),
)
def test_dispatch_is_work_conserving(busy, picks, k, rule):
    """Definition 2: after an instant, no idle server can take a task in the window."""
    instance = load_instance(TESTBED)
    placement = greedy_placement(instance)
    queue = [
        make_job(instance, instance.tasks[i], placement, 0.1 * n, n) for n, i in enumerate(picks)
    ]
    idle = {s.id for s, b in zip(instance.servers, busy) if not b}
    before = set(idle)
    for job, server in dispatch(queue, idle, k, rule):
        assert server.id in before and server in job.ranked
    for job in queue[:k]:
        assert not any(s.id in idle for s in job.ranked)


def test_bounded_below_capacity_unbounded_far_above():
    instance = load_instance(TESTBED)
    capacity = fluid_capacity(instance)
    low = simulate_assignment(instance, 0.4 * capacity, k=4, arrivals=1500, seed=1)
    high = simulate_assignment(instance, 3.0 * capacity, k=4, arrivals=1500, seed=1)
    assert low.bounded and low.final_queue < 10
    assert not high.bounded and high.final_queue > 500
    # Saturated, the servers deliver about the capacity; lightly loaded, about the rate.
    assert high.throughput_per_s == pytest.approx(capacity, rel=0.15)
    assert low.throughput_per_s == pytest.approx(0.4 * capacity, rel=0.1)
    assert low.latency_percentile(95) < high.latency_percentile(50)


def test_seeded_runs_repeat():
    instance = load_instance(TESTBED)
    first = simulate_assignment(instance, 10.0, arrivals=300, seed=5)
    assert (
        first.latencies_s == simulate_assignment(instance, 10.0, arrivals=300, seed=5).latencies_s
    )


def test_stable_rate_brackets_the_fluid_capacity_and_milp_lies_above():
    instance = load_instance(TESTBED)
    capacity = fluid_capacity(instance)
    stable = find_stable_rate(instance, k=4, arrivals=1500, iterations=5)
    assert stable.lower_per_s < stable.upper_per_s
    assert 0.7 * capacity <= stable.lower_per_s and stable.upper_per_s <= 1.4 * capacity
    milp, window, served = milp_window_capacity(instance, count=60)
    assert served > 0 and milp >= 0.9 * capacity


def test_cli_stability_json_and_plot(tmp_path):
    plot = tmp_path / "queues.png"
    result = run_cli(
        "stability", TESTBED, "--k", "4", "--rule", "earliest-deadline", "--arrivals", "400",
        "--rates", "5,40", "--no-milp", "--json", "--plot", plot,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["bounded"] for r in report["runs"]] == [True, False]
    assert report["stable_rate_per_s"][0] < report["stable_rate_per_s"][1]
    assert plot.stat().st_size > 0


@pytest.mark.parametrize(
    "args, field",
    [(("--k", "0"), "--k"), (("--rates", "5,-1"), "--rates"), (("--preset", "nope"), "--preset")],
)
def test_cli_stability_bad_input_is_one_line_exit_2(args, field):
    source = () if "--preset" in args else (TESTBED,)
    result = run_cli("stability", *source, *args, "--no-milp")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], result.stderr
