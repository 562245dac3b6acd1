"""The result vocabulary (schemas/solution.py) and the judge that holds every solver to it
(opt_offload/solve.py): two axes, version 2 with version 1 read, validated options."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.cli import main
from opt_offload.errors import InputError
from opt_offload.io import load_instance, load_solution, to_json
from opt_offload.registry import SolverResult
from opt_offload.schemas import Status, parse_solution
from opt_offload.schemas.solution import relative_gap
from opt_offload.solve import solve

from .conftest import INSTANCES

THREE = load_instance(INSTANCES / "admission" / "hand-three.json")
LOCAL = {c.id: {"action": "local"} for c in THREE.candidates}


def answer(status, decisions=None, bound=None):
    """A scratch solver that always answers this."""
    return lambda instance, *, time_limit=None: SolverResult(status, decisions, bound)


def v1_document(**fields) -> dict:
    base = {
        "kind": "assignment",
        "instance": "hand-two-edges",
        "solver": "exact",
        "options": {"mode": ""},
        "status": "optimal",
        "objective": 4.0,
        "bound": 4.0,
        "wall_s": 0.1,
        "decisions": {"t1": "e2", "t2": None, "placement": {"e1": ["m13"]}},
        "sense": "max",
        "metrics": {},
        "violations": [],
        "message": None,
    }
    return {**base, **fields}


def test_version_1_assignment_is_read_with_its_placement_as_a_field():
    solution = parse_solution(v1_document())
    assert solution.version == 2 and solution.gap == 0.0
    assert solution.decisions == {"tasks": {"t1": "e2", "t2": None}, "placement": {"e1": ["m13"]}}


def test_version_1_error_and_empty_decisions_read_as_none():
    error = parse_solution(v1_document(status="error", objective=0.0, bound=None))
    assert error.status is Status.ERROR and not error.has_decisions and error.objective is None
    empty = parse_solution(v1_document(status="infeasible", objective=None, decisions={}))
    assert not empty.has_decisions


def test_version_2_round_trips_through_a_file(tmp_path):
    solution = solve(load_instance(INSTANCES / "assignment" / "hand-two-edges.json"))
    path = tmp_path / "solution.json"
    path.write_text(to_json(solution))
    assert json.loads(path.read_text())["version"] == 2
    assert load_solution(path) == solution


def test_unknown_version_is_refused():
    with pytest.raises(ValueError):
        parse_solution({**v1_document(), "version": 3})


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
)
def test_relative_gap_is_symmetric_and_in_zero_one_for_same_sign(a, b):
    gap = relative_gap(a, b)
    assert gap == relative_gap(b, a) and gap >= 0
    if a * b >= 0:
        assert gap <= 1.0


# --- the judge -------------------------------------------------------------------------------


def test_error_never_carries_decisions(scratch_solver):
    scratch_solver("test-broken", answer(Status.ERROR, LOCAL))
    solution = solve(THREE, "test-broken")
    assert solution.status is Status.ERROR and solution.decisions is None
    assert solution.objective is None


def test_time_limit_keeps_its_incumbent_or_has_none(scratch_solver):
    scratch_solver("test-late", answer(Status.TIME_LIMIT, LOCAL))
    scratch_solver("test-empty", answer(Status.TIME_LIMIT))
    late, empty = solve(THREE, "test-late"), solve(THREE, "test-empty")
    assert late.status is Status.TIME_LIMIT and late.has_decisions and late.objective == 0.0
    assert empty.status is Status.TIME_LIMIT and not empty.has_decisions
    assert (
        main(["solve", str(INSTANCES / "admission" / "hand-three.json"), "--solver", "test-empty"])
        == 1
    )


def test_heuristic_cannot_prove(scratch_solver):
    scratch_solver("test-proud", answer(Status.OPTIMAL, LOCAL))
    scratch_solver("test-gloomy", answer(Status.INFEASIBLE))
    assert solve(THREE, "test-proud").status is Status.FEASIBLE
    assert solve(THREE, "test-gloomy").status is Status.GAVE_UP


def test_proof_without_bound_is_its_own_bound_and_a_loose_one_is_no_proof(scratch_solver):
    scratch_solver("test-proof", answer(Status.OPTIMAL, LOCAL), exact=True)
    scratch_solver("test-loose", answer(Status.OPTIMAL, LOCAL, bound=1.0), exact=True)
    proof = solve(THREE, "test-proof")
    assert proof.status is Status.OPTIMAL and proof.bound == proof.objective and proof.gap == 0
    loose = solve(THREE, "test-loose")
    assert loose.status is Status.FEASIBLE and loose.gap == 1.0
    assert "not proven" in loose.message


def test_bound_on_the_wrong_side_is_dropped(scratch_solver):
    # maximising: all-local reaches 0.0, so an upper "bound" of -1 excludes what is achieved
    scratch_solver("test-bad-bound", answer(Status.TIME_LIMIT, LOCAL, bound=-1.0), exact=True)
    solution = solve(THREE, "test-bad-bound")
    assert solution.bound is None and "dropped the solver's bound" in solution.message


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity", "1", "1.5", "-0.1"])
def test_mip_gap_must_be_finite_in_zero_one(value):
    with pytest.raises(InputError, match="option mip_gap: must be finite, in"):
        solve(THREE, "exact-pyomo", mip_gap=value)


@pytest.mark.parametrize("value", [0.0, -1.0, math.inf, math.nan])
def test_time_limit_must_be_finite_and_positive(value):
    with pytest.raises(InputError, match="--time-limit: must be finite and > 0"):
        solve(THREE, "exact", time_limit=value)


def test_counts_must_be_positive():
    with pytest.raises(InputError, match="option kmax: must be > 0"):
        solve(THREE, "exact", kmax=0)


@pytest.mark.parametrize(
    "flags, named",
    [
        (["-o", "mip_gap=Infinity"], "mip_gap"),
        (["--time-limit", "nan"], "--time-limit"),
        (["--time-limit", "0"], "--time-limit"),
        (["-o", "kmax=-3"], "kmax"),
    ],
)
def test_bad_option_on_the_command_line_exit_2_one_line_no_file(tmp_path, capsys, flags, named):
    out = tmp_path / "solution.json"
    path = str(INSTANCES / "admission" / "hand-three.json")
    code = main(["solve", path, "--solver", "exact-pyomo", "--out", str(out), *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and named in err[0]


def test_version_flag(capsys):
    from opt_offload import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"opt-offload {__version__}"
