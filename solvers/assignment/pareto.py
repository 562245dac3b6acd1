"""The Pareto front of (throughput S, total transmission latency T) by the epsilon-constraint
method (design §5): for each throughput level s, min T subject to S >= s.

The sweep starts at S_max (one max-S solve) and walks down one level at a time. The point at
level s may serve more than s tasks (extra tasks with zero latency cost nothing); it then
dominates the points of the levels it covers and the filter below drops those. Once T reaches
0 no lower level can be better, so the sweep stops there. A strict instance
serves every task, so its front is the single point at S = number of tasks. Each point is
judged by the shared evaluator, and points dominated by another (S' >= S and T' <= T) are
removed; with time limits a point may be an incumbent, and its status says so.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from opt_offload.evaluate import evaluate
from opt_offload.schemas import AssignmentInstance, Status

from ..backends.base import MIN_TIME_S
from .exact import MIP_GAP, max_throughput, min_transmission, remaining


@dataclass(frozen=True)
class ParetoPoint:
    level: int  # the epsilon constraint S >= level
    throughput: int | None
    transmission_s: float | None
    status: Status
    wall_s: float
    bound: float | None = None  # proven lower bound on T at this level
    decisions: dict[str, Any] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


def judged_point(instance: AssignmentInstance, level: int, result, wall_s: float) -> ParetoPoint:
    """The stage result as a front point, with S and T from the evaluator (design §2)."""
    if result.decisions is None:
        return ParetoPoint(level, None, None, result.status, wall_s, result.bound)
    evaluation = evaluate(instance, result.decisions)
    status = result.status if evaluation.feasible else Status.ERROR
    return ParetoPoint(
        level,
        evaluation.metrics["throughput"],
        evaluation.metrics["transmission_s"],
        status,
        wall_s,
        result.bound,
        dict(result.decisions),
    )


def non_dominated(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """Points with a solution that no other point beats in S and T (ties: the first kept)."""
    found = [p for p in points if p.throughput is not None]
    front: list[ParetoPoint] = []
    for p in sorted(found, key=lambda p: (-p.throughput, p.transmission_s)):
        if not front or p.transmission_s < front[-1].transmission_s - 1e-12:
            front.append(p)
    return front


def pareto_front(
    instance: AssignmentInstance,
    *,
    backend: str = "pyomo-highs",
    time_limit: float | None = None,
    mip_gap: float = MIP_GAP,
) -> list[ParetoPoint]:
    """The front, highest throughput first, within ``time_limit`` for the whole sweep (each
    MILP gets what is left; levels not reached in time are left out). Levels where nothing
    was found are kept (with their status) so that a caller sees them; an infeasible
    instance gives one infeasible point."""
    sweep_start = start = time.perf_counter()
    top = max_throughput(instance, backend=backend, time_limit=time_limit, mip_gap=mip_gap)
    if top.decisions is None:
        return [ParetoPoint(0, None, None, top.status, time.perf_counter() - start, top.bound)]
    level = sum(s is not None for s in top.decisions["tasks"].values())
    lowest = len(instance.tasks) if instance.variant == "strict" else 0
    points, missing = [], []
    while level >= lowest:
        left = remaining(time_limit, sweep_start)
        if left is not None and left <= MIN_TIME_S:
            break
        start = time.perf_counter()
        result = min_transmission(
            instance, min_throughput=level, backend=backend, time_limit=left, mip_gap=mip_gap
        )
        point = judged_point(instance, level, result, time.perf_counter() - start)
        if point.throughput is None:
            missing.append(point)
        else:
            points.append(point)
            if point.transmission_s <= 0:
                break
        level -= 1
    return non_dominated(points) + missing
