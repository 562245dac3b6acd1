"""Problem B, edge/cloud assignment (design §5; 003 paper eq. 1, 1a-1e, Appendix 7-11) as a
MILP, in Pyomo and in CVXPY.

Variables: ``x[p]`` for each candidate pair p = (task i, server j), 1 when i runs on j, and,
when the placement is free, ``y[q]`` for each (edge j, model k) that fits the edge's storage,
1 when k is deployed on j (the cloud hosts every model, so it has no y).

Only pairs that can ever be feasible get an x (design §5): (1e) is applied by leaving out the
pairs with Ltrans_ij + Lcomp_ij > L_max, and a pair is also left out when its model can never
be on the server (a fixed placement without it, or a model larger than the edge's storage) or
when the task alone exceeds the server's budget (1d). A fixed placement is therefore applied
by this filter rather than by fixed y variables: the pairs it forbids have no x at all.

Constraints: (1a) ``sum_j x_ij = 1`` (variant strict) or ``<= 1`` (admission); (1b) storage
``sum_k M_k y_jk <= S_j``; (1c)/(9) ``x_ij <= y_{j,mod(i)}``; (1d) ``sum_i W_ij x_ij <=
Omega_j``; optionally ``S >= min_throughput`` (the epsilon constraint of the Pareto sweep and
the second lexicographic stage). Throughput ``S = sum x``, transmission ``T = sum Ltrans x``.

Objectives (one stage each; solvers/assignment/exact.py combines them):
``throughput`` max S, ``transmission`` min T, ``weighted`` max ``w_S S - w_T T``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from opt_offload.evaluate.result import exceeds
from opt_offload.schemas import AssignmentInstance
from opt_offload.schemas.assignment import PLACEMENT_KEY, Server, Task

Stage = Literal["throughput", "transmission", "weighted"]
STAGES: tuple[Stage, ...] = ("throughput", "transmission", "weighted")


def could_host(instance: AssignmentInstance, server: Server, model_id: str) -> bool:
    """Whether the model is, or may be put, on the server: (1c) under the fixed placement,
    or (1b) for one model alone under a free one."""
    if server.cloud:
        return True
    if instance.placement is not None:
        return model_id in instance.placement.get(server.id, [])
    return not exceeds(instance.model_sizes[model_id], server.storage_gb)


def can_serve(instance: AssignmentInstance, task: Task, server: Server) -> bool:
    """The pre-filter: the pair meets (1e), its model can be on the server, and the task
    alone fits the server's budget (1d), with the evaluator's tolerance."""
    budget = server.compute_budget_flop
    return (
        instance.meets_qos(task, server)
        and could_host(instance, server, task.model)
        and (budget is None or not exceeds(instance.workload(task, server), budget))
    )


def unservable_tasks(instance: AssignmentInstance) -> list[str]:
    """Tasks with no server that meets QoS, can hold their model and fits their workload."""
    return [
        t.id for t in instance.tasks if not any(can_serve(instance, t, s) for s in instance.servers)
    ]


@dataclass(frozen=True)
class AssignmentData:
    """The instance as index lists and coefficient arrays, shared by both modelling layers."""

    instance: AssignmentInstance

    @cached_property
    def pairs(self) -> list[tuple[int, int]]:
        """(task index, server index) of every pair that passes the pre-filter."""
        return [
            (i, j)
            for i, task in enumerate(self.instance.tasks)
            for j, server in enumerate(self.instance.servers)
            if can_serve(self.instance, task, server)
        ]

    @cached_property
    def deployments(self) -> list[tuple[int, int]]:
        """(edge server index, model index) of the y variables: free placement only."""
        if self.instance.placement is not None:
            return []
        return [
            (j, k)
            for j, server in enumerate(self.instance.servers)
            if not server.cloud
            for k, model in enumerate(self.instance.models)
            if could_host(self.instance, server, model.id)
        ]

    @cached_property
    def transmission(self) -> np.ndarray:
        """Ltrans per pair."""
        tasks, servers = self.instance.tasks, self.instance.servers
        return np.array(
            [self.instance.transmission_s[tasks[i].id][servers[j].id] for i, j in self.pairs]
        )

    @cached_property
    def workload(self) -> np.ndarray:
        """W_ij per pair (1d)."""
        tasks, servers = self.instance.tasks, self.instance.servers
        return np.array([self.instance.workload(tasks[i], servers[j]) for i, j in self.pairs])

    @cached_property
    def model_index(self) -> dict[str, int]:
        return {m.id: k for k, m in enumerate(self.instance.models)}

    @cached_property
    def deployment_of_pair(self) -> dict[int, int]:
        """pair position -> position of the y it needs (1c); edge pairs under a free placement."""
        position = {d: q for q, d in enumerate(self.deployments)}
        tasks = self.instance.tasks
        found = {}
        for p, (i, j) in enumerate(self.pairs):
            key = (j, self.model_index[tasks[i].model])
            if key in position:
                found[p] = position[key]
        return found

    def pairs_of_task(self) -> list[list[int]]:
        rows: list[list[int]] = [[] for _ in self.instance.tasks]
        for p, (i, _) in enumerate(self.pairs):
            rows[i].append(p)
        return rows

    def pairs_of_server(self) -> list[list[int]]:
        rows: list[list[int]] = [[] for _ in self.instance.servers]
        for p, (_, j) in enumerate(self.pairs):
            rows[j].append(p)
        return rows

    def deployments_of_server(self) -> list[list[int]]:
        rows: list[list[int]] = [[] for _ in self.instance.servers]
        for q, (j, _) in enumerate(self.deployments):
            rows[j].append(q)
        return rows

    def check_servable(self) -> None:
        """Strict (1a) cannot hold for a task without pairs; callers report it first."""
        if self.instance.variant == "strict" and (missing := unservable_tasks(self.instance)):
            raise ValueError(f"strict instance with unservable tasks: {', '.join(missing)}")

    def decisions(self, x: np.ndarray, y: np.ndarray | None) -> dict:
        """0/1 values (up to the solver's tolerance) as instance decisions (design §9)."""
        instance = self.instance
        decisions: dict = {t.id: None for t in instance.tasks}
        for p in np.flatnonzero(x > 0.5):
            i, j = self.pairs[p]
            decisions[instance.tasks[i].id] = instance.servers[j].id
        if instance.placement is not None:
            placement = {j: list(m) for j, m in instance.placement.items()}
        else:
            placement = {s.id: [] for s in instance.servers if not s.cloud}
            for q in np.flatnonzero(y > 0.5) if y is not None else []:
                j, k = self.deployments[q]
                placement[instance.servers[j].id].append(instance.models[k].id)
        decisions[PLACEMENT_KEY] = placement
        return decisions


# --- Pyomo ------------------------------------------------------------------------------------


def add_assignment_constraints(model, data: AssignmentData) -> None:
    """(1a): each task on exactly one server (strict) or at most one (admission)."""
    import pyomo.environ as pyo

    strict = data.instance.variant == "strict"
    rows = data.pairs_of_task()

    def rule(m, i):
        if not rows[i]:
            return pyo.Constraint.Skip  # admission: the task is rejected (check_servable)
        served = sum(m.x[p] for p in rows[i])
        return served == 1 if strict else served <= 1

    model.assign = pyo.Constraint(model.I, rule=rule)


def add_storage_constraints(model, data: AssignmentData) -> None:
    """(1b): the models deployed on an edge fit its storage."""
    import pyomo.environ as pyo

    sizes = [m.size_gb for m in data.instance.models]
    servers = data.instance.servers
    rows = data.deployments_of_server()

    def rule(m, j):
        if not rows[j]:
            return pyo.Constraint.Skip
        used = sum(sizes[data.deployments[q][1]] * m.y[q] for q in rows[j])
        return used <= servers[j].storage_gb

    model.storage = pyo.Constraint(model.J, rule=rule)


def add_model_constraints(model, data: AssignmentData) -> None:
    """(1c)/(9): a task runs on an edge only where its model is deployed."""
    import pyomo.environ as pyo

    needs = data.deployment_of_pair
    model.hosted = pyo.Constraint(list(needs), rule=lambda m, p: m.x[p] <= m.y[needs[p]])


def add_compute_constraints(model, data: AssignmentData) -> None:
    """(1d): the workload a server carries stays within its budget Omega_j."""
    import pyomo.environ as pyo

    servers = data.instance.servers
    rows = data.pairs_of_server()

    def rule(m, j):
        budget = servers[j].compute_budget_flop
        if budget is None or not rows[j]:
            return pyo.Constraint.Skip
        return sum(data.workload[p] * m.x[p] for p in rows[j]) <= budget

    model.budget = pyo.Constraint(model.J, rule=rule)


def build_pyomo(
    instance: AssignmentInstance,
    *,
    objective: Stage = "transmission",
    min_throughput: int | None = None,
):
    """The MILP as a Pyomo ConcreteModel: ``model.x`` over ``AssignmentData.pairs``,
    ``model.y`` over ``AssignmentData.deployments``, expressions ``model.S`` and ``model.T``."""
    import pyomo.environ as pyo

    data = AssignmentData(instance)
    data.check_servable()
    model = pyo.ConcreteModel(name=instance.name)
    model.I = pyo.RangeSet(0, len(instance.tasks) - 1)
    model.J = pyo.RangeSet(0, len(instance.servers) - 1)
    model.x = pyo.Var(range(len(data.pairs)), domain=pyo.Binary)
    model.y = pyo.Var(range(len(data.deployments)), domain=pyo.Binary)
    add_assignment_constraints(model, data)
    add_storage_constraints(model, data)
    add_model_constraints(model, data)
    add_compute_constraints(model, data)
    model.S = pyo.Expression(expr=pyo.quicksum(model.x[p] for p in model.x))
    model.T = pyo.Expression(
        expr=pyo.quicksum(float(data.transmission[p]) * model.x[p] for p in model.x)
    )
    if min_throughput is not None:
        model.epsilon = pyo.Constraint(expr=model.S >= min_throughput)
    weights = instance.objective.weights
    expression, sense = {
        "throughput": (model.S, pyo.maximize),
        "transmission": (model.T, pyo.minimize),
        "weighted": (weights.throughput * model.S - weights.latency * model.T, pyo.maximize),
    }[objective]
    model.objective = pyo.Objective(expr=expression, sense=sense)
    return model


def pyomo_values(model) -> tuple[np.ndarray, np.ndarray]:
    """The solved (x, y) as arrays."""
    x = np.array([model.x[p].value or 0.0 for p in model.x])
    y = np.array([model.y[q].value or 0.0 for q in model.y])
    return x, y


# --- CVXPY ------------------------------------------------------------------------------------


def incidence(rows: list[list[int]], columns: int):
    """A sparse 0/1 matrix with row r selecting the columns in rows[r]."""
    import scipy.sparse as sp

    entries = [(r, c) for r, cols in enumerate(rows) for c in cols]
    r, c = zip(*entries) if entries else ((), ())
    return sp.csr_matrix((np.ones(len(entries)), (r, c)), shape=(len(rows), columns))


def build_cvxpy(
    instance: AssignmentInstance,
    *,
    objective: Stage = "transmission",
    min_throughput: int | None = None,
):
    """The same MILP in CVXPY, vectorised. Returns (problem, x, y); y is None when the
    placement is fixed."""
    import cvxpy as cp

    data = AssignmentData(instance)
    data.check_servable()
    n_pairs = len(data.pairs)
    x = cp.Variable(n_pairs, boolean=True)
    by_task = [row for row in data.pairs_of_task() if row]
    served = incidence(by_task, n_pairs) @ x
    constraints = [served == 1 if instance.variant == "strict" else served <= 1]  # (1a)
    budgets = [
        (j, s.compute_budget_flop)
        for j, s in enumerate(instance.servers)
        if s.compute_budget_flop is not None
    ]
    if budgets:  # (1d): W_ij folded into the server-by-pair incidence
        by_server = data.pairs_of_server()
        load = incidence([by_server[j] for j, _ in budgets], n_pairs).multiply(data.workload)
        constraints.append(load @ x <= np.array([b for _, b in budgets]))
    y = None
    if data.deployments:
        y = cp.Variable(len(data.deployments), boolean=True)
        sizes = np.array([instance.models[k].size_gb for _, k in data.deployments])
        edges = [j for j, row in enumerate(data.deployments_of_server()) if row]
        storage = incidence([data.deployments_of_server()[j] for j in edges], len(sizes))
        capacity = np.array([instance.servers[j].storage_gb for j in edges])
        constraints.append(storage.multiply(sizes) @ y <= capacity)  # (1b)
        needs = data.deployment_of_pair
        if needs:  # (1c)/(9)
            pairs, deployments = list(needs), list(needs.values())
            constraints.append(x[pairs] <= y[deployments])
    throughput = cp.sum(x)
    transmission = data.transmission @ x if n_pairs else cp.Constant(0.0)
    if min_throughput is not None:
        constraints.append(throughput >= min_throughput)
    weights = instance.objective.weights
    goal = {
        "throughput": cp.Maximize(throughput),
        "transmission": cp.Minimize(transmission),
        "weighted": cp.Maximize(weights.throughput * throughput - weights.latency * transmission),
    }[objective]
    return cp.Problem(goal, constraints), x, y
