"""`opt-offload reproduce prada`: Table 2 cells and the knees of Figs. 5-8 beside the paper's
(its --quick setting), the knee finders, the cells' roles, bad input."""

from __future__ import annotations

import csv

import pytest

from opt_offload.cli import main
from opt_offload.prada import TABLE2
from opt_offload.simulation.reproduce import (
    DATASETS,
    TABLE2_CELLS,
    cell_role,
    steepest_rise,
    vanishing_point,
)

from .conftest import run_cli


def test_quick_reproduction_prints_and_writes_every_cell(tmp_path, capsys):
    out = tmp_path / "prada"
    assert main(["reproduce", "prada", "--quick", "--readings", "priced", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "PRADA Table 2" in printed and "knees" in printed and "SURROGATE" in printed
    rows = list(csv.DictReader((out / "table2.csv").read_text().splitlines()))
    assert len(rows) == len(DATASETS) * len(TABLE2_CELLS)
    for row in rows:
        paper = float(row["paper"])
        assert float(row["priced_ratio"]) == pytest.approx(float(row["priced"]) / paper)
    gsm8k = {row["cell"]: row for row in rows if row["dataset"] == "gsm8k"}
    assert float(gsm8k["proc. ms PRADA"]["paper"]) == TABLE2["gsm8k"].prada_processing_ms
    knees = list(csv.DictReader((out / "knees.csv").read_text().splitlines()))
    assert {k["figure"] for k in knees} == {"Fig. 5", "Fig. 6", "Fig. 7", "Fig. 8"}
    for name in (
        "fig5_accuracy_vs_M",
        "fig6_delays_vs_M",
        "fig7_delays_vs_B",
        "fig8_accuracy_vs_B",
    ):
        assert (out / f"{name}.png").stat().st_size > 1000


def test_roles_calibrate_on_gsm8k_only():
    assert cell_role("gsm8k", "slm_processing_ms") == "calibrated"
    assert cell_role("gsm8k", "pi_theta_processing_ms") == "calibrated"
    assert cell_role("gsm8k", "prada_queuing_ms") == "predicted"
    for held_out in ("gaokao2023en", "mmlu_stem"):
        assert cell_role(held_out, "pi_theta_processing_ms") == "held out"
        assert cell_role(held_out, "prada_accuracy") == "held out"
        assert cell_role(held_out, "slm_processing_ms") == "input"  # the presets' lengths


def test_knee_finders():
    xs = [1e5, 1e6, 1e7, 1e8]
    assert steepest_rise(xs, [0.0, 0.1, 0.9, 1.0], log_x=True) == pytest.approx(10**6.5)
    assert steepest_rise([1, 2, 3], [3.0, 2.0, 1.0], log_x=False) is None  # never rises
    assert vanishing_point(xs, [5.0, 1.0, 0.2, 0.1]) == 1e7
    assert vanishing_point(xs, [0.0, 0.0, 0.0, 0.0]) is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--readings", "free"], "--readings: unknown 'free'"),
        (["--seeds", "0"], "--seeds: must be at least 1, got 0"),
    ],
)
def test_bad_input_exits_2(args, message, tmp_path):
    result = run_cli("reproduce", "prada", "--quick", *args, "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr
