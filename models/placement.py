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

Connectivity cuts (``cuts="connectivity"``, graph objective only). Where memory forces the
tensors apart, the LP relaxation spreads every tensor evenly over the devices with a diagonal z
(both ends of every edge on the same fractional mixture), which cuts nothing: its bound is near
0. The cuts couple memory with connectivity through a *core*: a set H of tensors connected by
edges of at least w bytes, with a spanning tree T of those edges, and binaries ``y[d] = 1``
when device d holds a tensor of H. For every integer placement (with z the product of x):

- ``y[d] >= x[q, d]`` for q in H, and ``sum_{q in H} bytes_q x[q, d] <= memory_d y[d]``: a
  device without a tensor of H holds none of H's bytes;
- slots: for a tensor size s, at most ``floor(memory_d / s)`` tensors of H of at least s bytes
  fit on d, so ``sum_{q in H, bytes_q >= s} x[q, d] <= floor(memory_d / s) y[d]``;
- ``sum_d y[d] >= K``, K the fewest devices that can hold H (:meth:`PlacementData.fewest_devices`:
  the largest memories first, by bytes and by the slots of every size);
- tree: ``sum_{e in T} cut_e >= sum_d y[d] - 1`` with ``cut_e`` the mass of z[e] off the
  diagonal (1 when the ends of e are on different devices). Removing the cut edges from the
  tree T leaves one more component than edges removed, and each device holding a tensor of H
  holds a whole component at least, so at least ``sum_d y[d] - 1`` edges of T are cut;
- symmetry: devices that are interchangeable (same memory and FLOP/s, the same rate to and from
  every other device and between them, no pins) can be renumbered in any optimal placement so
  that those holding a tensor of H come first: ``y[d] >= y[d']`` for d before d' in a class.

With every edge of T at least w bytes, the tree cut alone bounds the objective from below by
about ``(K - 1) w / B``; the core is chosen among the components of the graph of edges of at
least w bytes (every distinct w) as the one with the largest ``(K - 1) w``. These rows only
remove fractional points: at integer x, with y set as defined, every row holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from opt_offload.schemas import PlacementInstance
from opt_offload.tolerance import exceeds, tolerated

from .formulation import Formulation, ProblemClass, binary_unit, objective_scale

Cut = Literal["marginal", "pairwise"]
Cuts = Literal["connectivity", "none"]


@dataclass(frozen=True)
class Core:
    """Tensors joined by heavy edges (see the module docstring, connectivity cuts)."""

    nodes: list[int]
    tree: list[int]  # edge indices (into PlacementData.edges) of a spanning tree of the nodes
    devices_needed: int  # K: no feasible placement puts the nodes on fewer devices
    min_edge_bytes: float  # w: every tree edge carries at least this


def fewest(capacities: np.ndarray, demand: float) -> int:
    """The fewest capacities, largest first, that add up to ``demand`` (within the shared
    tolerance); one more than there are when all of them fall short."""
    total = np.cumsum(np.sort(capacities)[::-1])
    enough = [i for i, held in enumerate(total) if not exceeds(demand, held)]
    return enough[0] + 1 if enough else len(capacities) + 1


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

    def slots(self, size: float) -> np.ndarray:
        """[d]: how many tensors of ``size`` bytes fit on each device (evaluator tolerance)."""
        return np.floor(np.array([tolerated(m) for m in self.memory]) / size)

    def fewest_devices(self, nodes: list[int]) -> int:
        """A lower bound on the devices any feasible placement spreads ``nodes`` over: by
        their bytes and, for each size s, by the slots for their tensors of at least s."""
        sizes = self.node_bytes[nodes]
        need = fewest(self.memory, float(sizes.sum()))
        for size in np.unique(sizes[sizes > 0]):
            need = max(need, fewest(self.slots(size), float((sizes >= size).sum())))
        return need

    @cached_property
    def core(self) -> Core | None:
        """The component of a heavy-edge graph with the largest ``(K - 1) w`` (module
        docstring), or None when no component needs two devices."""
        import networkx as nx

        best, score = None, 0.0
        for threshold in sorted({nbytes for _, _, nbytes in self.edges}, reverse=True):
            heavy = nx.Graph()
            for e, (u, v, nbytes) in enumerate(self.edges):
                if nbytes >= threshold:
                    heavy.add_edge(u, v, bytes=nbytes, edge=e)
            for component in nx.connected_components(heavy):
                nodes = sorted(component)
                needed = self.fewest_devices(nodes)
                if (needed - 1) * threshold > score:
                    tree = nx.maximum_spanning_tree(heavy.subgraph(nodes), weight="bytes")
                    edges = sorted(tree.edges[a, b]["edge"] for a, b in tree.edges)
                    best, score = Core(nodes, edges, needed, threshold), (needed - 1) * threshold
        return best

    def interchangeable(self, a: int, b: int) -> bool:
        """Swapping devices a and b maps every placement to one of the same cost and
        feasibility (graph objective): same memory, FLOP/s and rates, neither pinned."""
        devices, rate = self.instance.devices, self.seconds_per_byte
        others = [k for k in range(len(devices)) if k not in (a, b)]
        return (
            devices[a].memory_bytes == devices[b].memory_bytes
            and devices[a].flops == devices[b].flops
            and rate[a, b] == rate[b, a]
            and all(rate[a, k] == rate[b, k] and rate[k, a] == rate[k, b] for k in others)
            and not {a, b} & set(self.pinned.values())
        )

    @cached_property
    def device_classes(self) -> list[list[int]]:
        """Devices grouped into classes of pairwise interchangeable ones, in index order."""
        classes: list[list[int]] = []
        for d in range(len(self.devices)):
            home = next((c for c in classes if all(self.interchangeable(k, d) for k in c)), None)
            if home is None:
                classes.append([d])
            else:
                home.append(d)
        return classes

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


def cut_indicator(model, e: int, cut: Cut):
    """1 when edge e's ends are on different devices: z's mass off the diagonal (in the
    pairwise form z is only bounded below by the product, so this is at least that)."""
    if cut == "marginal":
        return 1 - sum(model.z[e, d, d] for d in model.D)
    return sum(model.z[e, d1, d2] for d1, d2 in model.pairs)


def add_connectivity_cuts(model, data: PlacementData, cut: Cut) -> None:
    """The connectivity cuts on ``data.core`` (module docstring, with the validity argument)."""
    import pyomo.environ as pyo

    core = data.core
    if core is None:
        return
    nodes = core.nodes
    model.H = pyo.Set(initialize=nodes)
    model.y = pyo.Var(model.D, domain=pyo.Binary)
    model.core_holds = pyo.Constraint(model.H, model.D, rule=lambda m, q, d: m.y[d] >= m.x[q, d])

    def memory(m, d):
        unit = binary_unit(data.memory[d])
        used = sum(data.node_bytes[q] / unit * m.x[q, d] for q in nodes)
        return used <= data.memory[d] / unit * m.y[d]

    model.core_memory = pyo.Constraint(model.D, rule=memory)
    sizes = data.node_bytes[nodes]
    slot_rows = [
        (size, d, slots)
        for size in np.unique(sizes[sizes > 0])
        for d, slots in enumerate(data.slots(size))
        if slots < (sizes >= size).sum()
    ]
    model.core_slots = pyo.Constraint(
        range(len(slot_rows)),
        rule=lambda m, r: (
            sum(m.x[q, slot_rows[r][1]] for q in nodes if data.node_bytes[q] >= slot_rows[r][0])
            <= slot_rows[r][2] * m.y[slot_rows[r][1]]
        ),
    )
    used = sum(model.y[d] for d in model.D)
    model.core_devices = pyo.Constraint(expr=used >= core.devices_needed)
    model.core_tree = pyo.Constraint(
        expr=sum(cut_indicator(model, e, cut) for e in core.tree) >= used - 1
    )
    pairs = [(c[i], c[i + 1]) for c in data.device_classes for i in range(len(c) - 1)]
    model.interchangeable = pyo.Constraint(
        range(len(pairs)), rule=lambda m, i: m.y[pairs[i][0]] >= m.y[pairs[i][1]]
    )


def build_pyomo(
    instance: PlacementInstance,
    cut: Cut = "marginal",
    cuts: Cuts = "connectivity",
    below_s: float | None = None,
):
    """The MILP as a Pyomo ConcreteModel; ``model.x`` is indexed by (node, device) positions.
    The objective is in seconds times ``PlacementData.scale``; ``cuts="connectivity"`` adds
    the connectivity cuts to the graph objective (the paper objective has no z to cut);
    ``below_s`` (> 0) keeps only placements costing at most that many seconds (under a known
    placement's cost: the model then holds only the placements that beat it)."""
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
        if cuts == "connectivity" and data.edges:
            add_connectivity_cuts(model, data, cut)
    model.transfer_s = pyo.Objective(expr=data.scale * expression, sense=pyo.minimize)
    if below_s is not None:
        # stated relative to below_s, so that HiGHS's row tolerance reads 1 - mip_gap apart
        # from 1 (in seconds, or scaled, a placement at the known cost passes as within it)
        model.below = pyo.Constraint(expr=expression / below_s <= 1)
    return model


def pyomo_formulation(
    instance: PlacementInstance,
    cut: Cut = "marginal",
    cuts: Cuts = "connectivity",
    below_s: float | None = None,
) -> Formulation:
    """:func:`build_pyomo` with its sense and decoder; the objective is scaled (``data.scale``)."""
    data = PlacementData(instance)
    model = build_pyomo(instance, cut, cuts, below_s)
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
    """Column names in instance ids: ``x(NODE,DEVICE)``, ``z(SOURCE,TARGET,DEVICE1,DEVICE2)``,
    ``y(DEVICE)`` (the connectivity cuts' device-holds-the-core binaries)."""

    def name(var) -> str:
        index = var.index()
        component = var.parent_component().local_name
        if component == "x":
            p, d = index
            return f"x({data.nodes[p]},{data.devices[d]})"
        if component == "y":
            return f"y({data.devices[index]})"
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
