"""Real traffic: the Azure LLM inference traces, their reader, instances built from a window,
trace-driven K-P-FCFS, the rolling MILP, the serving metrics and the slot engine on a trace."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.cli import main
from opt_offload.costs.configs import preset
from opt_offload.costs.flops import generation_flops, generation_flops_total
from opt_offload.errors import InputError
from opt_offload.generators.trace_assignment import trace_assignment
from opt_offload.importers.azure_llm_trace import read_trace, trace_path
from opt_offload.simulation import SimulationConfig, simulate
from opt_offload.simulation.arrivals import TraceSpec, split_steps
from opt_offload.simulation.assignment import run_trace
from opt_offload.simulation.replay import Policy, parse_policy, replay
from opt_offload.simulation.rolling import Waiting, run_rolling_milp, window_document
from opt_offload.solve import solve
from opt_offload.solvers.assignment.kpfcfs import greedy_placement

from .conftest import REPO, run_cli

HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens"
ROWS = [
    "2023-11-16 18:15:46.6805900,374,44",
    "2023-11-16 18:15:50.9951690,396,109",
    "2023-11-16 18:15:51.0000000,12,3",
]


def write_trace(tmp_path, lines: list[str], name: str = "trace.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines))  # no newline at the end, like the shipped files
    return path


# --- the shipped data -----------------------------------------------------------------------


def test_the_shipped_traces_are_intact_with_licence_and_attribution():
    folder = trace_path("code").parent
    provenance = (folder / "PROVENANCE.md").read_text()
    for name in ("code", "conv"):
        digest = hashlib.sha256(trace_path(name).read_bytes()).hexdigest()
        assert digest in provenance
    assert "Creative Commons" in (folder / "LICENSE").read_text()
    assert "Splitwise" in provenance


@pytest.mark.parametrize("name, count", [("code", 8819), ("conv", 19366)])
def test_the_reader_takes_every_request_of_each_trace(name, count):
    trace = read_trace(name)
    assert len(trace) == count
    assert trace.arrivals_s[0] == 0.0 and np.all(np.diff(trace.arrivals_s) >= 0)
    assert trace.prompt_tokens.min() >= 1 and trace.generated_tokens.min() >= 1


# --- the reader -----------------------------------------------------------------------------


def test_times_are_exact_to_the_files_seven_decimals(tmp_path):
    trace = read_trace(write_trace(tmp_path, [HEADER, *ROWS]))
    assert [r.arrival_s for r in trace.requests] == [0.0, 4.314579, 4.31941]
    assert [r.line for r in trace.requests] == [2, 3, 4]
    assert trace.requests[1].tokens == 505


def test_window_then_limit_then_speedup(tmp_path):
    path = write_trace(tmp_path, [HEADER, *ROWS])
    window = read_trace(path, start_s=4.0, window_s=1.0)
    assert [r.line for r in window.requests] == [3, 4]
    assert window.requests[0].arrival_s == pytest.approx(0.314579)
    assert [r.line for r in read_trace(path, start_s=4.0, limit=1).requests] == [3]
    fast = read_trace(path, start_s=4.0, window_s=1.0, speedup=2.0)
    assert fast.requests[0].arrival_s == pytest.approx(0.314579 / 2)
    assert fast.duration_s == pytest.approx(window.duration_s / 2)


BAD_FILES = {
    "empty": ([], "empty file"),
    "header only": ([HEADER], "no requests"),
    "missing column": (["TIMESTAMP,ContextTokens", "2023-11-16 18:15:46.68,3"], "missing column"),
    "negative tokens": ([HEADER, "2023-11-16 18:15:46.68,374,-2"], "line 2: GeneratedTokens"),
    "not a number": ([HEADER, "2023-11-16 18:15:46.68,x,2"], "line 2: ContextTokens"),
    "bad time": ([HEADER, "yesterday,3,2"], "line 2: TIMESTAMP"),
    "short row": ([HEADER, "2023-11-16 18:15:46.68,3"], "line 2: expected 3 fields"),
    "out of order": ([HEADER, ROWS[1], ROWS[0]], "line 3: TIMESTAMP: earlier than line 2"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_trace_is_one_line_exit_2_and_no_file(case, tmp_path, capsys):
    lines, expected = BAD_FILES[case]
    path = write_trace(tmp_path, lines)
    out = tmp_path / "instance.json"
    code = main(["import", "azure-llm-trace", str(path), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and expected in err[0], err


def test_a_window_without_requests_is_refused(tmp_path, capsys):
    out = tmp_path / "instance.json"
    code = main(["import", "azure-llm-trace", "code", "--start", "5000", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists() and len(err) == 1 and "no requests" in err[0]


@given(
    row=st.integers(0, 2),
    field=st.integers(0, 2),
    junk=st.sampled_from(["", "-1", "0", "1.5", "nan", "2023-13-40 99:99:99", "abc", " "]),
)
def test_any_corrupted_field_is_reported_by_its_line(tmp_path_factory, row, field, junk):
    rows = [r.split(",") for r in ROWS]
    rows[row][field] = junk
    path = write_trace(tmp_path_factory.mktemp("t"), [HEADER, *(",".join(r) for r in rows)])
    try:
        read_trace(path)
    except InputError as exc:
        assert all("line " in p or "no requests" in p for p in exc.problems), exc.problems
    else:  # only a junk timestamp that still keeps the order can pass, and it cannot parse
        pytest.fail(f"accepted {junk!r} in row {row}, field {field}")


# --- instances from a window ----------------------------------------------------------------


@given(prompt=st.integers(1, 20000), generated=st.integers(1, 3000))
def test_closed_form_generation_flops_equal_the_token_by_token_count(prompt, generated):
    config = preset("llama2-7b")
    exact = generation_flops(config, prompt, min(generated, 40)).total
    assert float(generation_flops_total(config, prompt, min(generated, 40))) == exact


def test_a_window_instance_has_the_requests_and_solves(capsys):
    trace = read_trace("conv", start_s=900, window_s=8)
    instance = trace_assignment(trace)
    assert [t.id for t in instance.tasks] == [f"r{r.line}" for r in trace.requests]
    config = preset("llama2-7b")
    first = trace.requests[0]
    expected = generation_flops(config, first.prompt_tokens, first.generated_tokens).total
    assert instance.tasks[0].workload_flop == expected
    exact = solve(instance, "exact")
    assert exact.status.value == "optimal"
    for rule in ("fcfs", "shortest-workload", "earliest-deadline"):
        heuristic = solve(instance, "kpfcfs", k=4, rule=rule)
        assert heuristic.metrics["throughput"] <= exact.metrics["throughput"]


# --- dynamics -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_window():
    """Two minutes of the conversation trace at 2x: more than the testbed servers carry."""
    trace = read_trace("conv", start_s=600, window_s=120, speedup=2)
    return trace, trace_assignment(trace)


def test_kpfcfs_replays_the_trace_arrivals(busy_window):
    trace, instance = busy_window
    result = run_trace(instance, [(r.arrival_s, n) for n, r in enumerate(trace.requests)], k=4)
    assert result.arrived == len(trace)
    assert result.served + result.rejected == len(trace)
    for served in result.served_requests:
        assert served.arrival_s == trace.requests[served.index].arrival_s
        assert served.start_s >= served.arrival_s


def no_overlap_per_server(instance, trace, served) -> bool:
    by_server = {}
    for s in served:
        task = instance.tasks[s.index]
        span = (s.start_s, s.start_s + instance.computation(task, instance.servers_by_id[s.server]))
        by_server.setdefault(s.server, []).append(span)
    return all(
        later[0] >= earlier[1] - 1e-9
        for spans in by_server.values()
        for earlier, later in zip(sorted(spans), sorted(spans)[1:])
    )


def test_dropping_kpfcfs_serves_only_requests_that_could_still_make_it(busy_window):
    trace, instance = busy_window
    arrivals = [(r.arrival_s, n) for n, r in enumerate(trace.requests)]
    result = run_trace(instance, arrivals, k=4, drop_late=True)
    assert result.dropped > 0
    assert result.served + result.dropped + result.rejected == len(trace)
    assert no_overlap_per_server(instance, trace, result.served_requests)


def test_rolling_milp_accounts_for_every_request_and_runs_one_at_a_time(busy_window):
    trace, instance = busy_window
    arrivals = [(r.arrival_s, n) for n, r in enumerate(trace.requests)]
    # a generous per-window limit: W / 2 can pass before the first window's import and build
    # on a loaded machine, and a window without decisions is not what this test is about
    result, stats = run_rolling_milp(instance, arrivals, window_s=2.0, time_limit_s=60.0)
    assert result.served + result.dropped + result.rejected == len(trace)
    assert stats.solves > 0 and stats.no_decisions == 0
    assert result.served > len(trace) / 2  # most requests are served, not dropped
    assert no_overlap_per_server(instance, trace, result.served_requests)
    for s in result.served_requests:
        task = instance.tasks[s.index]
        server = instance.servers_by_id[s.server]
        assert s.start_s >= s.arrival_s
        assert instance.total_latency(task, server) <= instance.latency_max_s  # (1e) per pair
    assert queue_never_negative(result)


FLOP_WINDOW = REPO / "tests" / "data" / "rolling-window-flop.json"


def test_rolling_windows_keep_flop_units(busy_window):
    trace, instance = busy_window
    item = Waiting(0, 0.0, instance.tasks[0], ())
    backlog = {s.id: 1.0 for s in instance.servers}
    document = window_document(instance, [item], 2.0, backlog, 4.0, greedy_placement(instance))
    for record, server in zip(document["servers"], instance.servers):
        assert record["flops"] == server.flops
        assert record["compute_budget_flop"] == pytest.approx(server.flops * 3.0)
    assert document["tasks"][0]["workload_flop"] == instance.tasks[0].workload_flop


@pytest.mark.parametrize(
    "solver", [["exact"], ["exact", "-o", "stages=2"], ["exact-cvxpy"]], ids=" ".join
)
def test_a_window_in_flop_units_solves_in_both_formulations(solver):
    # budget rows in FLOP made HiGHS 1.16 segfault on this window's second lexicographic stage
    # (tests/data: its comment); each formulation states (1d) in a unit near Omega_j. A fresh
    # process, so that a crash fails this test and not the run.
    done = run_cli("solve", FLOP_WINDOW, "--solver", *solver, "--json")
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-500:]}"
    solution = json.loads(done.stdout)
    assert solution["status"] == "optimal"
    assert solution["metrics"]["throughput"] == 7
    assert solution["metrics"]["transmission_s"] == pytest.approx(7.69232, abs=1e-5)


def queue_never_negative(result) -> bool:
    return all(q >= 0 for _, q in result.queue_trace) and result.queue_trace[-1][1] == 0


def test_serving_metrics_count_goodput_against_l_max(busy_window):
    trace, instance = busy_window
    run = replay(instance, trace, Policy("kpfcfs", rule="fcfs", k=1))
    latencies = np.array(run.result.latencies_s)
    assert run.metrics.good == int(np.sum(latencies <= instance.latency_max_s))
    assert run.metrics.goodput_fraction == run.metrics.good / len(trace)
    assert run.metrics.p50_s <= run.metrics.p90_s <= run.metrics.p99_s
    tokens = sum(int(trace.generated_tokens[s.index]) for s in run.result.served_requests)
    first = min(s.arrival_s for s in run.result.served_requests)
    last = max(s.arrival_s + s.latency_s for s in run.result.served_requests)
    assert run.metrics.output_tokens_per_s == pytest.approx(tokens / (last - first))


@pytest.mark.parametrize("text", ["milp", "milp:0", "kpfcfs:fcfs", "kpfcfs:lifo:2", "x:1:1"])
def test_bad_policy_specs_are_input_errors(text):
    with pytest.raises(InputError):
        parse_policy(text)


# --- the slot engine on a trace -------------------------------------------------------------


@given(
    prompt=st.lists(st.integers(1, 5000), min_size=1, max_size=20),
    data=st.data(),
    length=st.integers(1, 60),
)
def test_steps_split_the_generated_tokens(prompt, data, length):
    generated = np.array(
        data.draw(st.lists(st.integers(1, 900), min_size=len(prompt), max_size=len(prompt)))
    )
    steps, context, new = split_steps(np.array(prompt), generated, length)
    starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
    assert np.array_equal(np.add.reduceat(new, starts), generated)
    assert np.all((new >= 1) & (new <= length))
    assert np.array_equal(context[starts], np.array(prompt))


def test_the_slot_engine_runs_every_request_of_the_window():
    spec = TraceSpec("code", start_s=600, window_s=20, speedup=10.0)
    trace = spec.read()
    slots = math.floor(trace.arrivals_s[-1] / 1e-3) + 1
    result = simulate(SimulationConfig(slots=slots, warmup=0, trace=spec))
    assert result.tasks == len(trace)


def test_dynamic_commands_take_trace_arrivals(tmp_path, capsys):
    code = main(
        ["stability", "--arrivals", "trace:code", "--start", "600", "--window", "30",
         "--speedups", "1,3", "--policies", "kpfcfs:fcfs:4,kpfcfs-drop:fcfs:4,milp:5", "--json",
         "--plot", str(tmp_path / "load.png"), "--queue-plot", str(tmp_path / "queue.png")]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and len(report["runs"]) == 6
    assert {"goodput_fraction", "output_tokens_per_s", "p99_s", "queue"} <= set(report["runs"][0])
    assert (tmp_path / "load.png").stat().st_size > 0 and (tmp_path / "queue.png").exists()
    code = main(["simulate", "--arrivals", "trace:conv", "--window", "20", "--speedup", "20",
                 "--json"])  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["arrivals"] == "trace:conv" and document["tasks"] > 0
    assert main(["simulate", "--window", "20"]) == 2  # a window needs a trace


def test_sweep_takes_trace_arrivals(tmp_path, capsys):
    import csv

    out = tmp_path / "sweep"
    code = main(
        ["sweep", "--arrivals", "trace:code", "--start", "600", "--window", "5", "--speedup", "10",
         "--capacities", "1,9", "--bandwidths", "4e7", "--seeds", "1", "--workers", "1",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    runs = list(csv.DictReader((out / "runs.csv").open()))
    window = read_trace("code", start_s=600, window_s=5, speedup=10)
    assert runs and all(int(r["slots"]) == 500 for r in runs)  # 5 s / 10 in 1 ms slots
    assert all(0 < int(r["tasks"]) <= len(window) for r in runs)


def test_bench_trace_gap_on_a_tiny_study(tmp_path, capsys):
    csv = tmp_path / "gap.csv"
    code = main(
        ["bench", "trace-gap", "--windows", "2", "--requests", "12", "--traces", "code",
         "--csv", str(csv)]
    )  # fmt: skip
    assert code == 0
    rows = csv.read_text().splitlines()
    assert len(rows) == 1 + 2 * 9  # header, 2 windows x 3 rules x 3 K_q


def test_the_documented_window_is_what_the_import_writes(tmp_path):
    # docs/real-traffic.md solves tests/data/azure-conv-900-9.json: it must not drift from
    # `import azure-llm-trace conv --start 900 --limit 9` (no machine path in it either)
    out = tmp_path / "window.json"
    args = ["import", "azure-llm-trace", "conv", "--start", "900", "--limit", "9"]
    assert main([*args, "--out", str(out)]) == 0
    assert out.read_text() == (REPO / "tests" / "data" / "azure-conv-900-9.json").read_text()


def test_trace_gap_counts_latency_only_against_a_proven_t_star():
    from opt_offload.benchmarks.trace_gap import proven_summary

    def row(s, t_proven, latency_gap, lex):
        return {"source": "code", "rule": "fcfs", "k": 1, "S*": 10, "S": s, "T*_proven": t_proven,
                "throughput_gap": (10 - s) / 10, "latency_gap": latency_gap, "lex_optimal": lex}

    rows = [row(10, True, 0.5, False), row(10, False, None, None), row(8, True, None, False)]
    (entry,) = proven_summary(rows)
    assert entry["n"] == 3 and entry["T* proven"] == 2
    assert entry["S=S* %"] == pytest.approx(200 / 3)  # S = S* whether or not T* is proven
    assert entry["lex opt %"] == 0 and entry["T gap mean %"] == 50
    assert entry["S gap mean %"] == pytest.approx(20 / 3)


def test_import_writes_an_instance_that_loads(tmp_path, capsys):
    from opt_offload.io import load_instance

    out = tmp_path / "window.json"
    args = ["import", "azure-llm-trace", "code", "--start", "600", "--window", "20"]
    assert main([*args, "--preset", "scale", "--out", str(out)]) == 0
    instance = load_instance(out)
    assert len(instance.servers) == 21 and instance.latency_max_s == 4.0
    assert len(instance.tasks) == len(read_trace("code", start_s=600, window_s=20))


@pytest.mark.parametrize(
    "flag",
    [
        ["--speedup", "0"],
        ["--window", "-1"],
        ["--limit", "0"],
        ["--model", "gpt"],
        ["--preset", "random"],
        ["--latency-max", "0"],
        ["--start", "nan"],
    ],
)
def test_bad_import_options_exit_2_without_output(flag, tmp_path, capsys):
    out = tmp_path / "window.json"
    assert main(["import", "azure-llm-trace", "code", *flag, "--out", str(out)]) == 2
    assert not out.exists() and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_rolling_milp_ends_without_a_qos_bound(busy_window):
    trace, instance = busy_window
    loose = instance.model_copy(update={"latency_max_s": None})
    arrivals = [(r.arrival_s, n) for n, r in enumerate(trace.requests[:40])]
    result, _ = run_rolling_milp(loose, arrivals, window_s=1.0, horizon_s=1.0)
    # an edge needs more than 1 s for most requests, the cloud takes the rest in time
    assert result.served + result.dropped + result.rejected == 40
