"""Problem C, tensor placement (design §6; 003 paper eqs. 2, 2a-2b) as a MILP, in Pyomo and
in CVXPY.

Variables ``x[p, d] = 1`` when tensor p sits on device d. Constraints: (2b) one device per
tensor, (2a) memory, pinned tensors, and the optional compute-balance bound
``sum_p flop_p / flops_d x[p, d] <= compute_time_max_s``. Objectives (seconds, minimised):

- ``paper``, eq. (2): ``x_{p,d1} (1 - x_{p,d2})`` is, under (2b), ``x_{p,d1}`` for d2 != d1, so
  the product linearises exactly to ``sum_{p,d} cost[p, d] x[p, d]`` with
  ``cost[p, d] = sum_{d2 != d} Acc(p, d, d2) Size(p) / B(d, d2)`` (the evaluator's reading);
- ``graph``, the cut cost of design §6: ``sum_(u,v) sum_{d1 != d2} bytes(u, v) / B(d1, d2)
  z[e, d1, d2]`` with z the indicator of "u on d1 and v on d2". Two linearisations:
  ``pairwise`` is the textbook ``z >= x[u, d1] + x[v, d2] - 1``; ``marginal`` (default) makes
  ``z[e, ., .]`` a joint distribution whose marginals are ``x[u, .]`` and ``x[v, .]``
  (``sum_{d2} z[e, d1, d2] = x[u, d1]``, ``sum_{d1} z[e, d1, d2] = x[v, d2]``, diagonal
  included). At integer x both force z to the product; the marginal form's LP relaxation is
  tighter (it is the local polytope of MAP inference, exact on trees without side
  constraints), which is what lets HiGHS prove optimality on layer graphs quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from opt_offload.schemas import PlacementInstance

from .formulation import Formulation, ProblemClass, binary_unit, objective_scale

Cut = Literal["marginal", "pairwise"]


@dataclass(frozen=True)
class PlacementData:
    """The instance as index lists and coefficient arrays, shared by both modelling layers."""

    instance: PlacementInstance

    @cached_property
    def nodes(self) -> list[str]:
        return [n.id for n in self.instance.graph.nodes]

    @cached_property
    def devices(self) -> list[str]:
        return [d.id for d in self.instance.devices]

    @cached_property
    def edges(self) -> list[tuple[int, int, float]]:
        """(source index, target index, bytes) of the edges that can cost anything."""
        index = {n: i for i, n in enumerate(self.nodes)}
        return [
            (index[e.source], index[e.target], e.bytes)
            for e in self.instance.graph.edges
            if e.source != e.target and e.bytes > 0
        ]

    @cached_property
    def node_bytes(self) -> np.ndarray:
        return np.array([n.bytes for n in self.instance.graph.nodes])

    @cached_property
    def memory(self) -> np.ndarray:
        return np.array([d.memory_bytes for d in self.instance.devices])

    @cached_property
    def compute_s(self) -> np.ndarray:
        """[p, d]: seconds device d needs for tensor p's operator."""
        flop = np.array([n.flop for n in self.instance.graph.nodes])
        flops = np.array([d.flops for d in self.instance.devices])
        return flop[:, None] / flops[None, :]

    @cached_property
    def seconds_per_byte(self) -> np.ndarray:
        """[d1, d2]: 1 / B(d1, d2), zero on the diagonal."""
        inverse = np.zeros((len(self.devices), len(self.devices)))
        for i, d1 in enumerate(self.devices):
            for j, d2 in enumerate(self.devices):
                if i != j:
                    inverse[i, j] = 1.0 / self.instance.rate(d1, d2)
        return inverse

    @cached_property
    def paper_cost(self) -> np.ndarray:
        """[p, d]: eq. (2)'s cost of tensor p on device d (see the module docstring)."""
        cost = np.zeros((len(self.nodes), len(self.devices)))
        position = {d: j for j, d in enumerate(self.devices)}
        for i, node in enumerate(self.instance.graph.nodes):
            readers = [position[d] for d in node.accessed_by]
            for j in readers:
                cost[i, j] = node.bytes * sum(self.seconds_per_byte[j, k] for k in readers)
        return cost

    @cached_property
    def pinned(self) -> dict[int, int]:
        """node index -> device index."""
        return {self.nodes.index(p): self.devices.index(d) for p, d in self.instance.pinned.items()}

    @cached_property
    def objective_coefficients(self) -> np.ndarray:
        """Every cost coefficient of the objective, in seconds (for :func:`objective_scale`)."""
        if self.instance.objective == "paper":
            return self.paper_cost.ravel()
        nbytes = np.array([e[2] for e in self.edges])
        return np.outer(nbytes, self.seconds_per_byte.ravel()).ravel()

    @cached_property
    def scale(self) -> float:
        """The objective is stated in seconds times this (see models/formulation.py)."""
        return objective_scale(self.objective_coefficients)

    def decisions(self, assignment: np.ndarray) -> dict[str, str]:
        """An (n, D) 0/1 matrix as instance decisions; each row's largest entry wins, which
        absorbs the solver's integrality tolerance."""
        return {p: self.devices[int(np.argmax(row))] for p, row in zip(self.nodes, assignment)}


# --- Pyomo ------------------------------------------------------------------------------------


def add_assignment(model, data: PlacementData) -> None:
    """(2b): every tensor on exactly one device; pinned tensors fixed."""
    import pyomo.environ as pyo

    model.assign = pyo.Constraint(model.P, rule=lambda m, p: sum(m.x[p, d] for d in m.D) == 1)
    for p, d in data.pinned.items():
        model.x[p, d].fix(1)


def add_memory(model, data: PlacementData) -> None:
    """(2a): the tensors on a device fit its memory, in units of 2^k near the memory."""
    import pyomo.environ as pyo

    def rule(m, d):
        unit = binary_unit(data.memory[d])  # bytes near 1e10, exactly: see binary_unit
        return sum(data.node_bytes[p] / unit * m.x[p, d] for p in m.P) <= data.memory[d] / unit

    model.memory = pyo.Constraint(model.D, rule=rule)


def add_compute_balance(model, data: PlacementData) -> None:
    """Each device's compute time stays under compute_time_max_s (when given)."""
    import pyomo.environ as pyo

    bound = data.instance.compute_time_max_s
    if bound is None:
        return
    model.compute = pyo.Constraint(
        model.D, rule=lambda m, d: sum(data.compute_s[p, d] * m.x[p, d] for p in m.P) <= bound
    )


def paper_objective(model, data: PlacementData):
    """Eq. (2), linear under (2b)."""
    cost = data.paper_cost
    return sum(cost[p, d] * model.x[p, d] for p in model.P for d in model.D if cost[p, d] > 0)


def add_cut_variables(model, data: PlacementData, cut: Cut) -> None:
    """z[e, d1, d2] = 1 when edge e's source sits on d1 and its target on d2."""
    import pyomo.environ as pyo

    model.E = pyo.RangeSet(0, len(data.edges) - 1)
    if cut == "marginal":
        model.z = pyo.Var(model.E, model.D, model.D, bounds=(0, 1))
        model.source_marginal = pyo.Constraint(
            model.E,
            model.D,
            rule=lambda m, e, d1: sum(m.z[e, d1, d2] for d2 in m.D) == m.x[data.edges[e][0], d1],
        )
        model.target_marginal = pyo.Constraint(
            model.E,
            model.D,
            rule=lambda m, e, d2: sum(m.z[e, d1, d2] for d1 in m.D) == m.x[data.edges[e][1], d2],
        )
    else:
        model.pairs = pyo.Set(initialize=[(a, b) for a in model.D for b in model.D if a != b])
        model.z = pyo.Var(model.E, model.pairs, bounds=(0, 1))
        model.both_ends = pyo.Constraint(
            model.E,
            model.pairs,
            rule=lambda m, e, d1, d2: (
                m.z[e, d1, d2] >= m.x[data.edges[e][0], d1] + m.x[data.edges[e][1], d2] - 1
            ),
        )


def graph_objective(model, data: PlacementData):
    """design §6: bytes crossing from d1 to d2 over B(d1, d2)."""
    rate = data.seconds_per_byte
    return sum(
        nbytes * rate[d1, d2] * model.z[e, d1, d2]
        for e, (_, _, nbytes) in enumerate(data.edges)
        for d1 in model.D
        for d2 in model.D
        if d1 != d2
    )


def build_pyomo(instance: PlacementInstance, cut: Cut = "marginal"):
    """The MILP as a Pyomo ConcreteModel; ``model.x`` is indexed by (node, device) positions.
    The objective is in seconds times ``PlacementData.scale``."""
    import pyomo.environ as pyo

    data = PlacementData(instance)
    model = pyo.ConcreteModel(name=instance.name)
    model.P = pyo.RangeSet(0, len(data.nodes) - 1)
    model.D = pyo.RangeSet(0, len(data.devices) - 1)
    model.x = pyo.Var(model.P, model.D, domain=pyo.Binary)
    add_assignment(model, data)
    add_memory(model, data)
    add_compute_balance(model, data)
    if instance.objective == "paper":
        expression = paper_objective(model, data)
    else:
        add_cut_variables(model, data, cut)
        expression = graph_objective(model, data)
    model.transfer_s = pyo.Objective(expr=data.scale * expression, sense=pyo.minimize)
    return model


def pyomo_formulation(instance: PlacementInstance, cut: Cut = "marginal") -> Formulation:
    """:func:`build_pyomo` with its sense and decoder; the objective is scaled (``data.scale``)."""
    data = PlacementData(instance)
    model = build_pyomo(instance, cut)
    return Formulation(
        model,
        "pyomo",
        ProblemClass.MILP,
        "min",
        lambda: data.decisions(pyomo_assignment(model)),
        objective_scale=data.scale,
        namer=pyomo_names(data),
        # z is minimised at a positive cost and bounded below by the product of two binaries
        # (pairwise) or equal to it (marginal): at integer x an optimal z is integer
        integral_continuous=True,
    )


def pyomo_names(data: PlacementData):
    """Column names in instance ids: ``x(NODE,DEVICE)``, ``z(SOURCE,TARGET,DEVICE1,DEVICE2)``."""

    def name(var) -> str:
        index = var.index()
        if var.parent_component().local_name == "x":
            p, d = index
            return f"x({data.nodes[p]},{data.devices[d]})"
        e, d1, d2 = index
        source, target, _ = data.edges[e]
        ends = (data.nodes[source], data.nodes[target], data.devices[d1], data.devices[d2])
        return f"z({','.join(ends)})"

    return name


def pyomo_assignment(model) -> np.ndarray:
    """The solved x as an (n, D) array."""
    return np.array([[model.x[p, d].value or 0.0 for d in model.D] for p in model.P])


# --- CVXPY ------------------------------------------------------------------------------------


def build_cvxpy(instance: PlacementInstance):
    """The same MILP (marginal cut form) in CVXPY, vectorised, the objective in seconds times
    ``PlacementData.scale``. Returns (problem, x)."""
    import cvxpy as cp
    import scipy.sparse as sp

    data = PlacementData(instance)
    n, k = len(data.nodes), len(data.devices)
    x = cp.Variable((n, k), boolean=True)
    constraints = [cp.sum(x, axis=1) == 1, data.node_bytes @ x <= data.memory]  # (2b), (2a)
    constraints += [x[p, d] == 1 for p, d in data.pinned.items()]
    if instance.compute_time_max_s is not None:
        constraints.append(
            cp.sum(cp.multiply(data.compute_s, x), axis=0) <= instance.compute_time_max_s
        )
    if instance.objective == "paper":
        objective = cp.sum(cp.multiply(data.paper_cost, x))
    elif data.edges:
        m = len(data.edges)
        sources = sp.csr_matrix(([1.0] * m, (range(m), [e[0] for e in data.edges])), shape=(m, n))
        targets = sp.csr_matrix(([1.0] * m, (range(m), [e[1] for e in data.edges])), shape=(m, n))
        # z[e] flattened row-major: column d1 * k + d2
        z = cp.Variable((m, k * k), nonneg=True)
        row_sum = np.kron(np.eye(k), np.ones((k, 1)))  # (k*k, k): sums over d2
        col_sum = np.kron(np.ones((k, 1)), np.eye(k))  # (k*k, k): sums over d1
        constraints += [z @ row_sum == sources @ x, z @ col_sum == targets @ x]
        nbytes = np.array([e[2] for e in data.edges])
        objective = cp.sum(cp.multiply(np.outer(nbytes, data.seconds_per_byte.ravel()), z))
    else:
        objective = cp.Constant(0.0)
    return cp.Problem(cp.Minimize(data.scale * objective), constraints), x


def cvxpy_formulation(instance: PlacementInstance) -> Formulation:
    """:func:`build_cvxpy` with its sense and decoder."""
    data = PlacementData(instance)
    problem, x = build_cvxpy(instance)
    return Formulation(
        problem,
        "cvxpy",
        ProblemClass.MILP,
        "min",
        lambda: data.decisions(x.value),
        objective_scale=data.scale,
    )
