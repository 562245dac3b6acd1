"""The backend contract: one small class per modelling layer x solver (STYLE: CVXPY's
per-solver ``STATUS_MAP``), and the registry that names them.

A backend takes a :class:`~opt_offload.models.formulation.Formulation` of the layer it speaks
(Pyomo or CVXPY) and a problem class it declares (``classes``), solves it under
:class:`Limits`, and returns a :class:`BackendResult`: the termination in our words (read
through ``STATUS_MAP``, an explicit table over every member of the solver's native status
enum), the decoded decisions when the solver holds an incumbent, and its proven dual bound.

A new backend joins by subclassing :class:`Backend` and decorating the class with
:func:`register_backend`; the exact solvers pick backends by name from this registry.
"""

from __future__ import annotations

import importlib.util
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any, ClassVar

from opt_offload.errors import InputError, SolverUnavailable
from opt_offload.models.formulation import Formulation, Layer, ProblemClass
from opt_offload.registry import Option, SolverResult
from opt_offload.schemas import Status

DEFAULT_MIP_GAP = 1e-6


@dataclass(frozen=True)
class Limits:
    """What a solve may spend and when it may stop: ``time_limit`` seconds (None: none), the
    relative ``mip_gap`` at which the solver may call its incumbent optimal and, when given,
    the absolute ``mip_abs_gap`` (in the model's objective units) at which it may as well;
    ``workers``, the threads of a solver that takes a count (CP-SAT, Gurobi, CPLEX, CBC; None:
    its own default)."""

    time_limit: float | None = None
    mip_gap: float = DEFAULT_MIP_GAP
    _: KW_ONLY  # the rarer two by name only, so that no call mistakes one for the other
    mip_abs_gap: float | None = None
    workers: int | None = None

    def after(self, start: float) -> Limits:
        """The same limits less the time spent since ``start`` (perf_counter); what is left
        is at least a moment, so that the solver still returns its incumbent and bound."""
        if self.time_limit is None:
            return self
        left = self.time_limit - (time.perf_counter() - start)
        return replace(self, time_limit=max(left, MIN_TIME_S))

    @property
    def seconds(self) -> float | None:
        """The time limit as a solver takes it: None, or at least a moment."""
        return None if self.time_limit is None else max(self.time_limit, MIN_TIME_S)


MIN_TIME_S = 1e-3


@dataclass(frozen=True)
class BackendResult:
    """One solve: termination, decisions (None without an incumbent), the proven bound and
    the solver's own incumbent value in the problem's units, and the native status it read."""

    status: Status
    decisions: Any | None
    bound: float | None
    incumbent: float | None
    native: str
    message: str | None = None

    def solver_result(self) -> SolverResult:
        """As a registered solver's answer (the judge evaluates the decisions)."""
        return SolverResult(self.status, self.decisions, self.bound, self.message)


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def unscaled(value: float | None, formulation: Formulation) -> float | None:
    """A solver's objective value or bound in the problem's units, None unless finite."""
    value = finite(value)
    return None if value is None else value / formulation.objective_scale


class Backend(ABC):
    """One modelling layer x one solver. Subclasses set the class attributes and ``solve``."""

    name: ClassVar[str]
    layer: ClassVar[Layer]
    solver: ClassVar[str]
    classes: ClassVar[frozenset[ProblemClass]]
    requires: ClassVar[tuple[str, ...]]
    install: ClassVar[str] = "pip install opt-offload"  # how to get what ``requires`` names
    # takes integer variables only (CP-SAT): refuses a MILP with continuous columns
    integer_only: ClassVar[bool] = False
    warm_start: ClassVar[bool] = False
    # whether ``Limits.mip_abs_gap`` reaches the solver (a stopping rule that needs it asks)
    absolute_gap: ClassVar[bool] = False
    STATUS_MAP: ClassVar[Mapping[Any, Status]]

    @classmethod
    @abstractmethod
    def native_statuses(cls) -> list[Any]:
        """Every member of the solver's native status enum (what STATUS_MAP must cover)."""

    @classmethod
    def missing(cls) -> list[str]:
        return [m for m in cls.requires if importlib.util.find_spec(m) is None]

    @classmethod
    def available(cls) -> bool:
        return not cls.missing()

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this backend cannot run here, with how to install what it lacks (None: it can)."""
        lacking = cls.lacking()
        return None if lacking is None else f"backend {cls.name!r} {lacking}"

    @classmethod
    def lacking(cls) -> str | None:
        missing = cls.missing()
        if not missing:
            return None
        return f"needs {', '.join(missing)}, which is not installed ({cls.install})"

    @classmethod
    def licence(cls) -> str:
        """The licence in force here (the commercial backends probe theirs)."""
        return "open source"

    @classmethod
    def status_of(cls, native: Any) -> Status:
        return cls.STATUS_MAP[native]

    def check(self, formulation: Formulation, warm_start: Any | None = None) -> None:
        """Raise SolverUnavailable if this backend cannot take the formulation as asked."""
        if reason := self.unavailable():
            raise SolverUnavailable(reason)
        if formulation.layer != self.layer:
            raise SolverUnavailable(
                f"backend {self.name!r} takes {self.layer} models, not {formulation.layer}"
            )
        if formulation.problem_class not in self.classes:
            taken = ", ".join(sorted(c.value for c in self.classes))
            raise SolverUnavailable(
                f"backend {self.name!r} cannot solve a {formulation.problem_class.value} "
                f"(it takes {taken})"
            )
        if warm_start is not None and not (self.warm_start and formulation.start):
            raise SolverUnavailable(f"backend {self.name!r} takes no MIP start here")

    def solve(
        self, formulation: Formulation, limits: Limits, warm_start: Any | None = None
    ) -> BackendResult:
        """Solve ``formulation`` within ``limits``; ``warm_start``: decisions to start from."""
        self.check(formulation, warm_start)
        if warm_start is not None:
            formulation.start(warm_start)
        return self.run(formulation, limits, warm_start is not None)

    @abstractmethod
    def run(self, formulation: Formulation, limits: Limits, warm: bool) -> BackendResult:
        """The solver call proper (``check`` has passed)."""

    def result(
        self,
        formulation: Formulation,
        native: Any,
        found: bool,
        bound: float | None,
        incumbent: float | None,
        message: str | None = None,
    ) -> BackendResult:
        """The common reading: the status through STATUS_MAP; decisions only when the solver
        holds a primal solution and the status may carry one (``error`` never does)."""
        status = self.status_of(native)
        keep = found and status in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)
        label = getattr(native, "name", native)
        decisions = formulation.decode() if keep else None
        if status is Status.OPTIMAL and decisions is None:
            status = Status.ERROR  # a claimed optimum without a solution to show
        return BackendResult(
            status,
            decisions,
            bound,
            incumbent if keep else None,
            str(label),
            message or f"{self.solver}: {label}",
        )


_BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator adding a backend to the registry under ``cls.name``."""
    # STATUS_MAP's coverage of native_statuses() is checked by the tests, not here: reading
    # the native enums would import every solver at start-up
    if cls.name in _BACKENDS and _BACKENDS[cls.name] is not cls:
        raise ValueError(f"backend {cls.name!r} registered twice")
    _BACKENDS[cls.name] = cls
    return cls


def backend_classes() -> dict[str, type[Backend]]:
    return dict(_BACKENDS)


def get_backend(name: str) -> Backend:
    """A fresh instance of the named backend (InputError naming the known ones)."""
    cls = _BACKENDS.get(name)
    if cls is None:
        raise InputError(f"unknown backend {name!r} (known: {', '.join(sorted(_BACKENDS))})")
    return cls()


def backends_for(layer: Layer, problem_class: ProblemClass, continuous: bool = False) -> list[str]:
    """Names of the registered backends that take this layer and problem class (and, with
    ``continuous``, continuous variables)."""
    return [
        name
        for name, cls in _BACKENDS.items()
        if cls.layer == layer
        and problem_class in cls.classes
        and not (continuous and cls.integer_only)
    ]


def backend_refusal(
    name: str, layer: Layer, problem_class: ProblemClass, continuous: bool = True
) -> str | None:
    """Why the named backend cannot take this solver's formulations (its layer, its problem
    class, and whether it has continuous variables), or is not installed here; None if it can.
    Worded as an option's reason: the option's name and value frame it."""
    cls = _BACKENDS.get(name)
    fits = backends_for(layer, problem_class, continuous)
    if cls is None:
        return f"unknown backend (known: {', '.join(sorted(_BACKENDS))})"
    if name not in fits:
        what = f"{layer} {problem_class.value}"
        if cls.layer == layer and problem_class in cls.classes:  # refused for its integers only
            what += " with continuous columns"
        return f"cannot take this solver's {what} (backends that can: {', '.join(fits)})"
    return cls.lacking()


def backend_option(
    layer: Layer, problem_class: ProblemClass, default: str, continuous: bool = True
) -> Option:
    """The ``backend`` option of an exact solver whose formulations are ``layer`` models of
    ``problem_class`` (``continuous``: with continuous variables): any registered backend that
    takes them, checked when the option is parsed, before anything is built."""

    def valid(name: str) -> str | None:
        return backend_refusal(name, layer, problem_class, continuous)

    return Option(
        "backend",
        str,
        default,
        f"the backend the {layer} {problem_class.value} goes to (`opt-offload solvers --backends`)",
        valid=valid,
    )


def worker_count(value: int) -> str | None:
    return None if value >= 0 else "must be 0 (the backend's default) or a thread count"


WORKERS_OPTION = Option(
    "workers",
    int,
    0,
    "threads of CP-SAT (num_workers), Gurobi (Threads), CPLEX and CBC (threads); 0: the "
    "backend's default; HiGHS and SCIP search on one thread",
    valid=worker_count,
)


def solve_with(
    backend: str, formulation: Formulation, limits: Limits, warm_start: Any | None = None
) -> SolverResult:
    """``get_backend(backend).solve(...)`` as a registered solver's answer."""
    return get_backend(backend).solve(formulation, limits, warm_start).solver_result()
