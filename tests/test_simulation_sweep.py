"""Sweeps: the same results in this process, on local processes and on a Dask LocalCluster;
the summaries (confidence intervals, paired differences, critical values)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from opt_offload.simulation import SimulationConfig
from opt_offload.simulation.sweep import (
    TIMING_FIELDS,
    SweepPlan,
    critical_value,
    critical_values,
    dask_executor,
    local_executor,
    log_grid,
    mean_interval,
    paired_differences,
    run_sweep,
    summarise_runs,
    x_of,
)

PLAN = SweepPlan(
    base=SimulationConfig(slots=150),
    capacities=(2, 9),
    bandwidths=(1e5, 1e7),
    seeds=(0, 1),
    strategies=("prada", "exact", "random-scheduler"),
)


def untimed(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMING_FIELDS} for row in rows]


@pytest.fixture(scope="module")
def serial_rows():
    return run_sweep(PLAN, local_executor(1))


def test_plan_covers_both_axes_every_strategy_and_seed(serial_rows):
    assert len(serial_rows) == 3 * 2 * (2 + 2)
    m_axis = [r for r in serial_rows if r["axis"] == "M"]
    assert {r["capacity"] for r in m_axis} == {2, 9}
    assert {r["bandwidth_hz"] for r in m_axis} == {PLAN.base.bandwidth_hz}
    b_axis = [r for r in serial_rows if r["axis"] == "B"]
    assert {r["capacity"] for r in b_axis} == {PLAN.base.capacity}
    assert {(r["strategy"], r["scheduler"], r["policy"]) for r in serial_rows} == {
        ("prada", "threshold", "screen"),
        ("exact", "exact", "screen"),
        ("random-scheduler", "random", "screen"),
    }


def test_local_processes_give_the_same_results(serial_rows):
    assert untimed(run_sweep(PLAN, local_executor(2))) == untimed(serial_rows)


def test_dask_local_cluster_gives_the_same_results(serial_rows):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        done = []
        rows = run_sweep(PLAN, dask_executor(client), lambda: done.append(1))
    assert untimed(rows) == untimed(serial_rows)
    assert len(done) == len(rows)


def test_mean_interval_is_the_student_t_interval():
    values = [0.91, 0.905, 0.899, 0.912]
    mean, half = mean_interval(values)
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    assert mean == pytest.approx(np.mean(values))
    assert (mean - half, mean + half) == pytest.approx((low, high))
    assert mean_interval([0.5]) == (0.5, 0.0)


def test_summary_and_paired_differences(serial_rows):
    summary = summarise_runs(serial_rows)
    assert len(summary) == 3 * (2 + 2) and all(r["seeds"] == 2 for r in summary)
    differences = paired_differences(serial_rows)
    assert len(differences) == 4
    by_key = {(r["axis"], x_of(r), r["seed"], r["strategy"]): r for r in serial_rows}
    for row in differences:
        gaps = [
            by_key[row["axis"], row["x"], seed, "exact"]["objective"]
            - by_key[row["axis"], row["x"], seed, "prada"]["objective"]
            for seed in PLAN.seeds
        ]
        assert row["objective"] == pytest.approx(np.mean(gaps))


def test_critical_value_is_where_the_change_has_played_out():
    xs = [1, 2, 3, 4, 5, 6]
    assert critical_value(xs, [0.80, 0.82, 0.88, 0.905, 0.91, 0.91]) == 4
    assert critical_value(xs, [9.0, 6.0, 2.0, 1.0, 0.5, 0.4]) == 4  # a falling delay: <= 1.26
    assert critical_value(xs, [0.5] * 6) is None
    summary = [
        {"axis": "M", "strategy": "prada", "x": x, "accuracy_surrogate": y, "objective": y}
        for x, y in zip(xs, [0.80, 0.82, 0.88, 0.905, 0.91, 0.91])
    ]
    assert critical_values(summary) == {"M:accuracy_surrogate": 4, "M:objective": 4}


def test_log_grid_has_the_decade_points():
    assert log_grid(1e5, 1e9, 4)[::4] == [1e5, 1e6, 1e7, 1e8, 1e9]
    assert len(log_grid(1e5, 1e9, 4)) == 17
