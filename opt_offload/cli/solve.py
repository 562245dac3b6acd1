"""``opt-offload solve FILE``: solve one instance file and report the judged solution."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InputError
from ..io import load_instance, to_json, write_text_atomic
from ..plots import plot_solution
from ..registry import check_time_limit
from ..report import print_front, print_solution
from ..solve import solve
from .common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    add_solver_arguments,
    console,
    exit_code,
    solver_options,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "solve",
        help="solve an instance file",
        description="Solve an instance file (the problem comes from its `kind`) and print the "
        "decisions and objective. Exit 0 with a feasible solution, 1 when infeasible or none "
        "was found, 2 on bad input.",
    )
    parser.add_argument("file", help="instance file (JSON or YAML)")
    parser.add_argument("--solver", help="solver name (default: the kind's exact solver)")
    add_solver_arguments(parser)
    parser.add_argument(
        "--from-solution",
        metavar="SOL",
        help="judge a solver's solution file of the model `opt-offload export` writes for this "
        "instance, instead of solving (NAME VALUE lines or CPLEX XML)",
    )
    parser.add_argument("--out", metavar="PATH", help="write the solution JSON here (atomically)")
    parser.add_argument("--json", action="store_true", help="print the solution JSON instead")
    parser.add_argument("--plot", metavar="FILE.png", help="draw the solution into this file")
    parser.add_argument(
        "--pareto",
        action="store_true",
        help="assignment only: the Pareto front of (throughput, transmission latency) by an "
        "epsilon-constraint sweep with the exact solver (exact or exact-cvxpy); --time-limit "
        "bounds the whole sweep, --json / --out / --plot give the front",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_time_limit(args.time_limit)
    instance = load_instance(args.file)
    if args.pareto:
        return run_pareto(args, instance)
    if args.from_solution:
        solution = judge_solution_file(instance, args.from_solution)
    else:
        solution = solve(instance, args.solver, time_limit=args.time_limit, **solver_options(args))
    text = to_json(solution)
    write_out(args.out, text)
    if args.plot:
        plot_solution(instance, solution, args.plot)
    if args.json:
        print(text, end="")
    else:
        print_solution(console, instance, solution)
        if args.out:
            console.print(f"solution written to {Path(args.out)}")
    return exit_code(solution)


def judge_solution_file(instance, path: str):
    """Decode a solution file of the exported model and judge it (status ``feasible``: a
    file carries no proof)."""
    from ..exchange import export_model, read_solution
    from ..registry import SolverResult, SolverSpec
    from ..schemas import Status
    from ..solve import judge

    exported = export_model(instance)
    decisions = exported.decode(read_solution(path, exported.form))
    spec = SolverSpec(instance.kind, "from-solution", judge, False, "a solution file")
    result = SolverResult(Status.FEASIBLE, decisions, message=f"read from {path}")
    return judge(instance, spec, {"file": str(path)}, result, 0.0)


def write_out(path: str | None, text: str) -> None:
    if path:
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise InputError(f"--out {path}: cannot write: {exc.strerror or exc}") from None


def run_pareto(args: argparse.Namespace, instance) -> int:
    if instance.kind != "assignment":
        raise InputError(
            f"--pareto: only assignment instances have a (throughput, latency) front; "
            f"this is a {instance.kind} instance"
        )
    name = args.solver or "exact"
    from ..solvers.assignment.exact import BACKENDS

    if name not in BACKENDS:
        raise InputError(f"--pareto: needs --solver exact or exact-cvxpy, got {name!r}")
    from ..registry import get_solver
    from ..solvers.assignment.pareto import pareto_front

    spec = get_solver("assignment", name)
    spec.check(instance)
    options = spec.parse_options(solver_options(args))
    front = pareto_front(
        instance,
        backend=options["backend"],
        time_limit=args.time_limit,
        mip_gap=options["mip_gap"],
    )
    text = json.dumps(
        {"instance": instance.name, "solver": name, "points": [p.as_json() for p in front]},
        indent=2,
    )
    write_out(args.out, text + "\n")
    if args.plot:
        from ..plots.assignment import plot_front

        plot_front(instance, front, args.plot)
    if args.json:
        print(text)
    else:
        print_front(console, instance, front)
    found = any(p.throughput is not None for p in front)
    return EXIT_OK if found else EXIT_NO_SOLUTION
