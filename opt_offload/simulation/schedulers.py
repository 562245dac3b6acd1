"""Stage 2, centralised scheduling (PRADA Sec. 4.2): the registered admission solvers, one slot
at a time.

A scheduler is a registered admission solver (:mod:`opt_offload.registry`) by its name, with
its options parsed and checked as ``solve`` does: its ``per_slot`` entry maps a slot's
:class:`~opt_offload.models.admission.SlotData` (queue delays given) and the run's
``random.Random`` to the positions admitted now and the positions queued; every other
candidate runs locally. The entry calls the very function the registered solver runs on an
instance, without building an AdmissionInstance per slot. A solver registered with a
``per_slot`` entry is a scheduler without any change here; the ones shipped:

- ``threshold``: PRADA's Theorem 2 with the multiplier search (default: zero-price check on,
  queued uploads priced at B_ref);
- ``exact``, ``exact-joint``: the fast exact solver (``exact-joint`` with queue delays given
  is ``exact``); ``exact-pyomo``, ``exact-cvxpy``: the MILP and MISOCP formulations, seconds a
  slot, for checks on short runs;
- ``greedy``: by the zero-price gain; ``random``: the random scheduler of Sec. 5.3, drawing
  from the run's seed (its ``seed`` option seeds a single ``solve``);
- ``all-local``: nothing offloaded; ``all-server``: every candidate offloaded whatever it is
  worth, admitted now (in the order they became active) while a server slot is free, queued
  otherwise.

Options of mode ``estimate`` (``kmax``) are accepted and change nothing: a simulated slot has
its queue delays given. The uploading set shares B by the closed-form split of design §4
(B_i ~ sqrt(c_i)), as the registered solvers' decisions do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import InputError, SolverUnavailable
from ..registry import SolverSpec, get_solver, solvers_for
from ..solvers.admission.common import Decision, SlotScheduler

Scheduler = SlotScheduler  # (SlotData, random.Random) -> (immediate, queued) positions

__all__ = ["SCHEDULERS", "Decision", "Scheduler", "scheduler_names", "stage2_scheduler"]


def scheduler_names() -> list[str]:
    """The registered admission solvers that have a per-slot entry, in registry order."""
    return [spec.name for spec in solvers_for("admission") if spec.per_slot is not None]


def scheduler_spec(name: str) -> SolverSpec:
    """The registered solver ``name``, if it can run a simulation's slots here."""
    try:
        spec = get_solver("admission", name)
    except InputError:
        known = ", ".join(scheduler_names())
        raise InputError(f"scheduler: unknown {name!r} (known: {known})") from None
    if spec.per_slot is None:
        known = ", ".join(scheduler_names())
        raise InputError(
            f"scheduler: solver {name!r} has no per-slot solve for the simulator "
            f"(schedulers: {known})"
        )
    missing = spec.missing_backends()
    if missing:
        raise SolverUnavailable(
            f"scheduler: solver {name!r} needs {', '.join(missing)}, which is not installed"
        )
    return spec


def stage2_scheduler(name: str, options: Mapping[str, Any] | None = None) -> Scheduler:
    """The slot solve of the registered solver ``name`` with ``options`` (given as to
    ``solve``: values or their command-line strings)."""
    spec = scheduler_spec(name)
    try:
        parsed = spec.parse_options(options or {})
    except InputError as error:
        raise InputError([f"scheduler option: {p}" for p in error.problems]) from None
    return spec.per_slot(**parsed)


class RegisteredSchedulers(Mapping):
    """Read-only view: scheduler name -> its slot solve with default options."""

    def __getitem__(self, name: str) -> Scheduler:
        if name not in scheduler_names():
            raise KeyError(name)
        return stage2_scheduler(name)

    def __iter__(self) -> Iterator[str]:
        return iter(scheduler_names())

    def __len__(self) -> int:
        return len(scheduler_names())


SCHEDULERS: Mapping[str, Scheduler] = RegisteredSchedulers()
