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

Tightenings (:class:`Tightening`; each a small function below, each switchable so that the
benchmark can show what it buys; none changes the set of integer solutions):

- ``scaled_budgets``: (1d) stated in units of 2^k, the power of two just below Omega_j
  (:func:`~.formulation.binary_unit`), so that its coefficients are below 2 instead of FLOP
  counts up to 1e13 against right-hand sides up to 1e15 (HiGHS warns of a 1e21
  bound-to-tolerance ratio and its LP slows down by several times); the division is exact,
  so the row is the same constraint (and CP-SAT scales it to the data's own integers);
- ``storage_cover``: for each edge, every minimal cover C of its storage knapsack (1b), i.e.
  models that do not fit together, gives ``sum_{k in C} y_jk <= |C| - 1``; without it the LP
  relaxation deploys two 7 GB models at 0.85 each on a 12 GB edge;
- ``model_load``: the budget split by model, ``sum_{i: mod(i)=k} W_ij x_ij <= Omega_j y_jk``,
  the aggregate of (1c) weighted by (1d) (a fractional y then buys only its share of the
  budget);
- ``symmetry``: servers that are interchangeable for the stage (same storage, budget and
  candidate tasks with the same W_ij, and for stages that price T the same Ltrans_ij) are
  ordered: a deployment code ``sum_r 2^r y_jr`` (free placement) or else the load, in
  non-increasing order along each group, which any solution satisfies after relabelling.

Objectives (one stage each; solvers/assignment/exact.py combines them):
``throughput`` max S, ``transmission`` min T, ``weighted`` max ``w_S S - w_T T``, and
``lexicographic`` max ``M S - T`` with ``M`` = :meth:`AssignmentData.lexicographic_weight`,
whose maximisers are exactly the lexicographic optima (max S, then min T) in one MILP.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from opt_offload.schemas import AssignmentInstance
from opt_offload.schemas.assignment import Server, Task
from opt_offload.tolerance import exceeds

from .formulation import Formulation, ProblemClass, binary_unit

Stage = Literal["throughput", "transmission", "weighted", "lexicographic"]
COVER_MODELS = 10  # enumerate the storage covers of edges with at most this many models
_LATEST: dict[str, AssignmentData] = {}  # AssignmentData.of: the last instance's data
STAGES: tuple[Stage, ...] = ("throughput", "transmission", "weighted", "lexicographic")


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
class Tightening:
    """Which optional constraint families the Pyomo model gets (see the module docstring)."""

    scaled_budgets: bool = True
    storage_cover: bool = True
    model_load: bool = True
    symmetry: bool = True


NO_TIGHTENING = Tightening(
    scaled_budgets=False, storage_cover=False, model_load=False, symmetry=False
)


@dataclass(frozen=True)
class AssignmentData:
    """The instance as index lists and coefficient arrays, shared by both modelling layers.
    Use :meth:`of` rather than the constructor: one solve asks for the data of the same
    instance several times (every stage, the decisions, the solver's checks), and the pair
    filter costs about 0.1 s at 1,000 tasks x 21 servers."""

    instance: AssignmentInstance

    @classmethod
    def of(cls, instance: AssignmentInstance) -> AssignmentData:
        """The data of this instance object, computed once while it is the latest asked for."""
        cached = _LATEST.get("data")
        if cached is None or cached.instance is not instance:
            cached = _LATEST["data"] = cls(instance)
        return cached

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

    @cached_property
    def tasks_of_model(self) -> list[list[int]]:
        """Task indices per model index."""
        rows: list[list[int]] = [[] for _ in self.instance.models]
        for i, task in enumerate(self.instance.tasks):
            rows[self.model_index[task.model]].append(i)
        return rows

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

    def pairs_of_deployment(self) -> list[list[int]]:
        """Pair positions per deployment position: the pairs each y enables (1c)."""
        rows: list[list[int]] = [[] for _ in self.deployments]
        for p, q in self.deployment_of_pair.items():
            rows[q].append(p)
        return rows

    def budget_unit(self, j: int) -> float:
        """The unit server j's budget rows are stated in: 2^k just below Omega_j, and 1 FLOP
        for a budget under one FLOP or none. Scaling such a budget up would turn the pairs the
        pre-filter lets through within the evaluator's absolute tolerance (a workload of 1e-45
        against a budget of 4e-75) into coefficients of 1e29, which HiGHS reads as infinite."""
        return binary_unit(max(self.instance.servers[j].compute_budget_flop or 0.0, 1.0))

    def budget_capacity(self, j: int) -> float:
        """Omega_j in :meth:`budget_unit` (in [1, 2) for a budget of at least one FLOP)."""
        return self.instance.servers[j].compute_budget_flop / self.budget_unit(j)

    def per_task_transmission(self, extreme) -> np.ndarray:
        """``extreme`` (np.maximum or np.minimum) of Ltrans_ij over each task's candidate
        pairs; 0 for a task without pairs."""
        task_of_pair = np.array([i for i, _ in self.pairs], dtype=int)
        start = np.full(len(self.instance.tasks), -np.inf if extreme is np.maximum else np.inf)
        extreme.at(start, task_of_pair, self.transmission)
        return np.where(np.isfinite(start), start, 0.0)

    def transmission_ceiling(self) -> float:
        """An upper bound on T over every solution: each task on at most one server (1a) and
        Ltrans >= 0, so T <= sum_i max_j Ltrans_ij."""
        return float(self.per_task_transmission(np.maximum).sum())

    def transmission_floor(self, served: int) -> float:
        """A lower bound on T over every solution serving at least ``served`` tasks: the sum
        of the ``served`` smallest per-task minima of Ltrans_ij."""
        return float(np.sort(self.per_task_transmission(np.minimum))[:served].sum())

    def lexicographic_weight(self) -> float:
        """M of the one-MILP lexicographic objective ``max M S - T``: T_ceiling + 1.

        Why it is exact: let (S*, T*) be the lexicographic optimum and (S, T) any feasible
        point; 0 <= T, T* <= T_ceiling < M. If S <= S* - 1 (S is integral), then
        ``M S - T <= M S* - M < M S* - T_ceiling <= M S* - T*``: the point is worse. Among
        points with S = S*, ``M S - T`` orders them by -T. So every maximiser has S = S* and
        the least T among those. With an upper bound U on ``M S - T`` (the solver's dual
        bound), every solution has ``S <= (U + T_ceiling) / M``, and every solution with
        S = S* has ``T >= M S* - U``; the +1 leaves a margin of 1 for the solver's gap."""
        return self.transmission_ceiling() + 1.0

    def budget_share(self, p: int) -> float:
        """W_ij of pair p in its server's :meth:`budget_unit` (its server has a budget)."""
        return float(self.workload[p] / self.budget_unit(self.pairs[p][1]))

    def storage_covers(self, j: int) -> list[list[int]]:
        """Minimal covers of edge j's storage knapsack (1b), as deployment positions: sets of
        models that cannot all be on the edge while each smaller subset can. Enumerated by
        size; edges with more than ``COVER_MODELS`` candidate models get the pairs only."""
        rows = self.deployments_of_server()[j]
        capacity = self.instance.servers[j].storage_gb
        size = {q: self.instance.models[self.deployments[q][1]].size_gb for q in rows}
        largest = len(rows) if len(rows) <= COVER_MODELS else 2
        covers: list[list[int]] = []
        for count in range(2, largest + 1):
            for subset in itertools.combinations(rows, count):
                contains_cover = any(set(c) <= set(subset) for c in covers)
                if not contains_cover and exceeds(sum(size[q] for q in subset), capacity):
                    covers.append(list(subset))
        return covers

    def interchangeable_servers(self, prices_transmission: bool) -> list[list[int]]:
        """Groups (of two or more, in index order) of servers with candidate tasks that any
        solution may swap:
        same kind, storage, budget and FLOP/s, the same candidate tasks with the same W_ij
        and, when the stage prices T, the same Ltrans_ij."""
        instance = self.instance
        signature: dict[int, list] = {j: [] for j in range(len(instance.servers))}
        for p, (i, j) in enumerate(self.pairs):
            priced = (float(self.transmission[p]),) if prices_transmission else ()
            signature[j].append((i, float(self.workload[p]), *priced))
        groups: dict[tuple, list[int]] = {}
        for j, server in enumerate(instance.servers):
            if not signature[j]:
                continue  # no candidate task: nothing to order
            hosted = tuple(self.deployments[q][1] for q in self.deployments_of_server()[j])
            key = (
                server.cloud,
                server.storage_gb,
                server.compute_budget_flop,
                server.flops,
                tuple(sorted(instance.placement.get(server.id, []))) if instance.placement else (),
                hosted,
                tuple(signature[j]),
            )
            groups.setdefault(key, []).append(j)
        return [group for group in groups.values() if len(group) > 1]

    def check_servable(self) -> None:
        """Strict (1a) cannot hold for a task without pairs; callers report it first."""
        if self.instance.variant == "strict" and (missing := unservable_tasks(self.instance)):
            raise ValueError(f"strict instance with unservable tasks: {', '.join(missing)}")

    def decisions(self, x: np.ndarray, y: np.ndarray | None) -> dict:
        """0/1 values (up to the solver's tolerance) as instance decisions (design §9):
        ``{"tasks": {task: server or None}, "placement": {edge: [models]}}``."""
        instance = self.instance
        tasks: dict = {t.id: None for t in instance.tasks}
        for p in np.flatnonzero(x > 0.5):
            i, j = self.pairs[p]
            tasks[instance.tasks[i].id] = instance.servers[j].id
        if instance.placement is not None:
            placement = {j: list(m) for j, m in instance.placement.items()}
        else:
            placement = {s.id: [] for s in instance.servers if not s.cloud}
            for q in np.flatnonzero(y > 0.5) if y is not None else []:
                j, k = self.deployments[q]
                placement[instance.servers[j].id].append(instance.models[k].id)
        return {"tasks": tasks, "placement": placement}


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


def add_compute_constraints(model, data: AssignmentData, scaled: bool = True) -> None:
    """(1d): the workload a server carries stays within its budget Omega_j; ``scaled``
    states the row in units of 2^k near Omega_j (the same constraint, exactly, with
    coefficients the solvers handle well)."""
    import pyomo.environ as pyo

    servers = data.instance.servers
    rows = data.pairs_of_server()

    def rule(m, j):
        budget = servers[j].compute_budget_flop
        if budget is None or not rows[j]:
            return pyo.Constraint.Skip
        if scaled:
            return sum(data.budget_share(p) * m.x[p] for p in rows[j]) <= data.budget_capacity(j)
        return sum(data.workload[p] * m.x[p] for p in rows[j]) <= budget

    model.budget = pyo.Constraint(model.J, rule=rule)


def add_storage_cover_constraints(model, data: AssignmentData) -> None:
    """Minimal covers of (1b): models that do not fit on an edge together are not all
    deployed there (``sum_{k in C} y_jk <= |C| - 1``)."""
    import pyomo.environ as pyo

    covers = [c for j in range(len(data.instance.servers)) for c in data.storage_covers(j)]
    model.storage_cover = pyo.Constraint(
        range(len(covers)), rule=lambda m, c: sum(m.y[q] for q in covers[c]) <= len(covers[c]) - 1
    )


def add_model_load_constraints(model, data: AssignmentData) -> None:
    """(1c) aggregated per deployment and weighted by (1d): the tasks of model k on edge j
    use at most the share y_jk of its budget."""
    import pyomo.environ as pyo

    budgeted = [
        q
        for q, rows in enumerate(data.pairs_of_deployment())
        if rows and data.instance.servers[data.deployments[q][0]].compute_budget_flop is not None
    ]
    rows = data.pairs_of_deployment()
    model.model_load = pyo.Constraint(
        budgeted,
        rule=lambda m, q: (
            sum(data.budget_share(p) * m.x[p] for p in rows[q])
            <= data.budget_capacity(data.deployments[q][0]) * m.y[q]
        ),
    )


def add_symmetry_constraints(model, data: AssignmentData, prices_transmission: bool) -> None:
    """Order each group of interchangeable servers: non-increasing deployment code
    ``sum_r 2^r y_jr`` where the edges have y, else non-increasing load. Any solution
    satisfies this after its servers in a group are relabelled, so no optimum is lost."""
    import pyomo.environ as pyo

    by_server, deployments = data.pairs_of_server(), data.deployments_of_server()

    def code(m, j):
        return sum(2.0**r * m.y[q] for r, q in enumerate(deployments[j]))

    def load(m, j):  # in the group's common budget unit (its servers share Omega_j)
        unit = data.budget_unit(j)
        return sum(float(data.workload[p]) / unit * m.x[p] for p in by_server[j])

    ordered = [
        (a, b)
        for group in data.interchangeable_servers(prices_transmission)
        for a, b in itertools.pairwise(group)
    ]

    def rule(m, c):
        a, b = ordered[c]
        key = code if deployments[a] else load
        return key(m, a) >= key(m, b)

    model.symmetry = pyo.Constraint(range(len(ordered)), rule=rule)


def build_pyomo(
    instance: AssignmentInstance,
    *,
    objective: Stage = "transmission",
    min_throughput: int | None = None,
    tightening: Tightening = Tightening(),
    relaxed: bool = False,
    deployed: np.ndarray | None = None,
):
    """The MILP as a Pyomo ConcreteModel: ``model.x`` over ``AssignmentData.pairs``,
    ``model.y`` over ``AssignmentData.deployments``, expressions ``model.S`` and ``model.T``;
    ``tightening`` picks the optional constraint families. ``relaxed``: its LP relaxation
    (x, y in [0, 1]); ``deployed``: y fixed to these 0/1 values."""
    import pyomo.environ as pyo

    data = AssignmentData.of(instance)
    data.check_servable()
    model = pyo.ConcreteModel(name=instance.name)
    model.I = pyo.RangeSet(0, len(instance.tasks) - 1)
    model.J = pyo.RangeSet(0, len(instance.servers) - 1)
    domain = pyo.UnitInterval if relaxed else pyo.Binary
    model.x = pyo.Var(range(len(data.pairs)), domain=domain)
    model.y = pyo.Var(range(len(data.deployments)), domain=domain)
    for q, value in enumerate([] if deployed is None else deployed):
        model.y[q].fix(float(value))
    add_assignment_constraints(model, data)
    add_storage_constraints(model, data)
    add_model_constraints(model, data)
    add_compute_constraints(model, data, scaled=tightening.scaled_budgets)
    if tightening.storage_cover:
        add_storage_cover_constraints(model, data)
    if tightening.model_load:
        add_model_load_constraints(model, data)
    if tightening.symmetry:
        add_symmetry_constraints(model, data, prices_transmission=objective != "throughput")
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
        "lexicographic": (data.lexicographic_weight() * model.S - model.T, pyo.maximize),
    }[objective]
    model.objective = pyo.Objective(expr=expression, sense=sense)
    return model


def pyomo_values(model) -> tuple[np.ndarray, np.ndarray]:
    """The solved (x, y) as arrays."""
    x = np.array([model.x[p].value or 0.0 for p in model.x])
    y = np.array([model.y[q].value or 0.0 for q in model.y])
    return x, y


def set_pyomo_values(model, data: AssignmentData, decisions: dict) -> None:
    """The model's x and y set to the 0/1 values of ``decisions`` (a MIP start): a task's
    pair on its server, an edge's deployments; with a fixed placement the pair filter
    already applies it."""
    servers = {s.id: j for j, s in enumerate(data.instance.servers)}
    chosen = {
        (i, servers[decisions["tasks"][t.id]])
        for i, t in enumerate(data.instance.tasks)
        if decisions["tasks"].get(t.id) is not None
    }
    for p, pair in enumerate(data.pairs):
        model.x[p].set_value(1.0 if pair in chosen else 0.0)
    placement = decisions.get("placement") or {}
    hosted = {(servers[e], data.model_index[m]) for e, models in placement.items() for m in models}
    for q, deployment in enumerate(data.deployments):
        if not model.y[q].fixed:
            model.y[q].set_value(1.0 if deployment in hosted else 0.0)


STAGE_SENSE = {
    "throughput": "max",
    "transmission": "min",
    "weighted": "max",
    "lexicographic": "max",
}


def pyomo_formulation(
    instance: AssignmentInstance,
    *,
    objective: Stage = "transmission",
    min_throughput: int | None = None,
    tightening: Tightening = Tightening(),
    relaxed: bool = False,
    deployed: np.ndarray | None = None,
) -> Formulation:
    """:func:`build_pyomo` with its sense, decoder and MIP start (``relaxed``: an LP whose
    fractional values :func:`pyomo_values` reads from ``formulation.model``)."""
    data = AssignmentData.of(instance)
    model = build_pyomo(
        instance,
        objective=objective,
        min_throughput=min_throughput,
        tightening=tightening,
        relaxed=relaxed,
        deployed=deployed,
    )
    return Formulation(
        model,
        "pyomo",
        ProblemClass.LP if relaxed else ProblemClass.MILP,
        STAGE_SENSE[objective],
        lambda: data.decisions(*pyomo_values(model)),
        start=lambda decisions: set_pyomo_values(model, data, decisions),
        namer=pyomo_names(data),
    )


def pyomo_names(data: AssignmentData):
    """Column names in instance ids: ``x(TASK,SERVER)``, ``y(SERVER,MODEL)``."""
    instance = data.instance

    def name(var) -> str:
        index = var.index()
        if var.parent_component().local_name == "x":
            i, j = data.pairs[index]
            return f"x({instance.tasks[i].id},{instance.servers[j].id})"
        j, k = data.deployments[index]
        return f"y({instance.servers[j].id},{instance.models[k].id})"

    return name


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

    data = AssignmentData.of(instance)
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
        # each row in its server's budget_unit, as in the Pyomo model (the very same
        # constraint): in FLOP, coefficients ~1e13 against right-hand sides ~1e14 crash HiGHS
        # 1.16's MIP presolve (a segfault; tests/data/rolling-window-flop.json)
        units = np.array([data.budget_unit(j) for j, _ in budgets])
        rows = load.multiply(1.0 / units[:, None]).tocsr()
        constraints.append(rows @ x <= np.array([data.budget_capacity(j) for j, _ in budgets]))
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
        "lexicographic": cp.Maximize(data.lexicographic_weight() * throughput - transmission),
    }[objective]
    return cp.Problem(goal, constraints), x, y


def cvxpy_formulation(
    instance: AssignmentInstance,
    *,
    objective: Stage = "transmission",
    min_throughput: int | None = None,
) -> Formulation:
    """:func:`build_cvxpy` with its sense and decoder."""
    data = AssignmentData.of(instance)
    problem, x, y = build_cvxpy(instance, objective=objective, min_throughput=min_throughput)
    return Formulation(
        problem,
        "cvxpy",
        ProblemClass.MILP,
        STAGE_SENSE[objective],
        lambda: data.decisions(x.value, None if y is None else y.value),
    )
