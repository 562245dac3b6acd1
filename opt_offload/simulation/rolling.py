"""Rolling-horizon MILP for the dynamic assignment: every W seconds, the exact lexicographic
MILP of problem B (design §5: max S, then min T) over the requests waiting then, against the
servers' remaining budgets and their work in flight.

The window instance at decision time t (readings; 003 states the static MILP only):

- tasks: the requests that arrived by t, were not yet assigned and can still meet L_max
  somewhere (the ``max_tasks`` oldest; the rest wait for the next window); a request that can
  no longer meet L_max on any server (or whose work no server could hold within H) is
  dropped, counted, and never served;
- servers: each has a backlog b_j, the work already committed to it that is not finished at t
  (in flight or waiting in its queue); its budget (1d) is Omega_j = FLOP/s x (H - b_j), so that
  no server is committed more than H seconds ahead (H = ``horizon_s``, L_max by default: work
  beyond L_max could not meet QoS anyway);
- latencies: the "transmission" of pair (i, j) is Ltrans_ij + the time i has waited + b_j, the
  latency already fixed before i's computation starts if it went first on j. So (1e) asks that i
  could still meet L_max on j, and T is the committed latency the MILP minimises after S;
- placement: fixed, the one the K-P-FCFS run uses (greedy on the whole trace), since models
  cannot move every second;
- units: FLOP and FLOP/s, as in the instance (the MILP divides each budget row (1d) by its
  Omega_j, so HiGHS never sees the FLOP magnitudes);
- the solve: ``opt_offload.solve(window, "exact", time_limit=...)``; a window with no decisions
  (time limit without incumbent) assigns nothing, and its requests wait for the next one.

Execution: each server runs what it was given first come, first served (with one L_max, that is
also earliest deadline first), back to back after its backlog. (1e) prices each request as if
it started first on its server; the requests after it in the same window wait for it, so a
served request can still end late; such requests are counted as late, as in the K-P-FCFS run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..schemas import AssignmentInstance
from ..solvers.assignment.kpfcfs import greedy_placement, make_job
from .assignment import GROWTH_TOLERANCE, DynamicResult, Served, queue_slope

MAX_TASKS = 200


@dataclass
class Waiting:
    index: int  # position in the arrivals
    arrival_s: float
    task: object  # the instance's Task
    ranked: tuple  # capable servers (1c), (1e), best first


@dataclass(frozen=True)
class RollingStats:
    windows: int  # decision times with at least one waiting request
    solves: int
    no_decisions: int  # windows whose solve returned no decisions
    solve_wall_s: float
    wall_s: float


def window_document(
    instance: AssignmentInstance,
    waiting: list[Waiting],
    now: float,
    backlog: dict[str, float],
    horizon_s: float,
    placement: dict[str, list[str]],
) -> dict:
    """The window's assignment instance (module docstring), as a document."""
    servers = []
    for server in instance.servers:
        record = server.model_dump(mode="json")
        record["compute_budget_flop"] = server.flops * max(0.0, horizon_s - backlog[server.id])
        servers.append(record)
    tasks, transmission = [], {}
    for item in waiting:
        task_id = f"q{item.index}"
        tasks.append({**item.task.model_dump(mode="json"), "id": task_id})
        waited = now - item.arrival_s
        transmission[task_id] = {
            s.id: instance.transmission_s[item.task.id][s.id] + waited + backlog[s.id]
            for s in instance.servers
        }
    return {
        "kind": "assignment",
        "version": 1,
        "name": f"{instance.name}-t{now:g}",
        "variant": "admission",
        "latency_max_s": instance.latency_max_s,
        "objective": {"mode": "lexicographic"},
        "models": [m.model_dump(mode="json") for m in instance.models],
        "servers": servers,
        "tasks": tasks,
        "transmission_s": transmission,
        "computation_s": None,
        "placement": placement,
    }


def still_feasible(
    instance, item: Waiting, now: float, backlog: dict[str, float], horizon_s: float
) -> bool:
    """Whether some capable server could still finish the request within L_max, and could
    ever hold its work within a budget of H seconds (else it would wait for ever)."""
    bound = math.inf if instance.latency_max_s is None else instance.latency_max_s
    waited = now - item.arrival_s
    return any(
        waited + backlog[s.id] + instance.total_latency(item.task, s) <= bound
        and instance.computation(item.task, s) <= horizon_s
        for s in item.ranked
    )


def check_rolling(window_s: float, horizon_s: float | None, max_tasks: int) -> None:
    problems = []
    if not (math.isfinite(window_s) and window_s > 0):
        problems.append(f"window: W must be a finite number > 0, got {window_s}")
    if horizon_s is not None and not (math.isfinite(horizon_s) and horizon_s > 0):
        problems.append(f"horizon: must be a finite number > 0, got {horizon_s}")
    if max_tasks < 1:
        problems.append(f"max_tasks: must be at least 1, got {max_tasks}")
    if problems:
        raise InputError(problems)


def run_rolling_milp(
    instance: AssignmentInstance,
    arrivals: Sequence[tuple[float, int]],
    *,
    window_s: float = 1.0,
    time_limit_s: float | None = None,
    horizon_s: float | None = None,
    max_tasks: int = MAX_TASKS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[DynamicResult, RollingStats]:
    """Replay ``arrivals`` ``(time, index of the task in the instance)`` under the rolling
    MILP; decisions at W, 2W, ... until every request is served, dropped or rejected.
    ``time_limit_s`` is the per-window limit (default W / 2); ``progress(done, total)`` is
    called once per decision time."""
    from ..io import parse_instance
    from ..solve import solve

    check_rolling(window_s, horizon_s, max_tasks)
    if not instance.tasks:
        raise InputError("tasks: the dynamic run needs at least one task to draw from")
    started = time.perf_counter()
    limit = window_s / 2 if time_limit_s is None else time_limit_s
    horizon = horizon_s if horizon_s is not None else (instance.latency_max_s or window_s)
    placement = greedy_placement(instance)
    servers = instance.servers_by_id
    order = sorted(range(len(arrivals)), key=lambda n: arrivals[n][0])
    duration = max((t for t, _ in arrivals), default=0.0)
    total_windows = math.floor(duration / window_s) + 1
    free_at = {s.id: 0.0 for s in instance.servers}
    waiting: list[Waiting] = []
    served: list[Served] = []
    finishes: list[float] = []
    starts: list[tuple[float, str, str]] = []
    dropped: list[tuple[float, float]] = []  # (arrival, drop time) of the dropped requests
    rejected = late = windows = solves = no_decisions = 0
    solve_wall = 0.0
    cursor, k = 0, 0
    while cursor < len(order) or waiting:
        k += 1
        now = k * window_s
        while cursor < len(order) and arrivals[order[cursor]][0] <= now:
            n = order[cursor]
            t, index = arrivals[n]
            job = make_job(instance, instance.tasks[index], placement, t, n)
            if job.ranked:
                waiting.append(Waiting(n, t, job.task, job.ranked))
            else:
                rejected += 1
            cursor += 1
        if progress is not None:
            progress(min(k, total_windows), total_windows)
        if not waiting:
            continue
        windows += 1
        backlog = {j: max(0.0, free_at[j] - now) for j in free_at}
        alive = []
        for item in waiting:
            if still_feasible(instance, item, now, backlog, horizon):
                alive.append(item)
            else:
                dropped.append((item.arrival_s, now))
        waiting = alive
        chosen = waiting[:max_tasks]
        if not chosen or all(backlog[j] >= horizon for j in backlog):
            continue
        document = window_document(instance, chosen, now, backlog, horizon, placement)
        window = parse_instance(document, "rolling window")
        tic = time.perf_counter()
        solution = solve(window, "exact", time_limit=limit)
        solve_wall += time.perf_counter() - tic
        solves += 1
        if solution.decisions is None:
            no_decisions += 1
            continue
        servers_of = solution.decisions["tasks"]  # Solution v2: task -> server or None
        assigned = {
            w.index: servers_of[f"q{w.index}"] for w in chosen if servers_of.get(f"q{w.index}")
        }
        for item in chosen:  # FCFS on each server: ``chosen`` is in arrival order
            server_id = assigned.get(item.index)
            if server_id is None:
                continue
            server = servers[server_id]
            start = max(now, free_at[server_id])
            free_at[server_id] = start + instance.computation(item.task, server)
            latency = start - item.arrival_s + instance.total_latency(item.task, server)
            late += instance.latency_max_s is not None and latency > instance.latency_max_s
            served.append(Served(item.index, item.arrival_s, start, latency, server_id))
            finishes.append(free_at[server_id])
            starts.append((start, item.task.id, server_id))
        waiting = [w for w in waiting if w.index not in assigned]
    trace = queue_trace(served, dropped)
    slope = queue_slope(trace, duration)
    rate = len(arrivals) / max(duration, 1e-12)
    result = DynamicResult(
        rate_per_s=rate,
        duration_s=duration,
        arrived=len(arrivals),
        rejected=rejected,
        served=len(served),
        completed_in_period=sum(finish <= duration for finish in finishes),
        late=late,
        latencies_s=tuple(s.latency_s for s in served),
        queue_trace=trace,
        queue_slope_per_s=slope,
        bounded=slope <= GROWTH_TOLERANCE * rate,
        starts=tuple(sorted(starts)),
        served_requests=tuple(sorted(served, key=lambda s: (s.start_s, s.index))),
        dropped=len(dropped),
    )
    stats = RollingStats(windows, solves, no_decisions, solve_wall, time.perf_counter() - started)
    return result, stats


def queue_trace(
    served: Sequence[Served], dropped: Sequence[tuple[float, float]]
) -> tuple[tuple[float, int], ...]:
    """Requests waiting to start (unassigned, or queued at a server) after each instant: +1 at
    an arrival, -1 at a start or a drop (``dropped``: (arrival, drop time) pairs). Rejected
    requests never wait, as in the K-P-FCFS run."""
    spans = [(s.arrival_s, s.start_s) for s in served] + list(dropped)
    if not spans:
        return ()
    begin, end = np.array(spans).T
    times = np.concatenate((begin, end))
    steps = np.concatenate((np.ones(len(begin)), -np.ones(len(end))))
    ordered = np.lexsort((steps, times))  # at equal times a start before an arrival
    lengths = np.cumsum(steps[ordered]).astype(int)
    return tuple(zip(times[ordered].tolist(), lengths.tolist()))
