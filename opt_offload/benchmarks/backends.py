"""``opt-offload bench backends``: every available backend on the same exact problems, in one
run: its time to a proven optimum, or its status and gap at the time limit, with HiGHS's time on
the same instance as the ratio's base.

Cases (``--problems``):

- ``assignment-scale``: the generated ``scale`` preset (20 edges + cloud, 3 models, free
  placement) at ``--scale-tasks`` tasks (1,000 and 3,000), solved lexicographically by
  ``exact``;
- ``orlib-d``: the OR-Library type D GAP problems (data/orlib-gap/gapd.txt, ``strict``
  assignment instances, min cost), with the published bounds beside;
- ``placement``: the shipped Llama-2 placement instances, ``exact``;
- ``admission``: shipped PRADA Table 3 slots and a generated ``--admission-candidates`` slot:
  ``exact-pyomo`` (the outer-approximation rounds) on every Pyomo MILP backend that takes
  continuous variables, ``exact-scip`` on ``scip`` (the MISOCP in PySCIPOpt) and
  ``exact-cvxpy`` on ``cvxpy-scip`` (the same through CVXPY). CP-SAT cannot take the cut
  rounds' continuous columns and is listed as refused.

The MILPs (assignment, OR-Library, placement) go to ``exact`` on every Pyomo MILP backend.
A backend that is not installed is left out; one that refuses an instance (CP-SAT on data with
no exact integer scale, a size-limited licence) is listed with its reason.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ..errors import InputError
from ..models.formulation import ProblemClass

KIND = "backends"
DESCRIPTION = (
    "each available backend's time to proven optimum (or gap at the limit) per problem and "
    "size, HiGHS the ratio's base"
)
PROBLEMS = ("assignment-scale", "orlib-d", "placement", "admission")
PLACEMENT_FILES = (
    "llama2-13b-fp16-paper-testbed-1.json",
    "llama2-13b-draft-paper-testbed.json",
    "llama2-7b-tensor-paper-testbed-2.json",
)
ADMISSION_FILES = ("table3-competitive.json", "table3-binding.json")
# the ratio's base: HiGHS through Pyomo
BASE = "pyomo-highs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-limit", type=float, default=10.0, metavar="S", help="seconds per solve (10)"
    )
    parser.add_argument(
        "--problems",
        default=",".join(PROBLEMS),
        help=f"comma-separated, of {', '.join(PROBLEMS)} (all)",
    )
    parser.add_argument(
        "--backends",
        default="",
        help="comma-separated backend names (every installed one; `solvers --backends`)",
    )
    parser.add_argument(
        "--scale-tasks", default="1000,3000", help="task counts of assignment-scale (1000,3000)"
    )
    parser.add_argument(
        "--orlib-d", default="1-6", metavar="RANGE", help="type D problems by index (1-6)"
    )
    parser.add_argument(
        "--admission-candidates",
        type=int,
        default=60,
        help="candidates of the generated admission slot (60; 0 for none)",
    )
    parser.add_argument("--instances", default="instances", help="the shipped instances' folder")
    parser.add_argument("--csv", metavar="PATH", help="write one row per instance and backend")


def csv_list(text: str, what: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise InputError(f"{what}: expected a comma-separated list, got {text!r}")
    return items


def index_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise InputError(f"--orlib-d: expected a range such as 1-6, got {text!r}") from None
    if not 1 <= low <= high <= 6:
        raise InputError(f"--orlib-d: type D has problems 1..6, got {text!r}")
    return list(range(low, high + 1))


def backends_to_run(text: str) -> list[str]:
    from ..solvers.backends import backend_classes

    known = backend_classes()
    names = csv_list(text, "--backends") if text else sorted(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"--backends: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    return [n for n in names if known[n].available()]


def scale_cases(args) -> list[tuple]:
    from ..generators.assignment import generate_assignment

    cases = []
    for text in csv_list(args.scale_tasks, "--scale-tasks"):
        try:
            tasks = int(text)
        except ValueError:
            raise InputError(f"--scale-tasks: expected integers, got {text!r}") from None
        if tasks < 1:
            raise InputError(f"--scale-tasks: must be positive, got {tasks}")
        instance = generate_assignment(preset="scale", seed=0, tasks=tasks)
        cases.append(("assignment-scale", f"{tasks} tasks", instance, None))
    return cases


def orlib_cases(args) -> list[tuple]:
    from ..importers.orlib_gap import DATA_DIR, published_value, read_gap_problem

    cases = []
    for index in index_range(args.orlib_d):
        problem = read_gap_problem(DATA_DIR / "gapd.txt", index)
        known = published_value("gapd.txt", index)
        label = f"gapd-{index} ({problem.agents}x{problem.jobs})"
        cases.append(("orlib-d", label, problem.to_instance(), known))
    return cases


def shipped_cases(args, kind: str, files: tuple[str, ...]) -> list[tuple]:
    from ..io import load_instance

    folder = Path(args.instances) / kind
    return [
        (kind, name.removesuffix(".json"), load_instance(folder / name), None) for name in files
    ]


def admission_cases(args) -> list[tuple]:
    from ..generators.admission import SlotSettings, generate_slot

    cases = shipped_cases(args, "admission", ADMISSION_FILES)
    if args.admission_candidates > 0:
        instance = generate_slot(SlotSettings(candidates=args.admission_candidates), seed=0)
        cases.append(("admission", instance.name, instance, None))
    return cases


def study_cases(args) -> list[tuple]:
    chosen = csv_list(args.problems, "--problems")
    unknown = [p for p in chosen if p not in PROBLEMS]
    if unknown:
        raise InputError(f"--problems: unknown {', '.join(unknown)} (known: {', '.join(PROBLEMS)})")
    builders = {
        "assignment-scale": scale_cases,
        "orlib-d": orlib_cases,
        "placement": lambda a: shipped_cases(a, "placement", PLACEMENT_FILES),
        "admission": admission_cases,
    }
    return [case for problem in chosen for case in builders[problem](args)]


def runs_for(kind: str, backend: str) -> list[str]:
    """The solvers that hand this kind's formulation to this backend."""
    from ..solvers.backends import backend_classes

    cls = backend_classes()[backend]
    if kind != "admission":
        return ["exact"] if cls.layer == "pyomo" else []
    return {"pyomo": ["exact-pyomo"], "pyscipopt": ["exact-scip"]}.get(cls.layer) or (
        ["exact-cvxpy"] if ProblemClass.MISOCP in cls.classes else []
    )


def gap_of(solution) -> float | None:
    if solution.objective is None or solution.bound is None:
        return None
    return abs(solution.bound - solution.objective) / max(abs(solution.objective), 1e-9)


def measure(instance, solver: str, backend: str, time_limit: float) -> dict:
    from ..solve import solve

    try:
        solution = solve(instance, solver, time_limit=time_limit, backend=backend)
    except InputError as exc:  # the backend cannot take this solver's formulation
        return {
            "status": "refused",
            "time_s": None,
            "objective": None,
            "bound": None,
            "gap": None,
            "note": "; ".join(exc.problems),
        }
    note = solution.message or ""
    return {
        "status": solution.status.value,
        "time_s": solution.wall_s,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": gap_of(solution),
        "note": note if solution.status.value in ("error", "time-limit") else "",
    }


def study(args) -> list[dict]:
    if not args.time_limit > 0:
        raise InputError(f"--time-limit: must be positive, got {args.time_limit}")
    backends = backends_to_run(args.backends)
    records = []
    for kind, label, instance, known in study_cases(args):
        rows = []
        for backend in backends:
            for solver in runs_for(kind, backend):
                row = {"problem": kind, "instance": label, "backend": backend, "solver": solver}
                row.update(measure(instance, solver, backend, args.time_limit))
                if row["status"] == "refused":
                    row["solver"] = "-"
                row["published"] = None if known is None else f"[{known.lower:g}, {known.upper:g}]"
                rows.append(row)
        base = next(
            (r["time_s"] for r in rows if r["backend"] == BASE and r["status"] == "optimal"),
            None,
        )
        for row in rows:
            proven = row["status"] == "optimal" and base
            row["vs_highs"] = row["time_s"] / base if proven else None
        records += rows
    return records


TABLE_COLUMNS = (
    "instance",
    "backend",
    "solver",
    "status",
    "time_s",
    "objective",
    "gap",
    "vs_highs",
    "published",
)


def printable(record: dict) -> dict:
    shown = {k: ("-" if record[k] is None else record[k]) for k in TABLE_COLUMNS}
    if record["published"] is None:
        del shown["published"]
    return shown


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ..cli.common import EXIT_OK, console
    from ..report import records_table

    records = study(args)
    # nine columns, never squeezed (as the assignment benchmark's wide tables)
    wide = Console(highlight=False, width=max(console.width, 150))
    if args.csv:
        with open(args.csv, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    for problem in dict.fromkeys(r["problem"] for r in records):
        rows = [r for r in records if r["problem"] == problem]
        title = f"{problem}: time to proven optimum, limit {args.time_limit:g} s, {BASE} = 1"
        labels = ("instance", "backend", "solver", "status", "published")
        table = records_table(title, [printable(r) for r in rows], labels, 4)
        wide.print(table)
        # a refusal is the backend's, not the instance's: said once
        notes = [
            f"{r['backend']}: {r['note']}"
            if r["status"] == "refused"
            else f"{r['instance']} {r['backend']}: {r['note']}"
            for r in rows
            if r["note"]
        ]
        for note in dict.fromkeys(notes):
            console.print(f"  {note}", soft_wrap=True)
    return EXIT_OK
