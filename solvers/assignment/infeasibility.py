"""Why a strict assignment instance is infeasible (design §5), in words.

First, presolve-style from the data: tasks that no server can take at all (QoS (1e), model
(1b)/(1c), or a workload beyond every budget (1d)). Otherwise the capacity constraints that
conflict, found on the Pyomo model written as MPS and read into highspy:

1. HiGHS's IIS (``getIis`` with ``iis_strategy`` "true IIS" + "relaxation IIS for MIP"). In
   HiGHS 1.16 this is an IIS of the LP relaxation, so it explains only instances whose
   relaxation is already infeasible;
2. when the relaxation is feasible (the instance is infeasible only in integers, as a tight
   generalised assignment problem is), a deletion filter over the capacity rows (1b), (1d):
   relax one row at a time and keep it relaxed while the MILP stays infeasible. What is left
   is a minimal set of capacity constraints that cannot hold together with (1a).
"""

from __future__ import annotations

import os
import re
import tempfile
import time

from opt_offload.schemas import AssignmentInstance

# Pyomo's symbolic MPS row names: c_<sense>_<constraint>(<index>)_
ROW_NAME = re.compile(r"c_[elur]_(\w+?)\((\d+)\)_")
CAPACITY_ROWS = ("budget", "storage")
IIS_TRUE_OF_RELAXATION = 4 + 16  # HiGHS iis_strategy bits: find true IIS; relaxation for MIP
MIN_TIME_S = 1e-3


def describe_row(instance: AssignmentInstance, name: str) -> str | None:
    """A row name of the MPS file in instance terms, or None for rows we do not name."""
    match = ROW_NAME.fullmatch(name)
    if match is None:
        return None
    family, index = match.group(1), int(match.group(2))
    if family == "budget":
        server = instance.servers[index]
        return f"compute (1d) of {server.id} (budget {server.compute_budget_flop:g} FLOP)"
    if family == "storage":
        server = instance.servers[index]
        return f"storage (1b) of {server.id} ({server.storage_gb:g} GB)"
    if family == "assign":
        return f"assignment (1a) of {instance.tasks[index].id}"
    return None


def load_highs(instance: AssignmentInstance, time_limit: float | None):
    """The min-T model of the instance as a highspy.Highs object (via an MPS file); each
    run stops at ``time_limit``."""
    import highspy

    from opt_offload.models.assignment import build_pyomo

    from ..backends.cvxpy_highs import silence_highs_banner

    model = build_pyomo(instance, objective="transmission")
    silence_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.mps")
        model.write(path, io_options={"symbolic_solver_labels": True})
        highs.readModel(path)
    return highs


def is_infeasible(highs, deadline: float | None = None) -> bool:
    """Run HiGHS (within what is left before ``deadline``) and read a proof of infeasibility."""
    import highspy

    if deadline is not None:
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), MIN_TIME_S))
    highs.run()
    return highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible


def relaxation_iis(highs) -> list[int]:
    """Rows of HiGHS's IIS of the LP relaxation; empty when the relaxation is feasible."""
    highs.setOptionValue("iis_strategy", IIS_TRUE_OF_RELAXATION)
    status, iis = highs.getIis()
    return sorted(int(r) for r in iis.row_index_) if iis.valid_ else []


def is_capacity(name: str) -> bool:
    match = ROW_NAME.fullmatch(name)
    return match is not None and match.group(1) in CAPACITY_ROWS


def deletion_filter(highs, rows: list[int], deadline: float | None) -> tuple[list[int], bool]:
    """A subset of ``rows`` that keeps the MILP infeasible (the others relaxed), and whether
    it is minimal. A run that stops at the time limit keeps its row, and once ``deadline``
    has passed every row not yet tried is kept: the set stays infeasible, if not minimal."""
    import highspy

    lp = highs.getLp()
    kept = []
    for position, row in enumerate(rows):
        if deadline is not None and time.perf_counter() >= deadline:
            return kept + rows[position:], False
        lower, upper = lp.row_lower_[row], lp.row_upper_[row]
        highs.changeRowBounds(row, -highspy.kHighsInf, highspy.kHighsInf)
        if not is_infeasible(highs, deadline):
            highs.changeRowBounds(row, lower, upper)
            kept.append(row)
    return kept, True


def conflicting_rows(
    instance: AssignmentInstance, time_limit: float | None
) -> tuple[str, list[str]]:
    """(how they were found, the conflicting constraints in instance terms), all within
    ``time_limit`` seconds."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    highs = load_highs(instance, time_limit)
    names = highs.getLp().row_names_
    if not is_infeasible(highs, deadline):
        return "HiGHS did not prove the re-read model infeasible", []
    method, rows = "HiGHS IIS of the LP relaxation", relaxation_iis(highs)
    if not rows:
        capacity = [r for r, n in enumerate(names) if is_capacity(n)]
        rows, minimal = deletion_filter(highs, capacity, deadline)
        method = "deletion filter over (1b), (1d)"
        if not minimal:
            method += "; time limit, so perhaps not minimal"
    described = (describe_row(instance, names[r]) for r in rows)
    return method, [d for d in described if d is not None]


def unservable_message(tasks: list[str]) -> str:
    return (
        f"infeasible: {', '.join(tasks)} "
        f"{'has' if len(tasks) == 1 else 'have'} no server that meets QoS (1e), can hold the "
        "model (1b)/(1c) and fits the workload in its budget (1d)"
    )


def explain(instance: AssignmentInstance, time_limit: float | None = None) -> str:
    """One line on why the strict instance has no solution, found within ``time_limit``."""
    from opt_offload.models.assignment import unservable_tasks

    if missing := unservable_tasks(instance):
        return unservable_message(missing)
    method, rows = conflicting_rows(instance, time_limit)
    if not rows:
        return f"infeasible; no conflicting constraint isolated ({method})"
    return f"infeasible: these constraints conflict ({method}): " + "; ".join(rows)
