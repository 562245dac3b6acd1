"""The backends users bring (CP-SAT, SCIP direct, Gurobi, CPLEX, CBC): every native status
mapped, every installed backend against an independent oracle (enumeration, brute force) on
small instances of every problem it takes, agreement with HiGHS on the shipped instances,
one-line refusals, and exported models re-solved by highspy directly."""

from __future__ import annotations

import math

import pytest

from opt_offload.errors import InputError
from opt_offload.io import load_instance
from opt_offload.models.formulation import ProblemClass, binary_unit
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.backends import backend_classes, backends_for

from .conftest import INSTANCES, run_cli
from .placement_cases import brute_force
from .placement_cases import random_instance as random_placement
from .test_assignment_exact import feasible_outcomes
from .test_assignment_exact import random_instance as random_assignment

PYOMO_MILP = backends_for("pyomo", ProblemClass.MILP)
OTHER_PYOMO = [name for name in PYOMO_MILP if name != "pyomo-highs"]
NEW = ("pyomo-cpsat", "pyomo-scip", "scip", "pyomo-gurobi", "pyomo-cplex", "pyomo-cbc")


def need(backend: str) -> None:
    reason = backend_classes()[backend].unavailable()
    if reason:
        pytest.skip(reason)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


# --- status maps against the native enums ---------------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_status_map_is_exactly_the_native_enum(name):
    cls = backend_classes()[name]
    module = {"pyomo-cpsat": "ortools"}.get(name)
    if module:
        pytest.importorskip(module)
    natives = cls.native_statuses()
    assert natives and set(natives) == set(cls.STATUS_MAP)
    assert all(isinstance(cls.STATUS_MAP[n], Status) for n in natives)


def test_native_enums_are_the_libraries_own():
    from pyomo.contrib.solver.common.results import TerminationCondition
    from pyomo.opt import TerminationCondition as Legacy
    from pyscipopt.scip import PY_SCIP_STATUS

    classes = backend_classes()
    assert set(classes["pyomo-gurobi"].native_statuses()) == {m.name for m in TerminationCondition}
    for name in ("pyomo-cplex", "pyomo-cbc"):
        assert set(classes[name].native_statuses()) == {m.name for m in Legacy}
    scip = {a.lower() for a in dir(PY_SCIP_STATUS) if a.isupper()}
    assert set(classes["scip"].native_statuses()) == scip == set(classes["pyomo-scip"].STATUS_MAP)


def test_gurobi_statuses_reach_the_table_through_pyomo():
    """With gurobipy importable: every GRB.Status Pyomo translates lands in the table, and the
    proofs and limits land where they should."""
    gurobipy = pytest.importorskip("gurobipy")
    from pyomo.contrib.solver.solvers.gurobi.gurobi_direct import GurobiDirect

    table = backend_classes()["pyomo-gurobi"].STATUS_MAP
    through = {code: table[tc.name] for code, tc in GurobiDirect()._get_tc_map().items()}
    grb = gurobipy.GRB
    assert through[grb.OPTIMAL] is Status.OPTIMAL
    assert through[grb.TIME_LIMIT] is Status.TIME_LIMIT
    assert through[grb.INFEASIBLE] is Status.INFEASIBLE
    assert through[grb.SUBOPTIMAL] is Status.ERROR  # no proof, and Pyomo says "unknown"


def test_cpsat_enum_is_cp_models_own():
    pytest.importorskip("ortools")
    from ortools.sat.python import cp_model

    table = backend_classes()["pyomo-cpsat"].STATUS_MAP
    # CpSolver.status_name(code) is the name the backend reads
    names = {cp_model.CpSolver().status_name(getattr(cp_model, n)) for n in table}
    assert names == set(table)


def test_no_limit_or_doubt_maps_to_a_proof():
    doubtful = {"FEASIBLE", "UNKNOWN", "maxTimeLimit", "feasible", "locallyOptimal", "unknown"}
    doubtful |= {"timelimit", "userInterrupt", "maxIterations", "noSolution", "error"}
    for name in NEW:
        table = backend_classes()[name].STATUS_MAP
        assert not [n for n in doubtful if table.get(n) in (Status.OPTIMAL, Status.INFEASIBLE)]


# --- every backend against an independent oracle --------------------------------------------


@pytest.mark.parametrize("backend", [*OTHER_PYOMO, "cvxpy-scip"])
def test_assignment_backend_equals_enumeration(backend):
    need(backend)
    solver = "exact-cvxpy" if backend.startswith("cvxpy") else "exact"
    infeasible = 0
    for seed in range(12):
        instance = random_assignment(seed)
        outcomes = feasible_outcomes(instance)
        solution = solve(instance, solver, mode="lexicographic", backend=backend)
        if not outcomes:
            assert solution.status is Status.INFEASIBLE, (seed, solution.message)
            infeasible += 1
            continue
        assert solution.status is Status.OPTIMAL, (seed, solution.message)
        best_s, best_t, _ = max(outcomes, key=lambda o: (o[0], -o[1]))
        assert solution.metrics["throughput"] == best_s, seed
        assert solution.metrics["transmission_s"] == pytest.approx(best_t, abs=1e-9), seed
    assert 0 < infeasible < 12  # both outcomes exercised


@pytest.mark.parametrize("backend", OTHER_PYOMO)
def test_placement_backend_equals_brute_force(backend):
    need(backend)
    for seed in range(10):
        instance = random_placement(seed, max_nodes=6)
        best = brute_force(instance)
        solution = solve(instance, "exact", backend=backend)
        if best is None:
            assert solution.status is Status.INFEASIBLE, (seed, solution.message)
            continue
        assert solution.status is Status.OPTIMAL, (seed, solution.message)
        assert solution.objective == pytest.approx(best[0], rel=1e-6, abs=1e-9), seed
        assert solution.bound <= solution.objective * (1 + 1e-6) + 1e-9, seed


# --- the shipped instances: agreement with HiGHS --------------------------------------------

SHIPPED = [
    ("assignment", "gap1-1"),
    ("assignment", "hand-two-edges"),
    ("assignment", "testbed-s0"),
    ("assignment", "hand-strict-infeasible"),
    ("placement", "hand-chain"),
    ("placement", "llama2-13b-fp16-paper-testbed-1"),
]


@pytest.fixture(scope="module")
def highs_answers():
    return {}


@pytest.mark.parametrize("backend", OTHER_PYOMO)
@pytest.mark.parametrize(("kind", "name"), SHIPPED)
def test_backend_agrees_with_highs_on_shipped_instances(highs_answers, backend, kind, name):
    need(backend)
    instance = load_instance(INSTANCES / kind / f"{name}.json")
    if (kind, name) not in highs_answers:
        highs_answers[kind, name] = solve(instance, "exact")
    reference = highs_answers[kind, name]
    solution = solve(instance, "exact", backend=backend)
    if solution.status is Status.ERROR and "size" in (solution.message or ""):
        pytest.skip(f"{backend}'s licence is size-limited: {solution.message}")
    assert solution.status is reference.status, solution.message
    if solution.status is Status.OPTIMAL:
        assert close(solution.objective, reference.objective)
        if kind == "assignment":  # lexicographic: the second objective agrees too
            assert close(solution.metrics["transmission_s"], reference.metrics["transmission_s"])


# --- CP-SAT's exact integers ----------------------------------------------------------------


def test_binary_unit_is_an_exact_division():
    for value in (1.0, 3.0, 7.3e12, 1.6e10, 12345.678):
        unit = binary_unit(value)
        assert 1.0 <= value / unit < 2.0 and (value / unit) * unit == value
    assert binary_unit(0.0) == 1.0


def test_cpsat_states_its_scale_and_rounding():
    need("pyomo-cpsat")
    exact = solve(load_instance(INSTANCES / "assignment" / "gap1-1.json"), backend="pyomo-cpsat")
    assert exact.status is Status.OPTIMAL and "(exact)" in exact.message
    # bytes / B(d1, d2) has no short decimal: the objective is rounded, the bound widened
    instance = load_instance(INSTANCES / "placement" / "llama2-13b-fp16-paper-testbed-1.json")
    rounded = solve(instance, "exact", backend="pyomo-cpsat")
    assert "objective scale" in rounded.message
    assert rounded.bound <= rounded.objective


def test_cpsat_refuses_continuous_columns_of_the_admission_milp():
    need("pyomo-cpsat")
    done = run_cli(
        "solve",
        INSTANCES / "admission" / "table3-binding.json",
        "--solver",
        "exact-pyomo",
        "--backend",
        "pyomo-cpsat",
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "cannot take this solver's pyomo milp with continuous columns" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_cpsat_workers_and_time_limit_reach_the_solver():
    need("pyomo-cpsat")
    instance = load_instance(INSTANCES / "placement" / "hand-paper.json")
    solution = solve(instance, "exact", backend="pyomo-cpsat", workers=1, time_limit=5.0)
    assert solution.status is Status.OPTIMAL
    assert solution.options["workers"] == 1 and solution.options["backend"] == "pyomo-cpsat"


# --- admission: the MISOCP in PySCIPOpt and the cut rounds on other backends ----------------

ADMISSION = sorted(p.stem for p in (INSTANCES / "admission").glob("*.json"))


@pytest.mark.parametrize("name", ADMISSION)
def test_exact_scip_equals_enumeration(name):
    from opt_offload.solvers.admission.enumeration import enumerate_optimum

    instance = load_instance(INSTANCES / "admission" / f"{name}.json")
    solution = solve(instance, "exact-scip")
    if instance.queue.delay != "given":  # a fixed point: the same one as the default's
        assert solution.status is Status.FEASIBLE
        assert close(solution.objective, solve(instance, "exact").objective)
        return
    assert solution.status is Status.OPTIMAL, solution.message
    assert solution.message.startswith("SCIP: ")
    # enumeration of the 3^n action vectors up to n = 8, branch and bound over the closed form
    # (an exact solver of its own) beyond
    if len(instance.candidates) <= 8:
        optimum = enumerate_optimum(instance)[0]
    else:
        optimum = solve(instance, "exact").objective
    assert solution.objective == pytest.approx(optimum, abs=1e-7)


@pytest.mark.parametrize("backend", ["pyomo-scip", "pyomo-cbc", "pyomo-gurobi", "pyomo-cplex"])
def test_cut_rounds_on_other_backends_equal_enumeration(backend):
    need(backend)
    from opt_offload.solvers.admission.enumeration import enumerate_optimum

    for name in ("hand-three", "table3-abundant", "table3-outage"):
        instance = load_instance(INSTANCES / "admission" / f"{name}.json")
        solution = solve(instance, "exact-pyomo", backend=backend)
        assert solution.status is Status.OPTIMAL, (name, solution.message)
        assert solution.objective == pytest.approx(enumerate_optimum(instance)[0], abs=1e-7)


# --- bad input: one line, exit 2 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["assignment/gap1-1.json", "--backend", "nope"], "option backend: unknown backend"),
        (
            ["admission/table3-binding.json", "--solver", "exact-cvxpy", "--backend", "scip"],
            "option backend: cannot take this solver's cvxpy misocp (backends that can: "
            "cvxpy-scip), got 'scip'",
        ),
        (
            ["placement/hand-paper.json", "--solver", "exact-cvxpy", "--backend", "pyomo-scip"],
            "cannot take this solver's cvxpy milp",
        ),
        (["placement/hand-paper.json", "--solver", "chain-dp", "--backend", "scip"], "backend"),
        (["placement/hand-paper.json", "-o", "workers=-1"], "option workers"),
        (
            ["placement/hand-paper.json", "--backend", "pyomo-scip", "-o", "backend=pyomo-cbc"],
            "--backend pyomo-scip: differs from -o backend=pyomo-cbc",
        ),
    ],
)
def test_bad_backend_is_one_line_exit_2(args, says):
    done = run_cli("solve", INSTANCES / args[0], *args[1:])
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


@pytest.mark.parametrize("backend", ["pyomo-gurobi", "pyomo-cplex", "pyomo-cbc", "pyomo-cpsat"])
def test_missing_backend_says_how_to_install(backend, monkeypatch):
    cls = backend_classes()[backend]
    monkeypatch.setattr(cls, "missing", classmethod(lambda c: ["thing"]))
    with pytest.raises(InputError, match="option backend: needs thing, which is not installed"):
        solve(load_instance(INSTANCES / "placement" / "hand-paper.json"), backend=backend)
    assert cls.install in cls.unavailable()


@pytest.mark.parametrize("backend", ["pyomo-gurobi", "pyomo-cplex"])
def test_licence_limit_is_an_error_result(backend):
    """CPLEX's Community Edition takes 1,000 variables, Gurobi's wheel 2,000; this MILP has
    about 10,000."""
    need(backend)
    instance = load_instance(INSTANCES / "placement" / "llama2-13b-draft-paper-testbed.json")
    solution = solve(instance, "exact", backend=backend, time_limit=30)
    if solution.status is not Status.ERROR:
        pytest.skip(f"{backend} has a full licence here")
    assert "size" in solution.message and not solution.decisions


# --- export and solutions read back ---------------------------------------------------------


def highspy_solve(path):
    import highspy

    from opt_offload.solvers.backends.cvxpy_highs import silence_highs_banner

    silence_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.readModel(str(path))
    highs.run()
    return highs


def objective_of(stdout: str) -> float:
    import json

    return json.loads(stdout)["objective"]


@pytest.mark.parametrize("fmt", ["lp", "mps"])
@pytest.mark.parametrize(
    ("kind", "name"),
    [("assignment", "gap1-1"), ("placement", "hand-paper"), ("placement", "hand-chain")],
)
def test_exported_model_resolved_by_highspy_gives_the_optimum(tmp_path, fmt, kind, name):
    from opt_offload.exchange import export_model

    path = INSTANCES / kind / f"{name}.json"
    model = tmp_path / f"model.{fmt}"
    assert run_cli("export", path, "--format", fmt, "--out", model).returncode == 0
    highs = highspy_solve(model)
    instance = load_instance(path)
    optimum = solve(instance, "exact").objective
    # the placement objective is in seconds times the formulation's scale
    scale = 1.0 if kind == "assignment" else export_model(instance).scale
    assert close(highs.getInfo().objective_function_value / scale, optimum)
    solution_file = tmp_path / "model.sol"
    highs.writeSolution(str(solution_file), 0)
    done = run_cli("solve", path, "--from-solution", solution_file, "--json")
    assert done.returncode == 0, done.stderr
    assert '"status": "feasible"' in done.stdout
    assert close(objective_of(done.stdout), optimum)


def test_exported_names_are_instance_ids(tmp_path):
    text = run_cli("export", INSTANCES / "assignment" / "gap1-1.json", "--format", "lp").stdout
    assert "x(job_1,agent_1)" in text
    text = run_cli("export", INSTANCES / "placement" / "hand-chain.json", "--format", "lp").stdout
    assert "x(" in text and "z(" in text


def test_exported_admission_milp_bounds_the_slot_value(tmp_path):
    instance = INSTANCES / "admission" / "table3-binding.json"
    model = tmp_path / "slot.lp"
    assert run_cli("export", instance, "--format", "lp", "--out", model).returncode == 0
    assert "immediate(u1)" in model.read_text()
    highs = highspy_solve(model)
    solution_file = tmp_path / "slot.sol"
    highs.writeSolution(str(solution_file), 0)
    judged = run_cli("solve", instance, "--from-solution", solution_file, "--json")
    value = objective_of(judged.stdout)
    optimum = solve(load_instance(instance), "exact").objective
    assert value <= optimum + 1e-9 <= highs.getInfo().objective_function_value + 2e-9


def test_solution_file_without_known_names_is_bad_input(tmp_path):
    sol = tmp_path / "empty.sol"
    sol.write_text("nothing 1\n")
    done = run_cli("solve", INSTANCES / "assignment" / "gap1-1.json", "--from-solution", sol)
    assert done.returncode == 2 and "names no variable" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_export_to_a_missing_folder_writes_nothing(tmp_path):
    out = tmp_path / "no" / "m.lp"
    done = run_cli(
        "export", INSTANCES / "assignment" / "gap1-1.json", "--format", "lp", "--out", out
    )
    assert done.returncode == 2 and not out.exists()


# --- the listing and the comparison ---------------------------------------------------------


def test_solvers_backends_lists_every_backend():
    done = run_cli("solvers", "--backends")
    assert done.returncode == 0
    for name, cls in backend_classes().items():
        assert name in done.stdout
        if cls.unavailable():
            assert cls.install.split(";")[0] in done.stdout


def test_bench_backends_runs_the_admission_cases(tmp_path):
    import csv

    table = tmp_path / "bench.csv"
    done = run_cli(
        "bench",
        "backends",
        "--problems",
        "admission",
        "--admission-candidates",
        "0",
        "--backends",
        "pyomo-highs,scip,pyomo-cpsat",
        "--time-limit",
        "5",
        "--csv",
        table,
    )
    assert done.returncode == 0, done.stderr
    rows = {(r["instance"], r["backend"]): r for r in csv.DictReader(table.open())}
    assert rows["table3-binding", "pyomo-highs"]["status"] == "optimal"
    assert rows["table3-binding", "pyomo-highs"]["vs_highs"] == "1.0"
    assert rows["table3-binding", "scip"]["solver"] == "exact-scip"
    assert rows["table3-binding", "scip"]["status"] == "optimal"
    if ("table3-binding", "pyomo-cpsat") in rows:  # installed: refused for the cut rounds
        assert rows["table3-binding", "pyomo-cpsat"]["status"] == "refused"
