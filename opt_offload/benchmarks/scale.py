"""``opt-offload bench scale``: the scale targets of assignment and command start-up, each
measured beside the code path it replaces, in the same run.

Rows (``--rows``, all by default except ``placement``):

- ``assignment-40``: the generator's ``scale`` preset (1,000 tasks x 21 servers, 40 s horizon),
  lexicographic, through ``exact`` (its default ``packing=auto``: at this size the one MILP
  max M S - T); the old path is the same solver with ``packing=off``; ``--ablate`` adds the plain
  two-stage MILP (every tightening off: ``scaled_budgets``, ``storage_cover``, ``model_load``,
  ``symmetry``) and one solve with each tightening off alone, which shows what each buys.
  Goal < 10 s.
- ``assignment-20``: the same instance with Omega_j = FLOP/s x 20 s (tighter budgets). Goal:
  proven in < 30 s.
- ``assignment-3000``: 3,000 tasks x 21 servers (40 s horizon); goal: proven in < 5 min.
  ``packing=auto`` runs the packing path here (S* by the LP bound and a packing, then min T
  keeping S* from it); the old path (``packing=off``, the one MILP) runs only with
  ``--old-3000`` (it needs the whole time limit).
- ``lagrangian-10k``: 10,000 tasks x 50 edges + cloud through ``lagrangian``: a solution and
  a proven gap within 5 min (no old path: the MILP does not get there).
- ``startup``: ``validate`` and ``solve --solver all-local`` as fresh processes; the old path
  builds every command's parser and imports every kind's solvers first, which is what each
  command did before. Wall and CPU seconds (user + system of the child), median of
  ``--repeat``. Goal < 0.5 s wall (on a busy machine the wall time also counts the time spent
  waiting for a core; the CPU seconds, shown beside, include numpy's threads).
- ``placement``: two rows, ``bench placement``'s ``tensor-13b`` (Llama-2-13B per tensor on 3
  devices, 1,024 cached tokens) and ``layer-70b`` (Llama-2-70B per layer on 8 devices), through
  placement ``exact``; goal: proven optimal in < 60 s each. The old path is the marginal
  MILP alone (``cuts=none``, ``incumbent=none``); the note also gives the connectivity cuts
  without the chain-dp incumbent (``incumbent=none``).

Simulation and admission rows belong to ``bench simulation`` and ``bench admission``.
Figures are single runs (the MILP rows take seconds to minutes each); ratios are old / new.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.table import Table

from ..cli.common import console
from ..schemas import AssignmentInstance, Solution
from ..solve import solve
from .placement import fmt, write_csv

KIND = "scale"
DESCRIPTION = (
    "scale targets: assignment 1,000 and 3,000 tasks (tightened vs plain MILP), the "
    "Lagrangian bound at 10,000 x 50, and the start-up of validate and solve"
)
ROWS = ("assignment-40", "assignment-20", "assignment-3000", "lagrangian-10k", "startup")
OPTIONAL_ROWS = ("placement",)
PLAIN = {"scaled_budgets": False, "storage_cover": False, "model_load": False, "symmetry": False}
TWO_STAGES = {"stages": 2, "packing": "off"}
ONE_MILP = {"packing": "off"}
GOALS = {
    "assignment-40": ("< 10 s", 10.0),
    "assignment-20": ("proven < 30 s", 30.0),
    "assignment-3000": ("proven < 300 s", 300.0),
    "lagrangian-10k": ("solution + gap < 300 s", 300.0),
    "validate": ("< 0.5 s", 0.5),
    "solve all-local": ("< 0.5 s", 0.5),
    "placement-13b-tensor": ("proven < 60 s", 60.0),
    "placement-70b-layer": ("proven < 60 s", 60.0),
}
PLACEMENT_ROWS = {"placement-13b-tensor": "tensor-13b", "placement-70b-layer": "layer-70b"}
PLAIN_PLACEMENT = {"cuts": "none", "incumbent": "none"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rows",
        nargs="+",
        choices=ROWS + OPTIONAL_ROWS,
        default=list(ROWS),
        help=f"rows to run (default: {' '.join(ROWS)})",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--time-limit", type=float, default=300.0, metavar="S", help="per solve (default 300)"
    )
    parser.add_argument(
        "--old-3000",
        action="store_true",
        help="also run the old path (packing=off: the one MILP) at 3,000 tasks",
    )
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="assignment-40/-20: also solve with each tightening switched off alone",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="start-up runs per command (default 5)"
    )
    parser.add_argument("--csv", metavar="PATH", help="write the rows as CSV")


def with_horizon(instance: AssignmentInstance, horizon_s: float) -> AssignmentInstance:
    """The instance with Omega_j = FLOP/s x horizon on every server."""
    from ..io import parse_instance

    document = instance.model_dump(mode="json")
    for server in document["servers"]:
        server["compute_budget_flop"] = server["flops"] * horizon_s
    document["name"] = f"{instance.name}-h{horizon_s:g}"
    return parse_instance(document, "bench scale")


def scale_instance(row: str, seed: int) -> AssignmentInstance:
    from ..generators.assignment import generate_assignment

    if row == "assignment-3000":
        return generate_assignment(preset="scale", seed=seed, tasks=3000)
    if row == "lagrangian-10k":
        return generate_assignment(preset="scale", seed=seed, tasks=10_000, edges=50)
    instance = generate_assignment(preset="scale", seed=seed)
    return with_horizon(instance, 20.0) if row == "assignment-20" else instance


def outcome(solution: Solution) -> str:
    """Status, S and the proven bound (and the gap where there is one)."""
    text = f"{solution.status.value} S={fmt(solution.metrics.get('throughput'))}"
    if solution.bound is not None and solution.objective is not None:
        gap = (solution.bound - solution.objective) / max(1.0, abs(solution.bound))
        text += f" bound={solution.bound:.6g} gap={gap:.3%}"
    if (transmission := solution.metrics.get("transmission_s")) is not None:
        text += f" T={transmission:.6g}"
    return text


def record(row: str, workload: str, old: float | None, new: float | None, note: str) -> dict:
    goal, limit = GOALS[row]
    met = None if new is None else ("yes" if new < limit else "no")
    ratio = None if old is None or not new else old / new
    return {
        "row": row,
        "workload": workload,
        "old_s": old,
        "new_s": new,
        "ratio": ratio,
        "goal": goal,
        "met": met,
        "note": note,
    }


def assignment_row(row: str, args: argparse.Namespace) -> dict:
    instance = scale_instance(row, args.seed)
    size = f"{len(instance.tasks)} x {len(instance.servers)}, {instance.name}"
    if row == "lagrangian-10k":
        new = solve(instance, "lagrangian", time_limit=args.time_limit)
        return record(row, size, None, new.wall_s, f"lagrangian: {outcome(new)}")
    new = solve(instance, "exact", time_limit=args.time_limit)
    proven = new.status.value == "optimal"
    note = f"new: {outcome(new)}"
    if not proven:
        note += f" ({new.message})"
    old_s = None
    if row != "assignment-3000" or args.old_3000:
        old = solve(instance, "exact", time_limit=args.time_limit, **ONE_MILP)
        old_s = old.wall_s
        note += f"; old (packing=off): {outcome(old)}"
    if args.ablate and row != "assignment-3000":
        plain = solve(instance, "exact", time_limit=args.time_limit, **TWO_STAGES, **PLAIN)
        note += f"; plain two stages: {plain.wall_s:.3g} s {plain.status.value}"
        for switch in PLAIN:
            without = solve(instance, "exact", time_limit=args.time_limit, **{switch: False})
            note += f"; without {switch}: {without.wall_s:.3g} s {without.status.value}"
    result = record(row, size, old_s, new.wall_s, note)
    if row != "assignment-40" and not proven:
        result["met"] = "no"
    return result


def child_seconds(command: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command`` as a fresh process."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


OLD_STARTUP = (
    "import sys; from opt_offload.cli import build_parser; "
    "from opt_offload.registry import solvers_for; solvers_for(); "
    "args = build_parser().parse_args(sys.argv[1:]); sys.exit(args.run(args))"
)


def startup_rows(args: argparse.Namespace) -> list[dict]:
    instances = Path(__file__).resolve().parents[2] / "instances"
    commands = {
        "validate": ["validate", str(instances / "assignment" / "testbed-s0.json")],
        "solve all-local": [
            "solve",
            str(instances / "admission" / "hand-three.json"),
            "--solver",
            "all-local",
        ],
    }
    rows = []
    for name, argv in commands.items():
        new = [
            child_seconds([sys.executable, "-m", "opt_offload", *argv]) for _ in range(args.repeat)
        ]
        old = [
            child_seconds([sys.executable, "-c", OLD_STARTUP, *argv]) for _ in range(args.repeat)
        ]
        new_wall, new_cpu = (statistics.median(v) for v in zip(*new))
        old_wall, old_cpu = (statistics.median(v) for v in zip(*old))
        note = f"CPU s: old {old_cpu:.3f}, new {new_cpu:.3f} (ratio {old_cpu / new_cpu:.2f})"
        rows.append(
            record(name, f"opt-offload {' '.join(argv[:1] + argv[2:])}", old_wall, new_wall, note)
        )
    return rows


def placement_outcome(solution: Solution) -> str:
    """Status, objective and proven bound (seconds)."""
    text = f"{solution.status.value} obj={fmt(solution.objective)} bound={fmt(solution.bound)}"
    return text + f" ({solution.wall_s:.3g} s)"


def placement_rows(args: argparse.Namespace) -> list[dict]:
    from .placement import CASES, instance_for

    rows = []
    for row, case in PLACEMENT_ROWS.items():
        instance = instance_for(CASES[case])
        new = solve(instance, "exact", time_limit=args.time_limit)
        cuts_only = solve(instance, "exact", time_limit=args.time_limit, incumbent="none")
        old = solve(instance, "exact", time_limit=args.time_limit, **PLAIN_PLACEMENT)
        note = (
            f"new: {placement_outcome(new)}; cuts, no incumbent: {placement_outcome(cuts_only)}"
            f"; old (cuts=none incumbent=none): {placement_outcome(old)}"
        )
        result = record(row, instance.name, old.wall_s, new.wall_s, note)
        if new.status.value != "optimal":
            result["met"] = "no"
        rows.append(result)
    return rows


def scale_table(records: list[dict]) -> Table:
    columns = ("row", "workload", "old_s", "new_s", "ratio", "goal", "met", "note")
    out = Table(title="bench scale (seconds; old = the code path replaced, same run)")
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in records:
        out.add_row(*(fmt(row[c]) for c in columns))
    return out


def run(args: argparse.Namespace) -> int:
    import highspy  # noqa: F401  (import first, so that no row's time is an import's)
    import pyomo.environ  # noqa: F401

    records = []
    for row in args.rows:
        done = len(records)
        if row == "startup":
            records += startup_rows(args)
        elif row == "placement":
            records += placement_rows(args)
        else:
            records.append(assignment_row(row, args))
        console.print(scale_table(records[done:]))
    console.print(scale_table(records))
    console.print(
        "simulation and admission rows: opt-offload bench simulation, opt-offload bench "
        "admission --sizes"
    )
    if args.csv:
        write_csv(args.csv, records)
    return 0
