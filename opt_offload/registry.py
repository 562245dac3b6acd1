"""The registry of solvers and heuristics, by problem kind and name (STYLE: Vidur's registry).

A solver is a function ``f(instance, *, time_limit, **options) -> SolverResult`` registered
with :func:`register`. Each entry declares what it needs (importable backends), which instances
it takes, whether it is exact, and its options, so that the CLI learns early and in one place
that a backend cannot take a problem (STYLE: linopy's solver capabilities).

An admission solver may also declare ``per_slot``, its solve of one slot as the simulator
calls it (Stage 2, queue delays given): ``per_slot(**options)``, with the options parsed as
for ``solve``, returns ``f(data, rng) -> (immediate, queued)`` on a
:class:`~opt_offload.models.admission.SlotData`, so that the simulator neither builds an
instance per slot nor keeps a table of its own (:mod:`opt_offload.simulation.schedulers`).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, SolverUnavailable
from .schemas import Instance, Status

KINDS = ("admission", "assignment", "placement")


@dataclass(frozen=True)
class SolverResult:
    """What a solver returns: decisions in instance ids (or None), its termination and proven
    bound. ``proves_objective`` is False when the termination is about another objective than
    the evaluator's (a weighted stage): then ``optimal`` says nothing of the evaluator's."""

    status: Status
    decisions: dict[str, Any] | None
    bound: float | None = None
    message: str | None = None
    proves_objective: bool = True


def gap_fraction(value: float) -> str | None:
    """A relative MIP gap: finite, in [0, 1)."""
    return None if math.isfinite(value) and 0.0 <= value < 1.0 else "must be finite, in [0, 1)"


def positive(value: float) -> str | None:
    """A finite number > 0 (seconds, weights, tolerances)."""
    return None if math.isfinite(value) and value > 0 else "must be finite and > 0"


def non_negative(value: float) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "must be finite and >= 0"


@dataclass(frozen=True)
class Option:
    """A solver option: its type, default, help, allowed values, and ``valid``, which names
    what is wrong with a value (None when it is fine). Counts (``int``) must be > 0 and floats
    finite unless ``valid`` says otherwise."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    valid: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def parse(self, raw: Any) -> Any:
        """Coerce a value given on the command line (a string) or in code."""
        value = raw
        if isinstance(raw, str) and self.type is not str:
            try:
                value = json.loads(raw.lower() if self.type is bool else raw)
            except json.JSONDecodeError:
                raise InputError(
                    f"option {self.name}: expected {self.type.__name__}, got {raw!r}"
                ) from None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            raise InputError(f"option {self.name}: expected {self.type.__name__}, got {raw!r}")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise InputError(f"option {self.name}: must be one of {allowed}, got {raw!r}")
        reason = self.reason(value)
        if reason:
            raise InputError(f"option {self.name}: {reason}, got {raw!r}")
        return value

    def reason(self, value: Any) -> str | None:
        if self.valid is not None:
            return self.valid(value)
        if self.type is int and value <= 0:
            return "must be > 0"
        if self.type is float and not math.isfinite(value):
            return "must be finite"
        return None


DEFAULT_MIP_GAP = 1e-6
MIP_GAP_OPTION = Option(
    "mip_gap",
    float,
    DEFAULT_MIP_GAP,
    "relative gap at which the solver may stop and call its incumbent optimal (in [0, 1))",
    valid=gap_fraction,
)


def check_time_limit(time_limit: float | None) -> None:
    """A time limit is None (none) or finite seconds > 0."""
    if time_limit is None:
        return
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float):
        raise InputError(f"--time-limit: expected seconds, got {time_limit!r}")
    if reason := positive(float(time_limit)):
        raise InputError(f"--time-limit: {reason}, got {time_limit!r}")


SolverFunction = Callable[..., SolverResult]


@dataclass(frozen=True)
class SolverSpec:
    kind: str
    name: str
    function: SolverFunction
    exact: bool
    description: str
    options: tuple[Option, ...] = ()
    requires: tuple[str, ...] = ()
    supports: Callable[[Instance], str | None] | None = field(default=None, compare=False)
    per_slot: Callable[..., Callable] | None = field(default=None, compare=False)

    def missing_backends(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def check(self, instance: Instance) -> None:
        """Raise SolverUnavailable if this solver cannot run here or cannot take the instance."""
        missing = self.missing_backends()
        if missing:
            raise SolverUnavailable(
                f"solver {self.name!r} needs {', '.join(missing)}, which is not installed"
            )
        reason = self.supports(instance) if self.supports else None
        if reason:
            raise SolverUnavailable(f"solver {self.name!r} cannot take this instance: {reason}")

    def parse_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        known = {o.name: o for o in self.options}
        unknown = [k for k in given if k not in known]
        if unknown:
            names = ", ".join(known) or "none"
            raise InputError(
                f"solver {self.name!r} has no option {', '.join(map(repr, unknown))} "
                f"(options: {names})"
            )
        parsed = {o.name: o.default for o in self.options}
        parsed.update({k: known[k].parse(v) for k, v in given.items()})
        return parsed


_REGISTRY: dict[tuple[str, str], SolverSpec] = {}


def register(
    kind: str,
    name: str,
    *,
    exact: bool,
    description: str,
    options: tuple[Option, ...] = (),
    requires: tuple[str, ...] = (),
    supports: Callable[[Instance], str | None] | None = None,
    per_slot: Callable[..., Callable] | None = None,
) -> Callable[[SolverFunction], SolverFunction]:
    """Decorator adding a solver function to the registry under (kind, name)."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}")
    if per_slot is not None and kind != "admission":
        raise ValueError(f"per_slot is for admission solvers, not {kind}")

    def decorate(function: SolverFunction) -> SolverFunction:
        key = (kind, name)
        if key in _REGISTRY and _REGISTRY[key].function is not function:
            raise ValueError(f"solver {name!r} for {kind} registered twice")
        _REGISTRY[key] = SolverSpec(
            kind, name, function, exact, description, options, requires, supports, per_slot
        )
        return function

    return decorate


def _load_solvers(kind: str | None = None) -> None:
    # Importing a kind's package registers its solvers; done on first use, and for that kind
    # only, so that reading an instance does not pay for Pyomo or CVXPY and solving one kind
    # does not pay for the others' imports (networkx, numpy: start-up, see ``bench scale``).
    for name in KINDS if kind is None else (kind,):
        importlib.import_module(f"opt_offload.solvers.{name}")


def solvers_for(kind: str | None = None) -> list[SolverSpec]:
    _load_solvers(kind)
    return [s for (k, _), s in _REGISTRY.items() if kind is None or k == kind]


def default_solver_name(kind: str) -> str:
    """``exact`` where the kind has one, else the first solver registered for it."""
    names = [s.name for s in solvers_for(kind)]
    return "exact" if "exact" in names else names[0]


def get_solver(kind: str, name: str | None = None) -> SolverSpec:
    _load_solvers(kind)
    name = name or default_solver_name(kind)
    spec = _REGISTRY.get((kind, name))
    if spec is None:
        known = ", ".join(s.name for s in solvers_for(kind))
        raise InputError(f"unknown solver {name!r} for {kind} (known: {known})")
    return spec
