"""Dynamic K-Priority FCFS on an assignment instance (003 Sec. 3.3, design §5): a
discrete-event run with Poisson arrivals, and the largest arrival rate at which queues stay
bounded, against the capacity the MILP implies.

Model of the run (readings; the paper sketches stability, not a simulator):

- arrivals: Poisson at ``rate_per_s``; each arrival copies a task drawn uniformly from the
  instance's tasks (its model, W_i and latency rows), so the instance is the task mix;
- placement: the one the static ``kpfcfs`` uses (the instance's fixed one, or its greedy one);
- a server runs one task at a time, for Lcomp_ij; the transmission Ltrans_ij adds to the task's
  latency but does not hold the server (uploads overlap the previous task's computation);
- scheduling instants are arrivals and completions; at each, K-P-FCFS assigns (the same
  :func:`~opt_offload.solvers.assignment.kpfcfs.choose` as the static pass, with "available" =
  idle) until no idle server can take a task in the window (work conservation, Definition 2);
- QoS: (1e) is a property of the pair, as in the MILP, so a task only goes to servers with
  Ltrans + Lcomp <= L_max; a task with no such server is rejected on arrival. Waiting is not
  charged against L_max: a task that waited is still served, and counted as late if its
  end-to-end latency (wait + Ltrans + Lcomp) exceeds L_max. Dropping late tasks would keep every
  queue below rate x L_max and hide the instability this run is meant to show;
- the compute budgets (1d) are the static problem's stand-in for time and are not used here:
  time itself limits the servers.

An event queue on :mod:`heapq` is all this needs (two event kinds, no resources beyond idle
flags); simpy is not installed and would add a dependency for no gain.

Boundedness test: the queue length (a step function) is sampled on a uniform grid over the
second half of the arrival period and fitted by least squares; the queue is called bounded when
its growth rate is below ``GROWTH_TOLERANCE`` (5%) of the arrival rate, i.e. fewer than one in
twenty arrivals accumulates. A stable queue has slope about 0; an overloaded one grows at
rate - service rate.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..schemas import AssignmentInstance
from ..solvers.assignment.kpfcfs import Job, check_window, choose, greedy_placement, make_job

GROWTH_TOLERANCE = 0.05
GRID_POINTS = 200
ARRIVAL, COMPLETION = 0, 1  # at equal times completions free servers after arrivals queue


class Served(NamedTuple):
    """One served request: its index in the arrivals, when it arrived and started, its
    end-to-end latency (wait + Ltrans + Lcomp) and the server that ran it."""

    index: int
    arrival_s: float
    start_s: float
    latency_s: float
    server: str


@dataclass(frozen=True)
class DynamicResult:
    rate_per_s: float
    duration_s: float  # the arrival period: last arrival time
    arrived: int
    rejected: int  # no server meets L_max for the task (on arrival)
    served: int  # started service (all are, by the end of the drained run)
    completed_in_period: int
    late: int  # served with end-to-end latency above L_max
    latencies_s: tuple[float, ...]  # end-to-end, per served task in start order
    queue_trace: tuple[tuple[float, int], ...]  # (time, queue length after the instant)
    queue_slope_per_s: float
    bounded: bool
    starts: tuple[tuple[float, str, str], ...] = field(repr=False)  # (time, task, server)
    served_requests: tuple[Served, ...] = field(default=(), repr=False)
    dropped: int = 0  # given up once they could no longer meet L_max (``drop_late``)

    @property
    def throughput_per_s(self) -> float:
        """Tasks completed within the arrival period, per second."""
        return self.completed_in_period / self.duration_s if self.duration_s > 0 else 0.0

    def latency_percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q)) if self.latencies_s else math.nan

    @property
    def mean_queue(self) -> float:
        return time_average(self.queue_trace, self.duration_s)

    @property
    def final_queue(self) -> int:
        """Queue length at the last arrival."""
        return queue_at(self.queue_trace, self.duration_s)

    def summary(self) -> dict[str, float | int | bool]:
        return {
            "rate_per_s": self.rate_per_s,
            "throughput_per_s": self.throughput_per_s,
            "arrived": self.arrived,
            "rejected": self.rejected,
            "late": self.late,
            "p50_s": self.latency_percentile(50),
            "p95_s": self.latency_percentile(95),
            "p99_s": self.latency_percentile(99),
            "mean_queue": self.mean_queue,
            "final_queue": self.final_queue,
            "queue_slope_per_s": self.queue_slope_per_s,
            "bounded": self.bounded,
        }


def queue_at(trace: Sequence[tuple[float, int]], t: float) -> int:
    """The step function's value at time t (0 before the first instant)."""
    times = [time for time, _ in trace]
    index = int(np.searchsorted(times, t, side="right")) - 1
    return trace[index][1] if index >= 0 else 0


def time_average(trace: Sequence[tuple[float, int]], until: float) -> float:
    if until <= 0 or not trace:
        return 0.0
    total, previous_t, previous_q = 0.0, 0.0, 0
    for t, q in trace:
        if t > until:
            break
        total += previous_q * (t - previous_t)
        previous_t, previous_q = t, q
    return (total + previous_q * (until - previous_t)) / until


def queue_slope(trace: Sequence[tuple[float, int]], duration_s: float) -> float:
    """Least-squares growth rate (tasks/s) of the queue over the second half of the period."""
    if duration_s <= 0:
        return 0.0
    grid = np.linspace(duration_s / 2, duration_s, GRID_POINTS)
    lengths = [queue_at(trace, t) for t in grid]
    return float(np.polyfit(grid, lengths, 1)[0])


def dispatch(queue: list[Job], idle: set[str], k: int, rule: str) -> list[tuple[Job, object]]:
    """K-P-FCFS at one scheduling instant: assign until no idle server can take a task in the
    window of the K oldest. Removes the assigned jobs from ``queue`` and their servers from
    ``idle``."""

    def idle_server(job: Job):
        return next((s for s in job.ranked if s.id in idle), None)

    assigned = []
    while (choice := choose(queue[:k], rule, idle_server)) is not None:
        job, server = choice
        queue.remove(job)
        idle.discard(server.id)
        assigned.append(choice)
    return assigned


def run_trace(
    instance: AssignmentInstance,
    arrivals: Sequence[tuple[float, int]],
    *,
    k: int = 1,
    rule: str = "fcfs",
    rate_per_s: float | None = None,
    drop_late: bool = False,
) -> DynamicResult:
    """Run K-P-FCFS on given arrivals ``(time, index of the task in the instance)``, in time
    order, until every queued task has been served. With ``drop_late``, a waiting task is
    dropped once it can no longer meet L_max even on its best server started now (past its
    deadline, :func:`~opt_offload.solvers.assignment.kpfcfs.make_job`): the admission rule of
    the rolling MILP (:mod:`opt_offload.simulation.rolling`), for a like-for-like comparison."""
    check_window(k)
    if not instance.tasks:
        raise InputError("tasks: the dynamic run needs at least one task to draw from")
    placement = greedy_placement(instance)
    events: list[tuple[float, int, int, object]] = []
    for order, (t, index) in enumerate(arrivals):
        heapq.heappush(events, (t, ARRIVAL, order, index))
    duration = max((t for t, _ in arrivals), default=0.0)
    idle = {s.id for s in instance.servers}
    queue: list[Job] = []
    trace, latencies, starts, served = [], [], [], []
    deadlines: list[tuple[float, int, Job]] = []  # waiting jobs by deadline, for drop_late
    rejected = late = completed = dropped = 0
    while events:
        now, kind, order, payload = heapq.heappop(events)
        if kind == ARRIVAL:
            job = make_job(instance, instance.tasks[payload], placement, now, order)
            if job.ranked:
                queue.append(job)
                if drop_late:
                    heapq.heappush(deadlines, (job.deadline_s, order, job))
            else:
                rejected += 1
        else:
            idle.add(payload)
            completed += now <= duration
        while deadlines and deadlines[0][0] < now:
            job = heapq.heappop(deadlines)[2]
            if job in queue:
                queue.remove(job)
                dropped += 1
        for job, server in dispatch(queue, idle, k, rule):
            computation = instance.computation(job.task, server)
            latency = now - job.arrival_s + instance.total_latency(job.task, server)
            latencies.append(latency)
            late += instance.latency_max_s is not None and latency > instance.latency_max_s
            starts.append((now, job.task.id, server.id))
            served.append(Served(job.order, job.arrival_s, now, latency, server.id))
            heapq.heappush(events, (now + computation, COMPLETION, order, server.id))
        trace.append((now, len(queue)))
    slope = queue_slope(trace, duration)
    rate = rate_per_s if rate_per_s is not None else len(arrivals) / max(duration, 1e-12)
    return DynamicResult(
        rate_per_s=rate,
        duration_s=duration,
        arrived=len(arrivals),
        rejected=rejected,
        served=len(latencies),
        completed_in_period=completed,
        late=late,
        latencies_s=tuple(latencies),
        queue_trace=tuple(trace),
        queue_slope_per_s=slope,
        bounded=slope <= GROWTH_TOLERANCE * rate,
        starts=tuple(starts),
        served_requests=tuple(served),
        dropped=dropped,
    )


def poisson_arrivals(
    instance: AssignmentInstance, rate_per_s: float, count: int, seed: int
) -> list[tuple[float, int]]:
    """``count`` Poisson arrivals at ``rate_per_s``, each a task drawn uniformly from the mix."""
    if rate_per_s <= 0 or count < 1:
        raise InputError(f"rate and arrivals: need positive numbers, got {rate_per_s}, {count}")
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, count))
    picks = rng.integers(len(instance.tasks), size=count)
    return [(float(t), int(i)) for t, i in zip(times, picks)]


def simulate_assignment(
    instance: AssignmentInstance,
    rate_per_s: float,
    *,
    k: int = 1,
    rule: str = "fcfs",
    arrivals: int = 2000,
    seed: int = 0,
) -> DynamicResult:
    """One seeded run of ``arrivals`` Poisson arrivals."""
    trace = poisson_arrivals(instance, rate_per_s, arrivals, seed)
    return run_trace(instance, trace, k=k, rule=rule, rate_per_s=rate_per_s)


def window_instance(
    instance: AssignmentInstance, window_s: float, count: int, seed: int
) -> AssignmentInstance:
    """``count`` tasks drawn from the mix, budgets Omega_j = FLOP/s x window, the dynamic run's
    placement fixed, and the objective max S alone (weights 1 and 0)."""
    from ..io import parse_instance

    picks = np.random.default_rng(seed).integers(len(instance.tasks), size=count)
    drawn = {f"w{n}": instance.tasks[int(i)] for n, i in enumerate(picks, start=1)}
    document = instance.model_dump(mode="json")
    for server in document["servers"]:
        server["compute_budget_flop"] = server["flops"] * window_s
    document.update(
        name=f"{instance.name}-window",
        comment=None,
        variant="admission",
        objective={"mode": "weighted", "weights": {"throughput": 1.0, "latency": 0.0}},
        tasks=[{**t.model_dump(mode="json"), "id": w} for w, t in drawn.items()],
        transmission_s={w: dict(instance.transmission_s[t.id]) for w, t in drawn.items()},
        computation_s=None
        if instance.computation_s is None
        else {w: dict(instance.computation_s[t.id]) for w, t in drawn.items()},
        placement=greedy_placement(instance),
    )
    return parse_instance(document, "stability window")


def fluid_capacity(instance: AssignmentInstance) -> float:
    """The largest arrival rate whose accepted tasks the servers can carry on average: the LP
    relaxation of the MILP over a unit of time, with the task mix as rates.

    maximise lambda  s.t.  sum_j f_ij = lambda / N  for every task i with a capable server
    (the others are rejected and carry no load), sum_i f_ij Lcomp_ij <= 1 for every server j
    (busy at most all the time), f_ij >= 0 only on pairs meeting (1c) and (1e). No policy keeps
    the queues bounded above it; a work-conserving one with a window K_q may stop below it.
    """
    from scipy.optimize import linprog

    placement = greedy_placement(instance)
    n = len(instance.tasks)
    pairs = [
        (i, server)
        for i, task in enumerate(instance.tasks)
        for server in make_job(instance, task, placement, 0.0, i).ranked
    ]
    if not pairs:
        return 0.0
    served_tasks = sorted({i for i, _ in pairs})
    servers = [s.id for s in instance.servers]
    equality = np.zeros((len(served_tasks), len(pairs) + 1))
    busy = np.zeros((len(servers), len(pairs) + 1))
    for column, (i, server) in enumerate(pairs, start=1):
        equality[served_tasks.index(i), column] = 1.0
        busy[servers.index(server.id), column] = instance.computation(instance.tasks[i], server)
    equality[:, 0] = -1.0 / n
    objective = np.zeros(len(pairs) + 1)
    objective[0] = -1.0
    result = linprog(
        objective,
        A_ub=busy,
        b_ub=np.ones(len(servers)),
        A_eq=equality,
        b_eq=np.zeros(len(served_tasks)),
        bounds=(0, None),
        method="highs",
    )
    if result.status == 3:  # unbounded: some capable pair takes no time
        return math.inf
    return float(-result.fun)


def milp_window_capacity(
    instance: AssignmentInstance, *, count: int = 120, seed: int = 0, time_limit: float = 60.0
) -> tuple[float, float, int]:
    """The MILP's max throughput (A's ``exact``, judged by the evaluator) on ``count`` tasks from
    the mix, with budgets for a window sized so that about half of them fit (twice the fluid
    capacity's load), divided by the window. Returns (tasks/s, window s, S*). It favours small
    tasks (it picks whom to serve), so it lies at or above the fluid capacity of the mix."""
    from ..solve import solve

    fluid = fluid_capacity(instance)
    if not math.isfinite(fluid) or fluid <= 0:
        return fluid, 0.0, 0
    window = count / (2.0 * fluid)
    solution = solve(window_instance(instance, window, count, seed), "exact", time_limit=time_limit)
    served = int(solution.metrics.get("throughput", 0)) if solution.metrics else 0
    return served / window, window, served


@dataclass(frozen=True)
class StableRate:
    lower_per_s: float  # largest rate found bounded
    upper_per_s: float  # smallest rate found unbounded
    runs: tuple[DynamicResult, ...]


def find_stable_rate(
    instance: AssignmentInstance,
    *,
    k: int = 1,
    rule: str = "fcfs",
    arrivals: int = 2000,
    seed: int = 0,
    start_per_s: float | None = None,
    iterations: int = 8,
) -> StableRate:
    """Bisection on the arrival rate between a bounded and an unbounded run (same seed, so the
    runs differ by the rate alone). The upper end starts at twice ``start_per_s`` (default the
    fluid capacity) and doubles until the run is unbounded (at most 8 times)."""
    guess = start_per_s if start_per_s is not None else fluid_capacity(instance)
    if not math.isfinite(guess) or guess <= 0:
        raise InputError("find_stable_rate: no finite capacity to start from (give start_per_s)")
    runs = []

    def bounded(rate: float) -> bool:
        runs.append(
            simulate_assignment(instance, rate, k=k, rule=rule, arrivals=arrivals, seed=seed)
        )
        return runs[-1].bounded

    lower, upper = 0.0, 2.0 * guess
    for _ in range(8):
        if not bounded(upper):
            break
        lower, upper = upper, 2.0 * upper
    else:
        return StableRate(lower, math.inf, tuple(runs))
    for _ in range(iterations):
        middle = (lower + upper) / 2
        if bounded(middle):
            lower = middle
        else:
            upper = middle
    return StableRate(lower, upper, tuple(runs))
