"""Human-readable reports: the decisions and objective of a solution as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .evaluate import evaluate
from .schemas import AdmissionInstance, AssignmentInstance, Instance, PlacementInstance, Solution
from .terminal import plain

MAX_ROWS = 40  # longer decision lists are cut; --json prints them all


def instance_summary(instance: Instance) -> str:
    if isinstance(instance, AdmissionInstance):
        size = f"{len(instance.candidates)} candidates, M = {instance.server.capacity}"
    elif isinstance(instance, AssignmentInstance):
        size = (
            f"{len(instance.tasks)} tasks, {len(instance.servers)} servers, "
            f"variant {instance.variant}"
        )
    else:
        size = f"{len(instance.graph.nodes)} tensors, {len(instance.devices)} devices"
    return f"{instance.kind} instance {instance.name!r} ({size})"


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{1e3 * seconds:.3f}"


def admission_rows(instance: AdmissionInstance, details: dict) -> tuple[list[str], list[list[str]]]:
    header = ["candidate", "action", "bandwidth MHz", "upload ms", "queue ms", "value"]
    rows = []
    for c in instance.candidates:
        d = details[c.id]
        rows.append(
            [
                c.id,
                d["action"],
                f"{d['bandwidth_hz'] / 1e6:.4f}",
                _ms(d["upload_s"]),
                _ms(d["queue_s"]),
                f"{d['value']:.6g}",
            ]
        )
    return header, rows


def assignment_rows(
    instance: AssignmentInstance, details: dict
) -> tuple[list[str], list[list[str]]]:
    header = ["task", "model", "server", "transmission ms", "computation ms"]
    rows = []
    for t in instance.tasks:
        d = details.get(t.id, {})
        rows.append(
            [
                t.id,
                t.model,
                d.get("server") or "rejected",
                _ms(d.get("transmission_s")),
                _ms(d.get("computation_s")),
            ]
        )
    return header, rows


def placement_rows(instance: PlacementInstance, details: dict) -> tuple[list[str], list[list[str]]]:
    header = ["tensor", "bytes", "device"]
    rows = [[n.id, f"{n.bytes:.4g}", details[n.id]["device"]] for n in instance.graph.nodes]
    return header, rows


ROWS = {"admission": admission_rows, "assignment": assignment_rows, "placement": placement_rows}


def decisions_table(instance: Instance, solution: Solution) -> Table | None:
    evaluation = evaluate(instance, solution.decisions)
    if not evaluation.details:
        return None
    header, rows = ROWS[instance.kind](instance, evaluation.details)
    table = Table(title="decisions")
    for column in header:
        table.add_column(column, justify="left" if column in header[:2] else "right")
    for row in rows[:MAX_ROWS]:
        table.add_row(*row)
    if len(rows) > MAX_ROWS:
        table.caption = f"{len(rows) - MAX_ROWS} more rows; --json prints them all"
    return table


def summary_table(solution: Solution) -> Table:
    table = Table(title="solution", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    sense = "maximise" if solution.sense == "max" else "minimise"
    table.add_row("instance", solution.instance)
    table.add_row("solver", solution.solver + (f" {solution.options}" if solution.options else ""))
    table.add_row("status", solution.status.value)
    table.add_row(
        "objective", "-" if solution.objective is None else f"{solution.objective:.9g} ({sense})"
    )
    if solution.bound is not None:
        table.add_row("bound", f"{solution.bound:.9g}")
    if solution.gap is not None:
        table.add_row("gap", f"{solution.gap:.3g}")
    if not solution.has_decisions:
        table.add_row("decisions", "none")
    table.add_row("wall time", f"{1e3 * solution.wall_s:.3f} ms")
    for name, value in solution.metrics.items():
        table.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
    if solution.message:
        table.add_row("message", solution.message)
    return table


def print_solution(console: Console, instance: Instance, solution: Solution) -> None:
    if solution.has_decisions:
        table = decisions_table(instance, solution)
        if table is not None:
            console.print(table)
        placement = solution.decisions["placement"] if instance.kind == "assignment" else None
        if placement:
            console.print(
                "placement: " + "; ".join(f"{j}: {', '.join(m)}" for j, m in placement.items())
            )
    console.print(summary_table(solution))
    for violation in solution.violations:
        console.print(Text.assemble(("violated", "red"), " ", plain(violation)))


def front_table(points) -> Table:
    """An assignment Pareto front (solvers/assignment/pareto.py), one row per point."""
    table = Table(title="Pareto front: throughput vs total transmission latency")
    for column in ("throughput", "transmission ms", "status", "T bound ms", "time ms"):
        table.add_column(column, justify="right")
    for p in points:
        table.add_row(
            "-" if p.throughput is None else str(p.throughput),
            _ms(p.transmission_s) or "-",
            p.status.value,
            _ms(p.bound) or "-",
            f"{1e3 * p.wall_s:.1f}",
        )
    return table


def print_front(console: Console, instance: AssignmentInstance, points) -> None:
    console.print(instance_summary(instance))
    console.print(front_table(points))


def records_table(title: str, records: list[dict], labels: tuple[str, ...], digits: int) -> Table:
    """Rows of equal keys as a table: label columns left-aligned and kept whole, numbers to
    ``digits`` significant digits, right-aligned."""
    table = Table(title=title)
    for column in records[0]:
        label = column in labels
        table.add_column(column, justify="left" if label else "right", no_wrap=label)
    for record in records:
        table.add_row(
            *(f"{v:.{digits}g}" if isinstance(v, float) else str(v) for v in record.values())
        )
    return table
