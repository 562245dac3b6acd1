"""Problem A on the command line: bad input through `opt-offload solve` with the exact solver
(design §9), the generator, the benchmarks, and the shipped Table 3 instances."""

from __future__ import annotations

import csv
import json

import pytest

from opt_offload.cli import main
from opt_offload.io import load_instance
from opt_offload.solvers.admission.enumeration import enumerate_optimum

from .conftest import INSTANCES, read_json, run_cli
from .test_cli import assert_bad_input

THREE = INSTANCES / "admission" / "hand-three.json"


def solve_exact(path, *extra):
    return run_cli("solve", path, "--solver", "exact", *extra)


def three(**changes) -> dict:
    return {**read_json(THREE), **changes}


BAD = {
    "identical-ids": (
        lambda d: d["candidates"][1].update(id="u1"),
        "candidates[1].id: duplicate id 'u1'",
    ),
    "zero-bandwidth": (
        lambda d: d.update(bandwidth_hz=0),
        "bandwidth_hz: Input should be greater than or equal to 1",
    ),
    "busy-longer-than-capacity": (
        lambda d: d["server"].update(busy_remaining_s=[0.1, 0.2, 0.3]),
        "server.busy_remaining_s: 3 in-flight requests exceed capacity 2",
    ),
    "given-delay-missing": (
        lambda d: d["candidates"][0].pop("queue_delay_s"),
        "candidates[0].queue_delay_s: required when queue.delay is 'given'",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exit_2_one_line(case, write_json, tmp_path):
    data = read_json(THREE)
    mutate, problem = BAD[case]
    mutate(data)
    path = write_json(data)
    out = tmp_path / "solution.json"
    assert_bad_input(solve_exact(path, "--out", out), f"{path}: {problem}")
    assert not out.exists()


def test_snr_exactly_at_the_threshold_may_upload(write_json):
    data = three()
    data["candidates"][2]["snr_db"] = data["snr_threshold_db"]  # u3: -3 dB -> exactly 0 dB
    result = solve_exact(write_json(data), "--json")
    assert result.returncode == 0, result.stderr
    solution = json.loads(result.stdout)
    assert solution["status"] == "optimal" and not solution["violations"]
    assert solution["decisions"]["u3"]["action"] != "local"  # gain 0.9 is worth offloading


def test_empty_candidate_list_is_trivially_local(write_json):
    result = solve_exact(write_json(three(candidates=[])), "--json")
    assert result.returncode == 0, result.stderr
    solution = json.loads(result.stdout)
    assert solution["status"] == "optimal" and solution["objective"] == 0.0
    assert solution["decisions"] == {} and solution["bound"] == 0.0


def test_solve_exact_json_is_the_design_solution():
    result = solve_exact(THREE, "--json")
    assert result.returncode == 0
    solution = json.loads(result.stdout)
    assert solution["solver"] == "exact" and solution["status"] == "optimal"
    assert solution["objective"] == pytest.approx(0.54) and solution["bound"] >= 0.54 - 1e-9
    assert solution["decisions"] == {
        "u1": {"action": "immediate", "bandwidth_hz": 1e6},
        "u2": {"action": "queue", "bandwidth_hz": 0.0},
        "u3": {"action": "local", "bandwidth_hz": 0.0},
    }


def test_solvers_listing_says_which_are_exact(capsys):
    assert main(["solvers", "--kind", "admission"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") > 5}
    for name in ("exact (default)", "exact-pyomo", "exact-cvxpy", "enumerate"):
        assert "│ yes   │" in rows[name]
    for name in ("threshold", "random", "greedy", "all-local"):
        assert "│ no    │" in rows[name]


def test_enumerate_takes_at_most_ten_candidates(write_json):
    data = three()
    data["candidates"] = [dict(data["candidates"][0], id=f"u{k}") for k in range(11)]
    assert_bad_input(
        run_cli("solve", write_json(data), "--solver", "enumerate"),
        "solver 'enumerate' cannot take this instance: 11 candidates: 3^11 action vectors, "
        "enumeration takes at most 10",
    )
    result = run_cli("solve", THREE, "--solver", "enumerate", "--json")
    assert json.loads(result.stdout)["status"] == "optimal"


# --- shipped Table 3 instances ---------------------------------------------------------------

SHIPPED = {
    "table3-abundant": (0.236868, 0.235555),
    "table3-competitive": (0.363683, 0.363683),
    "table3-server-full": (0.50644, 0.50644),
    "table3-outage": (0.605193, 0.604778),
    "table3-binding": (0.1141, 0.094839),
}


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_instances_as_their_comments_say(name):
    path = INSTANCES / "admission" / f"{name}.json"
    instance = load_instance(path)
    optimum, threshold = SHIPPED[name]
    assert f"{optimum:g}" in instance.comment
    from opt_offload.solve import solve

    # a second opinion: enumeration up to 8 candidates (3^8 vectors), the Pyomo MILP beyond
    if len(instance.candidates) <= 8:
        assert enumerate_optimum(instance)[0] == pytest.approx(optimum, abs=1e-6)
    else:
        assert solve(instance, "exact-pyomo").objective == pytest.approx(optimum, abs=1e-6)
    assert solve(instance, "exact").objective == pytest.approx(optimum, abs=1e-6)
    assert solve(instance, "threshold").objective == pytest.approx(threshold, abs=1e-6)


def test_shipped_estimate_instance_fixed_point_is_below_the_enumeration():
    from opt_offload.solve import solve

    instance = load_instance(INSTANCES / "admission" / "table3-estimate.json")
    assert enumerate_optimum(instance)[0] == pytest.approx(0.553357, abs=1e-6)
    solution = solve(instance, "exact")
    assert solution.status.value == "feasible"
    assert solution.objective == pytest.approx(0.54578, abs=1e-6)


# --- generator and benchmarks ----------------------------------------------------------------


def test_generate_same_seed_same_bytes(tmp_path):
    args = ["generate", "admission", "-n", "7", "--case", "competitive", "--seed", "11"]
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0 and first.stdout == second.stdout
    assert run_cli(*args[:-1], "12").stdout != first.stdout


@pytest.mark.parametrize(
    ("case", "free"),
    [("abundant", range(4, 10)), ("competitive", range(1, 4)), ("server-full", [0])],
)
def test_generate_forces_each_case(case, free, capsys):
    for seed in range(5):
        assert main(["generate", "admission", "-n", "4", "--case", case, "--seed", str(seed)]) == 0
        document = json.loads(capsys.readouterr().out)
        server = document["server"]
        assert server["capacity"] == 9 and document["bandwidth_hz"] == 4e7
        assert server["capacity"] - len(server["busy_remaining_s"]) in free


def test_generate_outage_binding_and_estimate(capsys):
    args = ["generate", "admission", "--outage", "--bandwidth", "binding", "--queue", "estimate"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["candidates"][0]["snr_db"] < document["snr_threshold_db"]
    assert document["bandwidth_hz"] == 4e5 and document["queue"]["delay"] == "estimate"
    assert all(c["queue_delay_s"] is None for c in document["candidates"])


def test_generate_paper_flops_are_smaller(capsys):
    times = {}
    for flops in ("paper", "architecture"):
        assert main(["generate", "admission", "--flops", flops]) == 0
        times[flops] = [
            c["server_time_s"] for c in json.loads(capsys.readouterr().out)["candidates"]
        ]
    # eq. (16) as printed has no layer factor: far below the architecture count
    assert all(p < a / 10 for p, a in zip(times["paper"], times["architecture"]))


def test_generate_rejects_impossible_cases():
    assert_bad_input(
        run_cli("generate", "admission", "--case", "abundant", "-n", "12"),
        "--case abundant: needs at most M = 9 candidates, got 12",
    )


def test_bench_admission_reports_ratios_and_targets(capsys):
    args = ["bench", "admission", "--sizes", "16", "--instances", "1", "--min-total-s", "0.01"]
    assert main([*args, "--solvers", "exact,threshold,exact-pyomo,highspy-round"]) == 0
    out = capsys.readouterr().out
    assert "x threshold" in out and "Pyomo / this" in out and "highspy-round" in out
    assert "target exact <= 1 ms at n = 16" in out
    assert "faster than exact-pyomo at n = 16" in out


def test_bench_admission_gap_writes_csv(tmp_path, capsys):
    out = tmp_path / "gaps.csv"
    assert main(["bench", "admission-gap", "--instances", "12", "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 12 * 4 * 2  # both readings of a queued upload, the same slots
    assert {r["solver"].partition("/")[2] for r in rows} == {"priced", "shared"}
    assert {r["case"] for r in rows} == {"abundant", "competitive", "server-full"}
    assert all(float(r["gap"]) >= -1e-9 for r in rows)  # nothing beats the exact optimum
    assert "server-full" in capsys.readouterr().out
