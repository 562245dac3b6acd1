"""The pipeline planner of eq. (3): the split enumeration against the whole N^3 K grid, the
latency model against costs/flops.py, and the `opt-offload plan` command."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

from opt_offload.costs.configs import PRESETS
from opt_offload.costs.devices import device_preset
from opt_offload.costs.flops import decode_flops, prefill_flops
from opt_offload.pipeline import LatencyModel, Plan, PlanProblem, plan_pipeline

from .conftest import run_cli

TESTBED = device_preset("paper-testbed")


def problem(**changes) -> PlanProblem:
    base = PlanProblem(
        target=PRESETS["llama2-7b"],
        draft=PRESETS["llama-68m"],
        edge=TESTBED.device("edge-1"),
        remote=TESTBED.device("cloud"),
        link_bytes_per_s=TESTBED.bandwidth["edge-1"]["cloud"],
        local_fraction=0.5,
        batch=5,
        prompt=256,
        new_tokens=64,
        max_candidates=4,
    )
    return dataclasses.replace(base, **changes)


CASES = {
    "split": problem(),
    "all-local": problem(local_fraction=1.0, dtype="int8"),
    "tight-memory": problem(prompt=4000, batch=6, local_fraction=0.8),
    "fp16": problem(dtype="fp16", local_fraction=0.25, acceptance=0.9),
}


@pytest.mark.parametrize("case", list(CASES))
def test_split_enumeration_finds_the_grid_optimum(case):
    p = CASES[case]
    model = LatencyModel(p)
    sizes = range(1, p.batch + 1)
    grid = [
        model.cost(Plan(*point))
        for point in itertools.product(sizes, sizes, sizes, range(1, p.max_candidates + 1))
    ]
    feasible = [c.latency_s for c in grid if c.feasible]
    result = plan_pipeline(p)
    assert result.space_size == len(grid) == p.batch**3 * p.max_candidates
    if case == "tight-memory":
        assert 0 < len(feasible) < len(grid)  # (3b) binds
    assert result.cost.latency_s == pytest.approx(min(feasible), rel=1e-12)
    assert result.cost.feasible


def test_no_plan_when_the_weights_do_not_fit():
    result = plan_pipeline(problem(target=PRESETS["llama2-13b"], local_fraction=1.0))
    assert result.plan is None and result.cost is None


def test_work_matches_the_architecture_flop_count():
    model, config = LatencyModel(problem()), PRESETS["llama2-7b"]
    prefill = model.block_flop(config, 3, 100, 0) + model.head_flop(config, 3, 1)
    assert prefill == pytest.approx(3 * prefill_flops(config, 100, logits="last").total)
    decode = model.block_flop(config, 2, 1, 50) + model.head_flop(config, 2, 1)
    assert decode == pytest.approx(2 * decode_flops(config, 50).total)


def test_speculation_pays_only_when_drafts_are_accepted():
    never = plan_pipeline(problem(acceptance=0.0))
    assert never.plan.candidates == 1  # a round yields one token whatever k is
    assert LatencyModel(problem(acceptance=0.8)).tokens_per_round(3) == pytest.approx(
        1 + 0.8 + 0.8**2 + 0.8**3
    )


def test_more_memory_is_never_worse():
    tight = CASES["tight-memory"]
    roomy_edge = dataclasses.replace(tight.edge, memory_bytes=2 * tight.edge.memory_bytes)
    roomy = plan_pipeline(dataclasses.replace(tight, edge=roomy_edge))
    assert roomy.cost.latency_s <= plan_pipeline(tight).cost.latency_s


def test_plan_command(tmp_path):
    result = run_cli("plan", "--model", "llama2-7b", "--batch", "4", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["space_size"] == 4**3 * 8 and answer["plan"]["candidates"] >= 1
    assert answer["cost"]["memory_bytes"] <= answer["cost"]["memory_limit_bytes"]


def test_plan_reads_the_placement(tmp_path):
    instance, solution = tmp_path / "instance.json", tmp_path / "solution.json"
    model = ("--model", "llama2-7b", "--devices", "paper-testbed-1", "--dtype", "fp16")
    assert run_cli("generate", "placement", *model, "--out", instance).returncode == 0
    assert run_cli("solve", instance, "--solver", "chain-dp", "--out", solution).returncode == 0
    decisions = json.loads(solution.read_text())["decisions"]
    # per-layer ids: target.L1 .. target.L32 are the blocks (all the same size)
    blocks = [n for n, d in decisions.items() if d == "edge-1" and n[len("target.L") :].isdigit()]
    result = run_cli("plan", *model, "--placement", instance, solution)
    assert result.returncode == 0, result.stderr
    assert 0 < len(blocks) < 32  # fp16 weights and caches do not fit the cloud alone
    assert f"{len(blocks) / 32:.1%}" in result.stdout


def test_plan_bad_input_is_one_line():
    result = run_cli("plan", "--local-layers", "41")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "opt-offload: plan: local_fraction must lie in [0, 1]"
