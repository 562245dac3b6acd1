"""Pictures of assignments (design §5): tasks per server coloured by model, and the Pareto
front of (throughput, total transmission latency)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..io import save_figure
from ..schemas import AssignmentInstance, Solution


def tasks_per_server(instance: AssignmentInstance, decisions: dict) -> np.ndarray:
    """[model, server]: how many tasks of each model each server runs; rejected tasks form
    an extra last column."""
    servers = [s.id for s in instance.servers]
    models = [m.id for m in instance.models]
    counts = Counter((t.model, decisions["tasks"].get(t.id)) for t in instance.tasks)
    columns = [*servers, None]
    return np.array([[counts[(m, s)] for s in columns] for m in models], dtype=float)


def plot_solution(
    instance: AssignmentInstance, solution: Solution, path: str | os.PathLike
) -> None:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if not solution.has_decisions:
        raise InputError(f"--plot: {solution.solver} found no assignment to draw")
    counts = tasks_per_server(instance, solution.decisions)
    labels = [s.id for s in instance.servers] + ["rejected"]
    figure = Figure(figsize=(min(3 + 0.6 * len(labels), 16), 3.5), layout="constrained")
    axis = figure.subplots()
    bottom = np.zeros(len(labels))
    for model, row in zip(instance.models, counts):
        axis.bar(labels, row, bottom=bottom, label=model.id)
        bottom += row
    axis.set_ylabel("tasks")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(title="model")
    metrics = solution.metrics
    axis.set_title(
        f"{instance.name}: {solution.solver} ({solution.status.value}), "
        f"S = {metrics.get('throughput', '-')}, T = {metrics.get('transmission_s', 0):.4g} s"
    )
    save_figure(figure, path, dpi=120)


def plot_front(
    instance: AssignmentInstance,
    points: Sequence,
    path: str | os.PathLike,
) -> None:
    """The front as a step line, highest throughput first; non-optimal points hollow."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    found = [p for p in points if p.throughput is not None]
    if not found:
        raise InputError("--plot: the sweep found no point to draw")
    figure = Figure(figsize=(5.5, 4), layout="constrained")
    axis = figure.subplots()
    ordered = sorted(found, key=lambda p: p.throughput)
    s = [p.throughput for p in ordered]
    t = [p.transmission_s for p in ordered]
    axis.step(s, t, where="post", color="tab:blue", alpha=0.4)
    optimal = [p.status.value == "optimal" for p in ordered]
    axis.scatter(
        s, t, facecolors=["tab:blue" if o else "none" for o in optimal], edgecolors="tab:blue"
    )
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("throughput S (tasks served)")
    axis.set_ylabel("total transmission latency T (s)")
    axis.set_title(f"{instance.name}: Pareto front (hollow: not proven optimal)")
    save_figure(figure, path, dpi=120)
