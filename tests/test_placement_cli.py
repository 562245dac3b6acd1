"""Placement from the command line: generate -> solve -> plot, the time-limit status, and the
four kinds of bad input of the issue, each one line, exit 2, no output file."""

from __future__ import annotations

import json

import pytest

from opt_offload.benchmarks.placement import CASES, instance_for
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .conftest import INSTANCES, read_json, run_cli

CHAIN = INSTANCES / "placement" / "hand-chain.json"


def chain_with(change) -> dict:
    document = read_json(CHAIN)
    change(document)
    return document


BAD = {
    "edge-to-missing-node": (
        chain_with(
            lambda d: d["graph"]["edges"].append({"source": "c", "target": "zz", "bytes": 1})
        ),
        "graph.edges[3].target: unknown node 'zz'",
    ),
    "tensor-larger-than-every-device": (
        chain_with(lambda d: d["graph"]["nodes"][0].update(bytes=100)),
        "graph.nodes[0].bytes: 'a' needs 100 bytes, larger than every device (largest 12)",
    ),
    "missing-device-pair": (
        chain_with(lambda d: d["bandwidth_bytes_per_s"]["gpu"].pop("cpu")),
        "bandwidth_bytes_per_s.gpu.cpu: missing (every ordered device pair is needed)",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_instance_is_one_line_and_no_output(case, write_json, tmp_path):
    document, problem = BAD[case]
    path, out = write_json(document), tmp_path / "solution.json"
    for command in (["validate", path], ["solve", path, "--out", out]):
        result = run_cli(*command)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.strip() == f"opt-offload: {path}: {problem}"
    assert not out.exists()


def test_cycle_where_a_dag_is_required(write_json, tmp_path):
    document = chain_with(
        lambda d: d["graph"]["edges"].append({"source": "d", "target": "b", "bytes": 1})
    )
    path, out = write_json(document), tmp_path / "solution.json"
    result = run_cli("solve", path, "--solver", "chain-dp", "--out", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "opt-offload: graph: chain-dp needs a DAG of layers; the graph has a cycle b -> c -> d -> b"
    )
    assert not out.exists()
    assert run_cli("solve", path).returncode == 0  # the MILP needs no DAG


def test_generate_solve_plot(tmp_path):
    instance, solution, picture = (tmp_path / n for n in ("i.json", "s.json", "p.png"))
    models = ("--model", "llama2-13b", "--draft", "llama-68m", "--devices", "paper-testbed")
    generated = run_cli("generate", "placement", *models, "--out", instance)
    assert generated.returncode == 0, generated.stderr
    result = run_cli("solve", instance, "--out", solution, "--plot", picture)
    assert result.returncode == 0, result.stderr
    answer = json.loads(solution.read_text())
    # proven within the default relative gap (1e-6): no placement under 1 - 1e-6 times it
    assert answer["status"] == "optimal"
    assert answer["objective"] * (1 - 1.01e-6) <= answer["bound"] <= answer["objective"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_time_limit_keeps_the_incumbent_and_bound():
    # HiGHS finds the incumbent within a second here but cannot close the gap in 120 s
    instance = instance_for(CASES["tensor-7b-flexgen"])
    solution = solve(instance, "exact", time_limit=3.0)
    assert solution.status is Status.TIME_LIMIT
    assert solution.bound <= solution.objective <= solution.bound * (1 + 1e-3)


GENERATED = {
    "llama2-13b-draft-paper-testbed.json": CASES["layer-13b"].arguments,
    "llama2-7b-tensor-paper-testbed-2.json": CASES["tensor-7b"].arguments,
    "llama2-13b-fp16-paper-testbed-1.json": ("--model", "llama2-13b", "--dtype", "fp16")
    + ("--devices", "paper-testbed-1", "--batch", "4"),
}


@pytest.mark.parametrize("name", list(GENERATED))
def test_shipped_instances_are_what_the_generator_writes(name):
    shipped = read_json(INSTANCES / "placement" / name)
    result = run_cli("generate", "placement", *GENERATED[name])
    generated = json.loads(result.stdout)
    assert shipped["comment"].startswith(generated.pop("comment"))  # plus what it shows
    assert {k: v for k, v in shipped.items() if k != "comment"} == generated


def test_bench_proves_the_13b_case():
    result = run_cli("bench", "placement", "--case", "layer-13b")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layer-13b: target: proven optimal in < 60 s: met" in result.stdout


@pytest.mark.parametrize(
    "file, solver",
    [
        ("placement/hand-chain.json", "exact-cvxpy"),
        ("assignment/hand-two-edges.json", "exact-cvxpy"),
    ],
)
def test_json_output_is_json_in_a_fresh_process(file, solver):
    """HiGHS prints a banner from C on the first Highs object of a process; a fresh process is
    the only place where that would reach stdout and break --json."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "opt_offload", "solve", str(INSTANCES / file)]
    done = subprocess.run(
        command + ["--solver", solver, "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["status"] == "optimal"
