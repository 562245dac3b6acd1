"""The epsilon-constraint Pareto front (solvers/assignment/pareto.py) against the front of all
enumerated assignments, and ``opt-offload solve --pareto``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from opt_offload.io import load_instance, parse_instance
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.assignment.pareto import ParetoPoint, non_dominated, pareto_front

from .conftest import INSTANCES, run_cli
from .strategies import assignment_documents
from .test_assignment_exact import feasible_outcomes, random_instance

HAND = INSTANCES / "assignment"


def enumerated_front(instance) -> list[tuple[int, float]]:
    """(S, T) pairs no other feasible assignment dominates, highest S first."""
    best: dict[int, float] = {}
    for s, t, _ in feasible_outcomes(instance):
        best[s] = min(t, best.get(s, float("inf")))
    front = []
    for s in sorted(best, reverse=True):
        if not front or best[s] < front[-1][1] - 1e-12:
            front.append((s, best[s]))
    return front


@pytest.mark.parametrize("backend", ["pyomo-highs", "cvxpy-highs"])
def test_front_equals_enumerated_front(backend):
    for seed in range(0, 60, 3):
        instance = random_instance(seed)
        expected = enumerated_front(instance)
        front = pareto_front(instance, backend=backend)
        if not expected:
            assert [p.status for p in front] == [Status.INFEASIBLE], seed
            continue
        assert all(p.status is Status.OPTIMAL for p in front), seed
        got = [(p.throughput, p.transmission_s) for p in front]
        assert [s for s, _ in got] == [s for s, _ in expected], seed
        assert [t for _, t in got] == pytest.approx([t for _, t in expected], abs=1e-9), seed


@settings(max_examples=30, deadline=None)
@given(assignment_documents(max_tasks=5))
def test_front_is_monotone_and_starts_at_the_lexicographic_optimum(document):
    instance = parse_instance(document)
    front = pareto_front(instance)
    found = [p for p in front if p.throughput is not None]
    lexicographic = solve(instance, "exact", mode="lexicographic")
    if not found:
        assert lexicographic.status is Status.INFEASIBLE
        return
    throughputs = [p.throughput for p in found]
    latencies = [p.transmission_s for p in found]
    assert throughputs == sorted(set(throughputs), reverse=True)
    assert latencies == sorted(set(latencies), reverse=True)
    assert throughputs[0] == lexicographic.metrics["throughput"]
    assert latencies[0] == pytest.approx(lexicographic.metrics["transmission_s"], abs=1e-6)


def test_hand_two_edges_front():
    front = pareto_front(load_instance(HAND / "hand-two-edges.json"))
    assert [(p.throughput, round(p.transmission_s, 9)) for p in front] == [
        (4, 0.51),
        (3, 0.18),
        (2, 0.1),
        (1, 0.05),
        (0, 0.0),
    ]


def test_strict_front_is_one_point():
    front = pareto_front(load_instance(HAND / "hand-gap-strict.json"))
    assert [(p.throughput, p.transmission_s, p.status) for p in front] == [(3, 9.0, Status.OPTIMAL)]


def test_non_dominated_drops_dominated_and_keeps_order():
    def point(s, t):
        return ParetoPoint(s, s, t, Status.OPTIMAL, 0.0)

    points = [point(1, 0.5), point(3, 0.5), point(2, 0.2), point(0, 0.0), point(2, 0.3)]
    kept = [(p.throughput, p.transmission_s) for p in non_dominated(points)]
    assert kept == [(3, 0.5), (2, 0.2), (0, 0.0)]


def test_cli_pareto_table_json_and_plot(tmp_path):
    path = HAND / "hand-two-edges.json"
    table = run_cli("solve", path, "--pareto")
    assert table.returncode == 0, table.stderr
    assert "Pareto front" in table.stdout and "510.000" in table.stdout
    picture, out = tmp_path / "front.png", tmp_path / "front.json"
    result = run_cli(
        "solve",
        path,
        "--pareto",
        "--json",
        "--solver",
        "exact-cvxpy",
        "--plot",
        picture,
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    points = json.loads(result.stdout)["points"]
    assert [p["throughput"] for p in points] == [4, 3, 2, 1, 0]
    assert {p["status"] for p in points} == {"optimal"}
    assert json.loads(out.read_text()) == json.loads(result.stdout)
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [INSTANCES / "placement" / "hand-chain.json", "--pareto"],
            "--pareto: only assignment instances have a (throughput, latency) front",
        ),
        (
            [HAND / "hand-two-edges.json", "--pareto", "--solver", "cloud-only"],
            "--pareto: needs --solver exact or exact-cvxpy, got 'cloud-only'",
        ),
    ],
)
def test_cli_pareto_usage_errors(args, message):
    result = run_cli("solve", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_plots_an_assignment_solution(tmp_path):
    picture = tmp_path / "solution.png"
    result = run_cli("solve", HAND / "hand-two-edges.json", "--plot", picture)
    assert result.returncode == 0, result.stderr
    assert picture.read_bytes().startswith(b"\x89PNG")
