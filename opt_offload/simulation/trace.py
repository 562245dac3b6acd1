"""A run's trace: every Stage 2 decision and every task's delays, for comparing engines.

A :class:`Trace` handed to :class:`~opt_offload.simulation.engine.Simulation` records, per
candidate a slot hands Stage 2, the slot, the task (numbered in arrival order), the step's
position in the task, the action taken and the TQ_i the slot's problem was given; and, per
task, the slot it completes in, its delays (processing, communication, queuing, seconds) and
its surrogate accuracy. Two engines that agree on a trace agree on every
decision and every task's delays, not only on the means a run reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LOCAL, IMMEDIATE, QUEUED = 0, 1, 2  # the action codes of the decisions
DECISION_FIELDS = {"slot": "i4", "task": "i4", "step": "i2", "action": "i1", "queue_delay_ms": "f8"}
TASK_FIELDS = {
    "task": "i4",
    "done_slot": "i4",
    "processing_s": "f8",
    "communication_s": "f8",
    "queuing_s": "f8",
    "accuracy": "f8",
}


class Trace:
    """Filled by the engine as the run goes: a task's delays are summed here, per task, in
    the order its steps accrue them (as a task would sum its own)."""

    def __init__(self) -> None:
        self.decisions: list[tuple] = []
        self.tasks: dict[int, list] = {}  # [done slot, TS sum, TL - TS, TC, TQ, s_i, gains]

    def arrived(self, task: int, local_s: float, slm_success: float) -> None:
        self.tasks[task] = [None, local_s, 0.0, 0.0, 0.0, slm_success, 0.0]

    def decided(self, slot: int, task: int, step: int, action: int, queue_delay_ms: float) -> None:
        self.decisions.append((slot, task, step, action, queue_delay_ms))

    def offloaded(self, task: int, extra_s: float, communication_s: float, gain: float) -> None:
        """An offloaded step's TL - TS, its TC and its surrogate gain."""
        record = self.tasks[task]
        record[2] += extra_s
        record[3] += communication_s
        record[6] += gain

    def waited(self, task: int, queuing_s: float) -> None:
        self.tasks[task][4] += queuing_s

    def completed(self, task: int, done_slot: int) -> None:
        self.tasks[task][0] = done_slot

    def arrays(self) -> dict[str, np.ndarray]:
        """Decisions in the order made; tasks by number."""
        decisions = np.array(self.decisions, dtype=list(DECISION_FIELDS.items()))
        rows = [
            (task, done, local + extra, communication, queuing, success + gained)
            for task, (done, local, extra, communication, queuing, success, gained) in sorted(
                self.tasks.items()
            )
        ]
        tasks = np.array(rows, dtype=list(TASK_FIELDS.items()))
        columns = {f"decision_{name}": decisions[name] for name in DECISION_FIELDS}
        columns |= {f"task_{name}": tasks[name] for name in TASK_FIELDS}
        return columns


def save_traces(
    path: Path, traces: dict[str, dict[str, np.ndarray]], figures: dict[str, dict[str, float]]
) -> None:
    """Several runs' traces (:meth:`Trace.arrays`, or a run of :func:`load_traces`) and
    figures (the columns ``figure_names`` and ``figures``), keyed by a run's name, in one
    compressed ``.npz``."""
    columns = {
        f"{name}/{column}": values
        for name, trace in traces.items()
        for column, values in trace.items()
    }
    for name, run in figures.items():
        columns[f"{name}/figure_names"] = np.array(list(run))
        columns[f"{name}/figures"] = np.array(list(run.values()), dtype=float)
    np.savez_compressed(path, **columns)


def load_traces(path: Path) -> dict[str, dict[str, np.ndarray]]:
    loaded: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as archive:
        for key in archive.files:
            name, column = key.split("/", 1)
            loaded.setdefault(name, {})[column] = archive[key]
    return loaded
