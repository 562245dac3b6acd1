"""Problem A, per-slot admission with bandwidth (design §4, PRADA eq. 28), as formulations.

Three statements of the same problem, all built from one :class:`SlotData`:

- the closed form for a fixed uploading set S (design §4): the best split is
  ``B_i = B sqrt(c_i) / sum_{j in S} sqrt(c_j)`` and the communication penalty is
  ``beta (sum_{i in S} sqrt(c_i))^2 / B`` (:func:`split_bandwidth`, :func:`slot_value`);
  S is the immediate set A with ``queue.upload = priced`` and A with the queued set Q with
  ``shared`` (a queued request then uploads now and costs ``beta (c_i / B_i + TQ_i)``);
  B is the band left by the uploads in flight, ``bandwidth_hz - server.uplink_busy_hz``;
- a Pyomo MILP in which the perspective term ``c_i x_i / B_i`` is bounded from below by
  tangent (outer-approximation) cuts (:func:`pyomo_model`, :func:`add_tangent_cut`);
- a CVXPY MISOCP with ``quad_over_lin(sqrt(c_i) x_i, B_i) <= t_i`` (:func:`cvxpy_problem`).

Units. Inside the models bandwidth is in MHz and time in milliseconds, so that with PRADA's
Table 3 (B = 4e7 Hz, uploads of a fraction of a millisecond) every coefficient is of order one:
raw hertz and seconds put ``c_i / B_i`` near 1e-4 next to bandwidths near 1e7, which is where a
MISOCP solve was seen to stop 3% short of the optimum. ``c_i`` is held in
``kbit / (bit/s/Hz)`` so that ``c_i / B_i`` with ``B_i`` in MHz is milliseconds.

Only the candidates that can upload (not in outage, eq. 5) get variables; the others are local.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from opt_offload.schemas import AdmissionInstance

from .formulation import Formulation, ProblemClass

HZ_PER_MHZ = 1e6
MS_PER_S = 1e3
# c_i / B_i in seconds -> milliseconds when c is divided by this and B is in MHz
UPLOAD_SCALE = HZ_PER_MHZ / MS_PER_S


@dataclass(frozen=True)
class SlotData:
    """One slot of problem A in model units (MHz, ms); positions follow the instance's list."""

    ids: tuple[str, ...]
    eligible: tuple[bool, ...]  # False in outage: SNR strictly below the threshold (eq. 5)
    upload: tuple[float, ...]  # c_i in kbit/(bit/s/Hz): c_i / B_i[MHz] = TC_i in ms (eq. 25)
    gain: tuple[float, ...]  # g_i = Q(x_i,1) - Q(x_i,0)
    queue_delay_ms: tuple[float, ...]  # TQ_i
    free_slots: int  # M - |M_t|
    bandwidth_mhz: float  # B - uplink_busy_hz: the band this slot's uploads share
    reference_bandwidth_mhz: float  # B_ref, at which a queued request's upload is priced
    beta_per_ms: float
    # queue.upload 'shared': a queued request uploads now in the slot's band (c_i / B_i + TQ_i)
    shared: bool = False

    @classmethod
    def from_instance(
        cls, instance: AdmissionInstance, queue_delay_s: Mapping[str, float] | None = None
    ) -> SlotData:
        """Model data of ``instance``; ``queue_delay_s`` overrides TQ_i (mode ``estimate``)."""
        delays = {c.id: c.queue_delay_s or 0.0 for c in instance.candidates}
        delays.update(queue_delay_s or {})
        return cls(
            ids=tuple(c.id for c in instance.candidates),
            eligible=tuple(instance.can_upload(c) for c in instance.candidates),
            upload=tuple(
                instance.upload_coefficient(c) / UPLOAD_SCALE for c in instance.candidates
            ),
            gain=tuple(c.gain for c in instance.candidates),
            queue_delay_ms=tuple(MS_PER_S * delays[c.id] for c in instance.candidates),
            free_slots=instance.server.free_slots,
            bandwidth_mhz=instance.available_bandwidth_hz / HZ_PER_MHZ,
            reference_bandwidth_mhz=instance.reference_bandwidth_hz / HZ_PER_MHZ,
            beta_per_ms=instance.beta / MS_PER_S,
            shared=instance.shared_upload,
        )

    @property
    def candidates(self) -> list[int]:
        """Positions of the candidates that may upload this slot."""
        return [i for i, ok in enumerate(self.eligible) if ok]

    def queue_value(self, i: int) -> float:
        """Value of queueing i (eq. 27, alpha = 1) apart from a shared upload's band:
        'priced', g_i - beta (c_i / B_ref + TQ_i); 'shared', g_i - beta TQ_i (its upload
        c_i / B_i is in the communication penalty of the uploading set)."""
        return self.queue_value_at(self.gain[i], self.upload[i], self.queue_delay_ms[i])

    def queue_value_at(self, gain, upload, queue_delay_ms):
        """:meth:`queue_value` from a candidate's g, c and TQ: numbers, or arrays element by
        element (the threshold rules on arrays)."""
        upload_ms = 0.0 if self.shared else upload / self.reference_bandwidth_mhz
        return gain - self.beta_per_ms * (upload_ms + queue_delay_ms)

    def queue_cost(self, i: int) -> float:
        """What queueing costs beyond the gain, apart from a shared upload's band."""
        return self.gain[i] - self.queue_value(i)

    def uploading(self, immediate: Collection[int], queued: Collection[int]) -> set[int]:
        """The candidates that upload in this slot's band: the immediate ones, and with
        'shared' the queued ones too."""
        return set(immediate) | set(queued) if self.shared else set(immediate)


# --- the closed form (design §4) -----------------------------------------------------------


def split_bandwidth(data: SlotData, uploading: Collection[int]) -> dict[int, float]:
    """Best split of the band over the uploading set (A, or A and Q with 'shared'), in MHz:
    B_i proportional to sqrt(c_i)."""
    roots = {i: math.sqrt(data.upload[i]) for i in uploading}
    total = sum(roots.values())
    return {i: data.bandwidth_mhz * root / total for i, root in roots.items()}


def communication_penalty(data: SlotData, uploading: Collection[int]) -> float:
    """min over splits of beta sum_{i in S} c_i / B_i = beta (sum_{i in S} sqrt(c_i))^2 / B
    over the uploading set S (Cauchy-Schwarz, equality at B_i ~ sqrt(c_i))."""
    root_sum = sum(math.sqrt(data.upload[i]) for i in uploading)
    return data.beta_per_ms * root_sum**2 / data.bandwidth_mhz


def slot_value(data: SlotData, immediate: Collection[int], queued: Collection[int]) -> float:
    """Objective of design §4 (constants dropped) for these sets with the best split."""
    return (
        sum(data.gain[i] for i in immediate)
        + sum(data.queue_value(i) for i in queued)
        - communication_penalty(data, data.uploading(immediate, queued))
    )


# --- Pyomo: MILP with outer-approximation cuts ----------------------------------------------


def pyomo_model(data: SlotData):
    """The MILP of design §4 with ``t_i >= c_i x_i / B_i`` left to tangent cuts.

    Components: ``immediate[i]`` (x_i), ``queued[i]`` (y_i), ``bandwidth[i]`` (B_i, MHz),
    ``upload_ms[i]`` (t_i), and the ConstraintList ``cuts``, which starts with one tangent per
    candidate at the full band (plus the even shares B/k) and grows with :func:`add_tangent_cut`.
    """
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name="admission")
    m.I = pyo.Set(initialize=data.candidates, ordered=True)
    m.immediate = pyo.Var(m.I, domain=pyo.Binary)
    m.queued = pyo.Var(m.I, domain=pyo.Binary)
    m.bandwidth = pyo.Var(m.I, bounds=(0.0, data.bandwidth_mhz))
    m.upload_ms = pyo.Var(m.I, bounds=(0.0, None))
    add_action_constraints(m)
    add_capacity_constraint(m, data)
    add_bandwidth_constraints(m, data)
    add_initial_cuts(m, data)
    m.value = pyo.Objective(
        expr=sum(
            data.gain[i] * m.immediate[i]
            + data.queue_value(i) * m.queued[i]
            - data.beta_per_ms * m.upload_ms[i]
            for i in m.I
        ),
        sense=pyo.maximize,
    )
    return m


def add_action_constraints(m) -> None:
    """x_i + y_i <= 1: one action per candidate (local when both are 0)."""
    import pyomo.environ as pyo

    m.one_action = pyo.Constraint(m.I, rule=lambda m, i: m.immediate[i] + m.queued[i] <= 1)


def add_capacity_constraint(m, data: SlotData) -> None:
    """sum_i x_i <= M - |M_t| (eq. 28, first constraint)."""
    import pyomo.environ as pyo

    m.capacity = pyo.Constraint(expr=sum(m.immediate[i] for i in m.I) <= data.free_slots)


def uploads(m, data: SlotData, i: int):
    """z_i, 1 when i uploads in this slot's band: x_i, or x_i + y_i with 'shared'."""
    return m.immediate[i] + m.queued[i] if data.shared else m.immediate[i]


def add_bandwidth_constraints(m, data: SlotData) -> None:
    """sum_i B_i <= B (eq. 28, second constraint; B less the band of uploads in flight) and
    B_i <= B z_i (no band unless i uploads now)."""
    import pyomo.environ as pyo

    m.band_budget = pyo.Constraint(expr=sum(m.bandwidth[i] for i in m.I) <= data.bandwidth_mhz)
    m.band_if_admitted = pyo.Constraint(
        m.I, rule=lambda m, i: m.bandwidth[i] <= data.bandwidth_mhz * uploads(m, data, i)
    )


def add_tangent_cut(m, data: SlotData, i: int, at_mhz: float) -> None:
    """Tangent of the perspective c z^2 / B at (z, B) = (1, B^): t >= 2 c z / B^ - c B / B^^2.

    Valid everywhere on z in [0, 1], B > 0 (the perspective is convex; z^2 = z for binary z)
    and tight at z = 1, B = B^, so the MILP value is an upper bound that the cuts tighten.
    """
    c = data.upload[i]
    m.cuts.add(
        m.upload_ms[i] >= 2.0 * c / at_mhz * uploads(m, data, i) - c / at_mhz**2 * m.bandwidth[i]
    )


def add_initial_cuts(m, data: SlotData) -> None:
    """Tangents at the even shares B/k, k = 1..uploads possible: where a split of k lies."""
    import pyomo.environ as pyo

    m.cuts = pyo.ConstraintList()
    most = len(data.candidates) if data.shared else min(data.free_slots, len(data.candidates))
    shares = range(1, max(1, most) + 1)
    for i in data.candidates:
        for k in shares:
            add_tangent_cut(m, data, i, data.bandwidth_mhz / k)


def pyomo_admitted(m) -> tuple[frozenset[int], frozenset[int]]:
    """The solved (immediate, queued) positions of :func:`pyomo_model`."""
    immediate = frozenset(i for i in m.I if m.immediate[i].value > 0.5)
    queued = frozenset(i for i in m.I if m.queued[i].value > 0.5)
    return immediate, queued


def pyomo_formulation(data: SlotData) -> Formulation:
    """:func:`pyomo_model` with its sense and decoder (the admitted and queued positions)."""
    m = pyomo_model(data)
    return Formulation(
        m, "pyomo", ProblemClass.MILP, "max", lambda: pyomo_admitted(m), namer=pyomo_names(data)
    )


def pyomo_names(data: SlotData):
    """Column names in candidate ids: ``immediate(ID)``, ``queued(ID)``, ``bandwidth(ID)``
    (MHz), ``upload_ms(ID)``."""

    def name(var) -> str:
        return f"{var.parent_component().local_name}({data.ids[var.index()]})"

    return name


# --- CVXPY: MISOCP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CvxpyAdmission:
    """The problem and the variables a solver reads back (indexed by ``positions``)."""

    problem: object  # cvxpy.Problem
    positions: list[int]
    immediate: object  # cvxpy.Variable, boolean
    queued: object  # cvxpy.Variable, boolean
    bandwidth: object  # cvxpy.Variable, MHz


def cvxpy_problem(data: SlotData) -> CvxpyAdmission:
    """design §4 as a MISOCP: ``quad_over_lin(sqrt(c_i) z_i, B_i) <= t_i`` is the rotated
    cone ``t_i B_i >= c_i z_i^2``, the perspective of c_i / B_i, with z_i = x_i (or
    x_i + y_i when queued uploads share the band)."""
    import cvxpy as cp
    import numpy as np

    positions = data.candidates
    n = len(positions)
    upload = np.array([data.upload[i] for i in positions])
    gain = np.array([data.gain[i] for i in positions])
    queue_value = np.array([data.queue_value(i) for i in positions])
    x = cp.Variable(n, boolean=True, name="immediate")
    y = cp.Variable(n, boolean=True, name="queued")
    band = cp.Variable(n, nonneg=True, name="bandwidth_mhz")
    t = cp.Variable(n, nonneg=True, name="upload_ms")
    z = x + y if data.shared else x
    constraints = [
        x + y <= 1,
        cp.sum(x) <= data.free_slots,
        cp.sum(band) <= data.bandwidth_mhz,
        band <= data.bandwidth_mhz * z,
    ]
    constraints += [cp.quad_over_lin(np.sqrt(upload[k]) * z[k], band[k]) <= t[k] for k in range(n)]
    objective = cp.Maximize(gain @ x + queue_value @ y - data.beta_per_ms * cp.sum(t))
    return CvxpyAdmission(cp.Problem(objective, constraints), positions, x, y, band)


def cvxpy_formulation(data: SlotData) -> Formulation:
    """:func:`cvxpy_problem` with its sense and decoder (the admitted and queued positions)."""
    stated = cvxpy_problem(data)

    def decode() -> tuple[frozenset[int], frozenset[int]]:
        positions = stated.positions
        immediate = frozenset(i for i, x in zip(positions, stated.immediate.value) if x > 0.5)
        queued = frozenset(i for i, y in zip(positions, stated.queued.value) if y > 0.5)
        return immediate, queued

    return Formulation(stated.problem, "cvxpy", ProblemClass.MISOCP, "max", decode)


# --- PySCIPOpt: the same MISOCP, stated directly -------------------------------------------


def scip_formulation(data: SlotData) -> Formulation:
    """:func:`cvxpy_problem`'s MISOCP stated in PySCIPOpt, so that SCIP's own status and dual
    bound are read (the ``scip`` backend): ``t_i B_i >= c_i z_i^2`` is the rotated cone, with
    z_i = x_i (or x_i + y_i when queued uploads share the band); variables named in candidate
    ids as in :func:`pyomo_names`."""
    from pyscipopt import Model, quicksum

    model = Model("admission")
    positions = data.candidates
    band_max = data.bandwidth_mhz

    def named(prefix: str, **bounds) -> list:
        return [model.addVar(f"{prefix}({data.ids[i]})", **bounds) for i in positions]

    x, y = named("immediate", vtype="B"), named("queued", vtype="B")
    band = named("bandwidth", lb=0.0, ub=band_max)
    t = named("upload_ms", lb=0.0, ub=None)
    for k, i in enumerate(positions):
        z = x[k] + y[k] if data.shared else x[k]
        model.addCons(x[k] + y[k] <= 1)  # one action
        model.addCons(band[k] <= band_max * z)  # no band unless i uploads now
        model.addCons(t[k] * band[k] >= data.upload[i] * z * z)  # the rotated cone
    model.addCons(quicksum(x) <= data.free_slots)  # eq. (28), first constraint
    model.addCons(quicksum(band) <= band_max)  # eq. (28), second constraint
    model.setObjective(
        quicksum(
            data.gain[i] * x[k] + data.queue_value(i) * y[k] - data.beta_per_ms * t[k]
            for k, i in enumerate(positions)
        ),
        sense="maximize",
    )

    def decode() -> tuple[frozenset[int], frozenset[int]]:
        best = model.getBestSol()

        def chosen(variables) -> frozenset[int]:
            values = (model.getSolVal(best, v) for v in variables)
            return frozenset(i for i, v in zip(positions, values) if v > 0.5)

        return chosen(x), chosen(y)

    return Formulation(model, "pyscipopt", ProblemClass.MISOCP, "max", decode)
