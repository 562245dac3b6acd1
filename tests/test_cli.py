"""The command line as a user meets it (design §9): exit codes, one line per problem, no
traceback, no partial output file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from opt_offload.cli import main
from opt_offload.io import load_solution

from .conftest import INSTANCES, instance_files, read_json, run_cli

THREE = INSTANCES / "admission" / "hand-three.json"


def assert_bad_input(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"opt-offload: {line}" for line in expected]


@pytest.fixture
def bad_file(tmp_path):
    def write(text: str, name: str = "bad.json"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def mutated(path, mutate) -> str:
    data = read_json(path)
    mutate(data)
    return json.dumps(data)


BAD_INPUTS = {
    "invalid-json": (
        '{"kind": "admission",',
        "invalid JSON at line 1 column 22: Expecting property name enclosed in double quotes",
    ),
    "wrong-kind": (
        '{"kind": "knapsack"}',
        "kind: must be one of admission, assignment, placement (got 'knapsack')",
    ),
    "negative-bandwidth": (
        mutated(THREE, lambda d: d.update(bandwidth_hz=-4e7)),
        "bandwidth_hz: Input should be greater than 0",
    ),
    "nan": (
        mutated(THREE, lambda d: d["candidates"][1].update(gain=float("nan"))),
        "candidates[1].gain: Input should be a finite number",
    ),
    "duplicated-id": (
        mutated(THREE, lambda d: d["candidates"][2].update(id="u1")),
        "candidates[2].id: duplicate id 'u1'",
    ),
    "missing-model": (
        mutated(
            INSTANCES / "assignment" / "hand-two-edges.json",
            lambda d: d["tasks"][3].update(model="llama-70b"),
        ),
        "tasks[3].model: unknown model 'llama-70b'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_bad_input_one_line_exit_2_no_output(case, command, bad_file, tmp_path):
    text, problem = BAD_INPUTS[case]
    path = bad_file(text)
    out = tmp_path / "solution.json"
    args = [command, path] + (["--out", out] if command == "solve" else [])
    assert_bad_input(run_cli(*args), f"{path}: {problem}")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind either


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.json"
    assert_bad_input(
        run_cli("solve", path, "--out", tmp_path / "s.json"), f"{path}: file not found"
    )
    assert not (tmp_path / "s.json").exists()


def test_several_problems_are_all_reported(bad_file):
    def break_it(d):
        d["bandwidth_hz"] = 0
        d["candidates"][0]["snr_db"] = float("nan")
        d["candidates"][1]["colour"] = "red"

    path = bad_file(mutated(THREE, break_it))
    assert_bad_input(
        run_cli("validate", path),
        f"{path}: bandwidth_hz: Input should be greater than 0",
        f"{path}: candidates[0].snr_db: Input should be a finite number",
        f"{path}: candidates[1].colour: Extra inputs are not permitted",
    )


def test_unknown_solver_and_bad_option():
    assert_bad_input(
        run_cli("solve", THREE, "--solver", "gurobi"),
        "unknown solver 'gurobi' for admission (known: all-local, all-server, random, greedy, "
        "exact, exact-cvxpy, exact-scip, enumerate, exact-joint, exact-pyomo, threshold)",
    )
    assert_bad_input(
        run_cli("solve", THREE, "--option", "k=4"),
        "solver 'exact' has no option 'k' (options: kmax)",
    )


def test_out_to_missing_folder_is_bad_input(tmp_path):
    out = tmp_path / "no" / "such" / "dir.json"
    result = run_cli("solve", THREE, "--out", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--out {out}: cannot write" in result.stderr


@pytest.mark.parametrize("path", instance_files(), ids=lambda p: p.name)
def test_validate_and_solve_every_shipped_instance(path, tmp_path, capsys):
    assert main(["validate", str(path)]) == 0
    out = tmp_path / "solution.json"
    code = main(["solve", str(path), "--out", str(out)])
    solution = load_solution(out)
    assert solution.instance == read_json(path)["name"]
    assert code == (0 if solution.objective is not None else 1)
    assert "solution" in capsys.readouterr().out


def test_solve_json_is_the_solution_file(tmp_path):
    out = tmp_path / "solution.json"
    result = run_cli("solve", THREE, "--json", "--out", out)
    assert result.returncode == 0
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text())
    assert set(printed) >= {
        "kind",
        "instance",
        "solver",
        "options",
        "status",
        "objective",
        "bound",
        "wall_s",
        "decisions",
    }
    assert printed["decisions"]["u1"] == {"action": "immediate", "bandwidth_hz": 1e6}


def test_heuristic_that_finds_nothing_gave_up_exit_code_1(capsys):
    # nothing fits on one device: largest-device finds no solution, which proves nothing
    # (chain-dp solves the instance)
    path = str(INSTANCES / "placement" / "hand-chain.json")
    assert main(["solve", path, "--solver", "largest-device"]) == 1
    out = capsys.readouterr().out
    assert "gave-up" in out and "infeasible" not in out


def test_strict_cloud_only_without_cloud_is_infeasible(capsys):
    path = INSTANCES / "assignment" / "hand-gap-strict.json"
    assert main(["solve", str(path), "--solver", "cloud-only"]) == 1
    out = capsys.readouterr().out
    assert "the instance has no cloud server" in out
    assert "assignment (1a): t1 is not served (variant strict)" in out


def test_schema_command_prints_json_schema():
    for kind in ("admission", "assignment", "placement"):
        result = run_cli("schema", kind)
        assert result.returncode == 0
        assert json.loads(result.stdout)["type"] == "object"
    solution = json.loads(run_cli("schema", "solution").stdout)
    assert solution["discriminator"]["propertyName"] == "kind" and len(solution["oneOf"]) == 3
    # exact: every object closed, decisions typed per kind
    assert '"additionalProperties": true' not in json.dumps(solution)
    assert all(
        d.get("additionalProperties") is False
        for d in solution["$defs"].values()
        if d.get("type") == "object"
    )
    assert run_cli("schema", "knapsack").returncode == 2


def test_solvers_lists_each_kind(capsys):
    assert main(["solvers"]) == 0
    out = capsys.readouterr().out
    for name in ("all-local", "cloud-only", "largest-device"):
        assert name in out


def test_console_script_is_installed():
    # next to the interpreter running the tests: the venv's bin/, whatever PATH says
    executable = Path(sys.executable).parent / "opt-offload"
    assert executable.exists(), "the opt-offload entry point is installed"
    result = subprocess.run([executable, "validate", str(THREE)], capture_output=True, text=True)
    assert result.returncode == 0 and "valid admission instance" in result.stdout
