"""The comparison driver and `opt-offload compare` (gaps on evaluator values, design §2)."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.cli import main
from opt_offload.compare import aggregate, compare_instance, parse_solver_options, relative_gap
from opt_offload.errors import InputError
from opt_offload.io import load_instance

from .conftest import INSTANCES, instance_files, read_json, run_cli


def test_relative_gap_signs():
    assert relative_gap(10.0, 8.0, "max") == pytest.approx(0.2)
    assert relative_gap(10.0, 12.0, "min") == pytest.approx(0.2)
    assert relative_gap(-4.0, -5.0, "max") == pytest.approx(0.25)
    assert relative_gap(0.0, -1e-3, "max") == pytest.approx(1e-3 / 1e-9)
    assert relative_gap(None, 1.0, "max") is None and relative_gap(1.0, None, "min") is None


@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.sampled_from(["max", "min"]))
def test_a_worse_value_never_has_a_negative_gap(reference, worse_by, sense):
    value = reference - worse_by if sense == "max" else reference + worse_by
    assert relative_gap(reference, value, sense) >= -1e-12


def test_compare_instance_uses_the_evaluator_and_reference():
    instance = load_instance(INSTANCES / "assignment" / "hand-two-edges.json")
    (row,) = compare_instance("f.json", instance, ["cloud-only"])
    assert row.reference == "cloud-only" and row.gap == 0.0
    assert row.solution.objective == 4.0
    # a heuristic's answer is no proven optimum: the gap is "vs best known"
    assert row.against == "best known"
    summary = aggregate([row])
    assert summary[0]["solved"] == 1 and summary[0]["worst_gap_pct"] is None
    assert summary[0]["vs_best_known"] == 1 and summary[0]["worst_vs_best_known_pct"] == 0.0


def test_gap_to_a_proven_optimum_is_labelled_so():
    instance = load_instance(INSTANCES / "assignment" / "hand-two-edges.json")
    exact, cloud = compare_instance("f.json", instance, ["exact", "cloud-only"])
    assert exact.against == cloud.against == "optimum" and cloud.reference_gap == 0.0
    assert aggregate([exact, cloud])[1]["worst_gap_pct"] == 0.0


def test_compare_json_and_exit_1_when_the_reference_has_no_solution(capsys):
    path = str(INSTANCES / "placement" / "hand-chain.json")
    code = main(["compare", path, "--solvers", "largest-device,chain-dp", "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 1 and "holds no solution on: hand-chain" in captured.err
    assert [r["against"] for r in document["rows"]] == ["none", "none"]
    assert {r["gap_pct"] for r in document["rows"]} == {None}


def test_solver_options_are_split_per_solver():
    assert parse_solver_options({"kpfcfs.k": "4", "kpfcfs.rule": "edf", "x.y": "1"}) == {
        "kpfcfs": {"k": "4", "rule": "edf"},
        "x": {"y": "1"},
    }
    with pytest.raises(InputError, match="expected SOLVER.KEY=VALUE"):
        parse_solver_options({"k": "4"})


def test_compare_cli_writes_csv(tmp_path, capsys):
    out = tmp_path / "gaps.csv"
    files = [str(p) for p in instance_files("admission")]
    assert main(["compare", *files, "--solvers", "all-local", "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["instance"] for r in rows] == [read_json(p)["name"] for p in files]
    assert {r["gap_pct"] for r in rows} == {"0.0"}
    assert {r["against"] for r in rows} == {"best known"}
    assert "aggregate" in capsys.readouterr().out


def test_compare_cli_unknown_solver_is_bad_input():
    result = run_cli("compare", INSTANCES / "admission" / "hand-three.json", "--solvers", "nope")
    assert result.returncode == 2 and "unknown solver 'nope' for admission" in result.stderr


def test_cli_start_up_stays_light():
    # Building the parser must not import the heavy backends: every command pays for it.
    code = (
        "import sys; from opt_offload.cli import build_parser; build_parser();"
        "heavy = [m for m in ('torch', 'pyomo.environ', 'cvxpy', 'highspy', 'matplotlib.pyplot')"
        " if m in sys.modules]; print(heavy)"
    )
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
