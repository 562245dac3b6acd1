"""OR-Library GAP: the importer (parser, conversion, command line) and the regression of both
assignment formulations against the published optima (design §5: the strict variant with fixed
placement and no QoS is the GAP)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.benchmarks.assignment import within_published_bounds
from opt_offload.cli import main
from opt_offload.evaluate.assignment import evaluate_assignment
from opt_offload.importers.orlib_gap import (
    DATA_DIR,
    PublishedValue,
    _optima_rows,
    agent_id,
    gap_files,
    job_id,
    parse_gap_text,
    published_value,
    read_gap_file,
    read_gap_problem,
)
from opt_offload.io import load_instance, parse_instance, to_json
from opt_offload.schemas import Status
from opt_offload.solve import solve

from .conftest import INSTANCES

GAP1 = DATA_DIR / "gap1.txt"


def gap_text(problems: list[tuple[list[list[int]], list[list[int]], list[int]]]) -> str:
    """An OR-Library file of (costs, resources, capacities); rows wrapped as the mirrors do."""
    lines = [str(len(problems))]
    for costs, resources, capacities in problems:
        lines.append(f"{len(capacities)} {len(costs[0])}")
        lines += [" ".join(map(str, row)) for row in costs + resources]
        lines.append(" ".join(map(str, capacities)))
    return "\n".join(lines) + "\n"


# -- parser and conversion ---------------------------------------------------------------------


def test_every_file_matches_the_optima_table():
    rows = _optima_rows(DATA_DIR / "gap_optima.csv")
    files = gap_files()
    assert [f.stem for f in files] == [f"gap{k}" for k in [*range(1, 13), *"abcd"]]
    for path in files:
        problems = read_gap_file(path)
        assert len(problems) == (5 if path.stem[3:].isdigit() else 6)
        for problem in problems:
            row = rows[(path.name, problem.index)]
            assert (problem.agents, problem.jobs) == (int(row["agents_m"]), int(row["jobs_n"]))
            assert all(len(r) == problem.jobs for r in problem.costs + problem.resources)


def test_conversion_carries_every_number():
    problem = read_gap_problem(GAP1, 2)
    instance = problem.to_instance()
    assert instance.variant == "strict" and instance.latency_max_s is None
    assert [s.compute_budget_flop for s in instance.servers] == list(problem.capacities)
    assert not any(s.cloud for s in instance.servers)
    cmax = problem.cost_max
    for i, server in enumerate(instance.servers):
        for j, task in enumerate(instance.tasks):
            assert instance.workload(task, server) == problem.resources[i][j]
            assert instance.transmission_s[task.id][server.id] == cmax - problem.costs[i][j]
    assert f"Cmax = {cmax}" in instance.comment and f"{problem.jobs * cmax} - T" in instance.comment
    assert parse_instance(json.loads(to_json(instance))) == instance  # JSON round trip


def test_minimisation_files_keep_their_costs():
    problem = read_gap_problem(DATA_DIR / "gapa.txt", 1)
    instance = problem.to_instance()
    assert problem.sense == "min" and (problem.agents, problem.jobs) == (5, 100)
    assert instance.transmission_s[job_id(7)][agent_id(3)] == problem.costs[3][7]


def test_published_values():
    assert published_value("gap1.txt", 1) == published_value(GAP1, 1)
    assert published_value("gap1.txt", 1).optimum == 336  # gapinfo, maximisation
    assert published_value("gap1.txt", 1, "min").optimum == 261
    assert published_value("gapc.txt", 3).optimum == 1402
    d = published_value("gapd.txt", 3)  # d10100: no proven optimum in the sources
    assert (d.sense, d.lower, d.upper, d.optimum) == ("min", 6345, 6348, None)
    assert published_value("gap1.txt", 6) is None


def test_shipped_instance_is_gap1_problem_1():
    shipped = load_instance(INSTANCES / "assignment" / "gap1-1.json")
    assert shipped == read_gap_problem(GAP1, 1).to_instance()


@st.composite
def gap_problems(draw):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    matrix = st.lists(st.lists(st.integers(0, 50), min_size=n, max_size=n), min_size=m, max_size=m)
    capacities = draw(st.lists(st.integers(0, 120), min_size=m, max_size=m))
    return draw(matrix), draw(matrix), capacities


@given(gap_problems(), st.sampled_from(["max", "min"]), st.data())
def test_shift_preserves_every_assignments_value(data_, sense, data):
    # For ANY assignment, the evaluator's T gives the GAP value back (profit = n Cmax - T for
    # max), and its feasibility is the GAP's capacity check: so argmin T = argmax profit.
    costs, resources, capacities = data_
    problem = parse_gap_text(gap_text([data_]), "random.txt", sense)[0]
    assert (problem.costs, problem.resources) == (
        tuple(map(tuple, costs)),
        tuple(map(tuple, resources)),
    )
    instance = problem.to_instance()
    agents = data.draw(
        st.lists(st.integers(0, problem.agents - 1), min_size=problem.jobs, max_size=problem.jobs)
    )
    evaluation = evaluate_assignment(
        instance, {"tasks": {job_id(j): agent_id(i) for j, i in enumerate(agents)}}
    )
    assert problem.value(evaluation.metrics["transmission_s"]) == problem.assignment_value(agents)
    loads = [
        sum(resources[i][j] for j, a in enumerate(agents) if a == i) for i in range(len(capacities))
    ]
    fits = all(load <= cap for load, cap in zip(loads, capacities))
    assert evaluation.feasible == fits


# -- both formulations against the published optima -------------------------------------------

FORMULATIONS = ("exact", "exact-cvxpy")
# gap1-gap12 (5 problems each) and the 5-agent problems of types A-C (indices 1 and 2: 5x100 and
# 5x200); the 10- and 20-agent ones run in `opt-offload bench assignment`.
SUITE = [(f"gap{k}.txt", range(1, 6)) for k in range(1, 13)]
SUITE += [(f"gap{t}.txt", range(1, 3)) for t in "abc"]


@pytest.mark.parametrize("solver", FORMULATIONS)
@pytest.mark.parametrize("file, indices", SUITE, ids=[f for f, _ in SUITE])
def test_formulation_reaches_the_published_optimum(file, indices, solver):
    for index in indices:
        problem = read_gap_problem(DATA_DIR / file, index)
        solution = solve(problem.to_instance(), solver)
        assert solution.status is Status.OPTIMAL, (problem.name, solution.message)
        # the evaluator's T sums the file's integers, so the comparison is exact
        assert problem.value(solution.objective) == published_value(file, index).optimum, (
            problem.name
        )


# -- command line ------------------------------------------------------------------------------


def test_import_writes_the_same_bytes_to_stdout_and_file(capsys, tmp_path):
    out = tmp_path / "gap.json"
    assert main(["import", "orlib-gap", str(GAP1), "--index", "1"]) == 0
    printed = capsys.readouterr().out
    assert main(["import", "orlib-gap", str(GAP1), "--index", "1", "--out", str(out)]) == 0
    assert out.read_text() == printed == to_json(read_gap_problem(GAP1, 1).to_instance())


MALFORMED = {
    "not-an-integer": (
        "1\n2 2\n1 2\n3 x\n",
        "line 4: expected an integer (problem 1 cost c[2][2]), got 'x'",
    ),
    "ends-early": ("1\n2 2\n1 2 3 4\n5 6 7 8\n9\n", "ends early: expected problem 1 capacity b[2]"),
    "negative-resource": (
        "1\n1 1\n3\n-1\n5\n",
        "line 4: problem 1 resource a[1][1] must be non-negative, got -1",
    ),
    "no-agents": ("1\n0 3\n", "line 2: problem 1 number of agents m must be positive, got 0"),
    "trailing-data": (
        "1\n1 1\n3\n1\n5\n7\n",
        "line 6: unexpected '7' after the last of 1 problems",
    ),
    "empty": ("", "ends early: expected the number of problems"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_is_one_line_exit_2_and_no_output(case, tmp_path, capsys):
    text, problem = MALFORMED[case]
    path, out = tmp_path / "bad.txt", tmp_path / "out.json"
    path.write_text(text)
    assert main(["import", "orlib-gap", str(path), "--index", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"opt-offload: {path}: {problem}\n"
    assert not out.exists()


@pytest.mark.parametrize("index", [0, 6])
def test_index_out_of_range_is_exit_2_and_no_output(index, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["import", "orlib-gap", str(GAP1), "--index", str(index), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"opt-offload: --index: {index} is out of range; gap1.txt holds problems 1 to 5\n"
    )
    assert not out.exists()


def test_missing_file_is_exit_2(tmp_path, capsys):
    path = tmp_path / "missing.txt"
    assert main(["import", "orlib-gap", str(path), "--index", "1"]) == 2
    assert capsys.readouterr().err == f"opt-offload: {path}: file not found\n"


# -- the benchmark -----------------------------------------------------------------------------


def test_bench_orlib_part_on_one_file(capsys):
    assert main(["bench", "assignment", "--only", "orlib", "--file", "gap1"]) == 0
    out = capsys.readouterr().out
    assert out.count(" pass ") == 10 and "FAIL" not in out
    assert "published optimum, D within the published bounds: met" in out


@pytest.mark.parametrize(
    "arguments, problem",
    [
        (["--file", "gap99"], "--file: unknown gap99 (known: gap1, "),
        (["--data", "/nonexistent"], "--data: /nonexistent is not a folder"),
        (["--d-time-limit", "0"], "--d-time-limit: must be positive, got 0"),
    ],
)
def test_bench_bad_arguments_are_exit_2(arguments, problem, capsys):
    assert main(["bench", "assignment", "--only", "orlib", *arguments]) == 2
    assert capsys.readouterr().err.startswith(f"opt-offload: {problem}")


PUBLISHED_BOUNDS = {
    "min": PublishedValue("min", 6345, 6348),
    "max": PublishedValue("max", 6350, 6355),
}


@pytest.mark.parametrize(
    "sense, value, bound, inside",
    [
        ("min", 6357, 6340.5, True),  # a time limit: incumbent above, bound below the optimum
        ("min", 6344, 6340, False),  # an incumbent below the published lower bound
        ("min", 6360, 6350, False),  # a bound above the published incumbent
        ("max", 6350, 6360, True),
        ("max", 6356, 6360, False),  # a profit above the published upper bound
        ("max", 6350, 6349, False),  # a bound on the profit below the published incumbent
        ("min", None, None, True),  # nothing found, nothing claimed
    ],
)
def test_type_d_is_checked_against_the_published_bounds(sense, value, bound, inside):
    assert within_published_bounds(sense, value, bound, PUBLISHED_BOUNDS[sense]) is inside
