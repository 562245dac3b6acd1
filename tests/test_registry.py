"""The solver registry and the judge that turns solver output into a Solution (design §2)."""

from __future__ import annotations

import pytest

from opt_offload.errors import InputError, SolverUnavailable
from opt_offload.io import load_instance
from opt_offload.registry import Option, SolverResult, get_solver
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .conftest import INSTANCES

THREE = load_instance(INSTANCES / "admission" / "hand-three.json")


def test_solver_claiming_optimal_with_infeasible_decisions_is_an_error(scratch_solver):
    def liar(instance, *, time_limit=None):
        decisions = {
            c.id: {"action": "immediate", "bandwidth_hz": 1e9} for c in instance.candidates
        }
        return SolverResult(Status.OPTIMAL, decisions, bound=99.0)

    scratch_solver("test-liar", liar)
    solution = solve(THREE, "test-liar")
    assert solution.status is Status.ERROR
    assert solution.objective is None and solution.bound == 99.0
    assert any("capacity" in v for v in solution.violations)


def test_heuristic_with_infeasible_decisions_gave_up(scratch_solver):
    def careless(instance, *, time_limit=None):
        return SolverResult(
            Status.FEASIBLE, {c.id: {"action": "queue"} for c in instance.candidates}
        )

    scratch_solver("test-careless", careless)
    solution = solve(THREE, "test-careless")
    # a heuristic's failure proves nothing: gave-up, not infeasible, and no incumbent
    assert solution.status is Status.GAVE_UP and not solution.has_decisions
    assert solution.violations == ["outage: u3 is 'queue' but snr_db -3.0 < snr_threshold_db 0.0"]


def test_objective_comes_from_the_evaluator(scratch_solver):
    def boastful(instance, *, time_limit=None):
        decisions = {c.id: {"action": "local"} for c in instance.candidates}
        decisions["u1"] = {"action": "immediate", "bandwidth_hz": instance.bandwidth_hz}
        return SolverResult(Status.FEASIBLE, decisions, message="I say 100")

    scratch_solver("test-boastful", boastful)
    assert solve(THREE, "test-boastful").objective == pytest.approx(0.42)


def test_options_are_parsed_and_recorded(scratch_solver):
    seen = {}

    def tunable(instance, *, time_limit=None, k, rule, scale):
        seen.update(k=k, rule=rule, scale=scale, time_limit=time_limit)
        return SolverResult(
            Status.FEASIBLE, {c.id: {"action": "local"} for c in instance.candidates}
        )

    scratch_solver(
        "test-tunable",
        tunable,
        options=(
            Option("k", int, 1, "window"),
            Option("rule", str, "fcfs", "priority", choices=("fcfs", "edf")),
            Option("scale", float, 1.0, "scale"),
        ),
    )
    solution = solve(THREE, "test-tunable", time_limit=3.0, k="4", rule="edf", scale="2")
    assert seen == {"k": 4, "rule": "edf", "scale": 2.0, "time_limit": 3.0}
    assert solution.options == {"k": 4, "rule": "edf", "scale": 2.0, "time_limit": 3.0}
    with pytest.raises(InputError, match="option k: expected int, got 'four'"):
        solve(THREE, "test-tunable", k="four")
    with pytest.raises(InputError, match="option rule: must be one of fcfs, edf, got 'lifo'"):
        solve(THREE, "test-tunable", rule="lifo")


def test_capabilities_are_checked_before_solving(scratch_solver):
    def never_called(instance, *, time_limit=None):
        raise AssertionError("not reached")

    scratch_solver("test-needs-backend", never_called, requires=("no_such_backend_xyz",))
    scratch_solver("test-picky", never_called, supports=lambda inst: "needs two candidates")
    with pytest.raises(
        SolverUnavailable, match="needs no_such_backend_xyz, which is not installed"
    ):
        solve(THREE, "test-needs-backend")
    with pytest.raises(SolverUnavailable, match="cannot take this instance: needs two candidates"):
        solve(THREE, "test-picky")
    assert get_solver("admission", "test-needs-backend").missing_backends() == [
        "no_such_backend_xyz"
    ]


def test_unknown_solver_names_the_known_ones():
    with pytest.raises(InputError, match="unknown solver 'nope' for placement"):
        get_solver("placement", "nope")
