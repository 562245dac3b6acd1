"""K-Priority FCFS (003 paper Sec. 3.3.2, design §5): the look-ahead window K_q, a priority
rule, and work-conserving assignment; the static one-pass solver ``kpfcfs``.

One selection function, :func:`choose`, serves the static pass here and the dynamic
discrete-event run (:mod:`opt_offload.simulation.assignment`); they differ only in what makes a
server available (budget left here, idle there).

Readings (the paper states the family, not these details):

- window: the K_q oldest waiting tasks by arrival. Among them the rule's highest-priority task
  that has an available server is assigned; if it has none, the next one in priority is tried,
  so that no available capable server is left idle while a task in the window could use it
  (Definition 2, work conservation, within the window the scheduler looks at).
- rules: ``fcfs`` (arrival, then file order), ``shortest-workload`` (least W_i first),
  ``earliest-deadline`` (least latest start time first: arrival + L_max minus the task's
  smallest total latency on a capable server). With a single L_max, "arrival + L_max" would order
  tasks exactly as FCFS does, so the deadline is the latest moment the task can still start and
  meet (1e). Ties fall back to arrival, then file order.
- server: among those hosting mod(i) (1c) and meeting L_max (1e), the lowest total latency
  Ltrans + Lcomp first, then the lowest transmission, then file order.
- static pass: every task is in the queue at time 0 in file order (so FCFS is file order); a
  server is available while its compute budget (1d) holds the task's W_ij. A task in the window
  with no available server is rejected at once: budgets only shrink, so it never will have one.
- placement: the instance's fixed one; when free, a greedy placement: each edge takes the
  models most requested by tasks that meet L_max on it (count of tasks, then model file order),
  first fit into its storage (1b).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opt_offload.errors import InputError
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AssignmentInstance, Status
from opt_offload.schemas.assignment import Server, Task
from opt_offload.tolerance import exceeds

RULES = ("fcfs", "shortest-workload", "earliest-deadline")


@dataclass(frozen=True, eq=False)  # jobs are compared by identity
class Job:
    """A waiting task: its arrival, its order of arrival and the servers able to run it."""

    task: Task
    arrival_s: float
    order: int
    ranked: tuple[Server, ...]  # capable servers, preferred first
    deadline_s: float  # latest start that still meets L_max on the best server


PRIORITY: dict[str, Callable[[Job], tuple]] = {
    "fcfs": lambda job: (job.arrival_s, job.order),
    "shortest-workload": lambda job: (job.task.workload_flop, job.arrival_s, job.order),
    "earliest-deadline": lambda job: (job.deadline_s, job.arrival_s, job.order),
}


def ranked_servers(
    instance: AssignmentInstance, task: Task, placement: dict[str, list[str]]
) -> tuple[Server, ...]:
    """Servers hosting mod(i) (1c) and meeting L_max (1e), lowest total latency first."""
    capable = [
        s
        for s in instance.servers
        if instance.hosts(s, task.model, placement) and instance.meets_qos(task, s)
    ]
    order = {s.id: j for j, s in enumerate(instance.servers)}
    return tuple(
        sorted(
            capable,
            key=lambda s: (
                instance.total_latency(task, s),
                instance.transmission_s[task.id][s.id],
                order[s.id],
            ),
        )
    )


def make_job(
    instance: AssignmentInstance,
    task: Task,
    placement: dict[str, list[str]],
    arrival_s: float,
    order: int,
) -> Job:
    ranked = ranked_servers(instance, task, placement)
    slack = math.inf
    if instance.latency_max_s is not None and ranked:
        slack = instance.latency_max_s - instance.total_latency(task, ranked[0])
    return Job(task, arrival_s, order, ranked, arrival_s + slack)


def choose(
    window: Sequence[Job], rule: str, server_for: Callable[[Job], Server | None]
) -> tuple[Job, Server] | None:
    """The rule's highest-priority job in the window that has an available server, and that
    server (``server_for`` returns the preferred available one, or None)."""
    for job in sorted(window, key=PRIORITY[rule]):
        server = server_for(job)
        if server is not None:
            return job, server
    return None


def greedy_placement(instance: AssignmentInstance) -> dict[str, list[str]]:
    """The fixed placement, or each edge's most requested QoS-feasible models, first fit (1b)."""
    if instance.placement is not None:
        return {j: list(models) for j, models in instance.placement.items()}
    model_order = {m.id: k for k, m in enumerate(instance.models)}
    placement = {}
    for edge in (s for s in instance.servers if not s.cloud):
        demand = Counter(t.model for t in instance.tasks if instance.meets_qos(t, edge))
        free = edge.storage_gb
        chosen = []
        for model in sorted(demand, key=lambda m: (-demand[m], model_order[m])):
            if instance.model_sizes[model] <= free:
                chosen.append(model)
                free -= instance.model_sizes[model]
        placement[edge.id] = chosen
    return placement


def check_window(k: int) -> None:
    if k < 1:
        raise InputError(f"option k: K_q must be at least 1, got {k}")


def static_assignment(
    instance: AssignmentInstance, k: int, rule: str
) -> dict[str, str | None | dict]:
    """One pass over the tasks in file order (design §5's static use)."""
    check_window(k)
    placement = greedy_placement(instance)
    queue = [make_job(instance, t, placement, 0.0, i) for i, t in enumerate(instance.tasks)]
    used = Counter()

    def server_with_budget(job: Job) -> Server | None:
        for server in job.ranked:
            budget = server.compute_budget_flop
            work = instance.workload(job.task, server)
            if budget is None or not exceeds(used[server.id] + work, budget):
                return server
        return None

    tasks: dict[str, str | None] = {t.id: None for t in instance.tasks}
    while queue:
        window = queue[:k]
        stuck = [job for job in window if server_with_budget(job) is None]
        if stuck:
            queue = [job for job in queue if job not in stuck]
            continue
        job, server = choose(window, rule, server_with_budget)
        queue.remove(job)
        used[server.id] += instance.workload(job.task, server)
        tasks[job.task.id] = server.id
    return {"tasks": tasks, "placement": placement}


@register(
    "assignment",
    "kpfcfs",
    exact=False,
    description="K-Priority FCFS (003 Sec. 3.3.2): one pass in file order, the rule's pick "
    "among the K_q oldest to its lowest-latency server with budget left; greedy placement "
    "when free",
    options=(
        Option("k", int, 1, "look-ahead window K_q (1: plain FCFS under rule fcfs)"),
        Option("rule", str, "fcfs", "priority rule within the window", RULES),
    ),
)
def kpfcfs(
    instance: AssignmentInstance, *, time_limit: float | None = None, k: int = 1, rule: str = "fcfs"
) -> SolverResult:
    return SolverResult(Status.FEASIBLE, static_assignment(instance, k, rule))
