"""`opt-offload simulate`, `opt-offload sweep` and `opt-offload bench simulation` (design §9):
outputs, the surrogate label, bad input, files written."""

from __future__ import annotations

import csv
import json
from unittest import mock

import pytest

from opt_offload.cli import main

from .conftest import run_cli

SHORT = ["--slots", "200"]


def test_simulate_prints_a_table_that_labels_the_surrogate(capsys):
    assert main(["simulate", *SHORT, "--scheduler", "exact"]) == 0
    out = capsys.readouterr().out
    assert "accuracy (SURROGATE)" in out and "U - beta Delta" in out
    assert "SURROGATE" in out.splitlines()[-1]


def test_simulate_json_csv_and_out(tmp_path, capsys):
    assert main(["simulate", *SHORT, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["scheduler"] == "threshold" and document["capacity"] == 9
    assert "SURROGATE" in document["note"] and 0 < document["accuracy_surrogate"] < 1
    assert main(["simulate", *SHORT, "--csv"]) == 0
    (row,) = csv.DictReader(capsys.readouterr().out.splitlines())
    assert float(row["accuracy_surrogate"]) == pytest.approx(document["accuracy_surrogate"])
    out = tmp_path / "run.csv"
    assert main(["simulate", *SHORT, "--M", "3", "--B", "1e6", "--out", str(out)]) == 0
    (row,) = csv.DictReader(out.read_text().splitlines())
    assert row["capacity"] == "3" and float(row["bandwidth_hz"]) == 1e6


def test_simulate_bad_input_exits_2_with_one_line_per_problem(tmp_path):
    out = tmp_path / "never.json"
    result = run_cli(
        "simulate", "--M", "0", "--scheduler", "nope", "--policy", "x", "--out", str(out)
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "opt-offload: scheduler: unknown 'nope' (known: all-local, all-server, random, greedy, "
        "exact, exact-cvxpy, exact-scip, exact-joint, exact-pyomo, threshold)",
        "opt-offload: policy: unknown 'x' (known: screen, random, all)",
        "opt-offload: M: must be positive, got 0",
    ]
    assert not out.exists()


def test_sweep_writes_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", *SHORT, "--seeds", "2", "--capacities", "3,9", "--bandwidths", "1e5:1e6"]
    args += ["--per-decade", "1", "--strategies", "prada,exact", "--workers", "1"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "critical values" in printed and "exact - threshold" in printed
    runs = list(csv.DictReader((out / "runs.csv").read_text().splitlines()))
    assert len(runs) == 2 * 2 * (2 + 2)
    assert {r["bandwidth_hz"] for r in runs if r["axis"] == "B"} == {"100000.0", "1000000.0"}
    differences = list(csv.DictReader((out / "exact_minus_threshold.csv").read_text().splitlines()))
    assert len(differences) == 4
    critical = json.loads((out / "critical.json").read_text())
    assert set(critical["critical"]) == {
        "M:accuracy_surrogate",
        "M:objective",
        "B:accuracy_surrogate",
        "B:objective",
    }
    for name in (
        "fig5_accuracy_vs_M",
        "fig6_delays_vs_M",
        "fig7_delays_vs_B",
        "fig8_accuracy_vs_B",
    ):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_on_a_dask_local_cluster(tmp_path):
    out = tmp_path / "dask"
    args = ["sweep", "--slots", "100", "--seeds", "1", "--capacities", "9", "--bandwidths", "4e7"]
    args += ["--strategies", "prada", "--dask", "local", "--workers", "1", "--out", str(out)]
    assert main(args) == 0
    assert len((out / "runs.csv").read_text().splitlines()) == 1 + 2


def test_sweep_dask_address_that_does_not_answer(tmp_path, capsys):
    import distributed

    def refuse(address):
        raise OSError(f"Timed out trying to connect to {address}")

    args = ["sweep", "--slots", "50", "--seeds", "1", "--capacities", "9", "--bandwidths", "4e7"]
    args += ["--dask", "tcp://127.0.0.1:1", "--out", str(tmp_path)]
    with mock.patch.object(distributed, "Client", refuse):
        assert main(args) == 2
    assert "--dask tcp://127.0.0.1:1: cannot connect: Timed out" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--capacities", "a:b"], "--capacities: expected A:B or a list of integers"),
        (["--bandwidths", "1e9:1e5"], "--bandwidths: expected LOW:HIGH"),
        (["--seeds", "0"], "--seeds: must be at least 1, got 0"),
        (["--strategies", "prada,best"], "strategies: unknown 'best' (known: prada, exact"),
    ],
)
def test_sweep_bad_input(args, message, tmp_path):
    result = run_cli("sweep", *args, "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_simulation_reports_rates_ratios_and_targets(capsys):
    assert main(["bench", "simulation", "--slots", "300", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "x all-local" in out and "slots/CPU-s" in out and "wall-clock" in out
    for target in ("threshold >= 30,000", "exact >= 30,000", "all-local >= 60,000"):
        assert f"target {target} slots/CPU-s" in out


def test_bench_simulation_bad_scheduler_exits_2():
    result = run_cli("bench", "simulation", "--slots", "10", "--schedulers", "fastest")
    assert result.returncode == 2 and "scheduler: unknown 'fastest'" in result.stderr


def test_simulate_bad_upload_reading_exits_2():
    result = run_cli("simulate", "--slots", "10", "--upload", "free")
    assert result.returncode == 2 and "upload: unknown reading 'free'" in result.stderr
