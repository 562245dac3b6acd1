"""``opt-offload flops``, ``calibrate`` and ``bench sparse-attention`` as a user meets them."""

from __future__ import annotations

import json

import pytest

from opt_offload.costs.configs import preset
from opt_offload.costs.flops import paper_step_flops, step_flops

from .conftest import run_cli

TINY_CONFIG = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 50,
}


@pytest.fixture
def config_file(tmp_path):
    def write(data: dict):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(data))
        return path

    return write


def test_flops_prints_paper_architecture_and_ratio():
    result = run_cli("flops", "--model", "qwen2.5-math-7b", "--context", "512", "--new", "64")
    assert result.returncode == 0, result.stderr
    qwen = preset("qwen2.5-math-7b")
    paper, architecture = paper_step_flops(512, 3584, 28, 64), step_flops(qwen, 512, 64).total
    step_row = next(line for line in result.stdout.splitlines() if "step (16)" in line)
    assert f"{paper:.4g}" in step_row and f"{architecture:.4g}" in step_row
    assert f"{paper / architecture:.4f}" in step_row
    assert "prefill (14)" in result.stdout and "decode token (15)" in result.stdout


def test_flops_from_a_config_file(config_file):
    result = run_cli("flops", "--config", config_file(TINY_CONFIG), "--context", "8", "--new", "2")
    assert result.returncode == 0, result.stderr
    assert "config: context m = 8, new tokens m_new = 2" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--model", "qwen2.5-math-7b", "--context", "0", "--new", "4"],
            "argument --context: must be >= 1 and <= 1000000000, got 0",
        ),
        (
            ["--model", "qwen2.5-math-7b", "--context", "4", "--new", "-1"],
            "argument --new: must be >= 1 and <= 1000000000, got -1",
        ),
        (["--model", "gpt-5", "--context", "4", "--new", "1"], "unknown model preset 'gpt-5'"),
    ],
)
def test_flops_bad_arguments(args, message):
    result = run_cli("flops", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    "change, problems",
    [
        (
            {"vocab_size": None, "hidden_size": None},
            ["hidden_size: missing", "vocab_size: missing"],
        ),
        ({"hidden_size": 30}, ["num_heads: 4 heads do not divide hidden_size 30"]),
        ({"num_hidden_layers": 0}, ["num_layers: Input should be greater than 0"]),
    ],
)
def test_flops_bad_config(config_file, change, problems):
    data = {k: v for k, v in {**TINY_CONFIG, **change}.items() if v is not None}
    path = config_file(data)
    result = run_cli("flops", "--config", path, "--context", "4", "--new", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"opt-offload: {path}: {p}" for p in problems]


def test_calibrate_tiny(config_file, tmp_path):
    out, traces = tmp_path / "d_psi.pt", tmp_path / "traces.csv"
    result = run_cli(
        "calibrate",
        "--config",
        config_file(TINY_CONFIG),
        "--min-context",
        "8",
        "--max-context",
        "64",
        "--points",
        "4",
        "--new",
        "1,2",
        "--repeats",
        "1",
        "--epochs",
        "20",
        "--out",
        out,
        "--traces",
        traces,
    )
    assert result.returncode == 0, result.stderr
    assert "D_psi" in result.stdout and "held-out error (2 traces; 6 for fitting)" in result.stdout
    lines = traces.read_text().splitlines()
    assert lines[0] == "context_tokens,new_tokens,seconds" and len(lines) == 9
    assert out.stat().st_size > 0


def test_calibrate_bad_arguments(config_file):
    result = run_cli("calibrate", "--config", config_file(TINY_CONFIG), "--new", "1,x")
    assert result.returncode == 2
    assert "--new: expected comma-separated integers, got '1,x'" in result.stderr


def test_bench_sparse_attention_grid():
    result = run_cli(
        "bench",
        "sparse-attention",
        "--tokens",
        "128",
        "--heads",
        "2",
        "--block",
        "32",
        "--theta",
        "0.5",
        "--tau",
        "0.9,1",
        "--no-timing",
    )
    assert result.returncode == 0, result.stderr
    assert "error <= bound in every block row of every run: True" in result.stdout
