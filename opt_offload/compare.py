"""Heuristic-versus-exact comparison on the same instances (design §2).

Every solver's objective comes from the shared evaluator; the gap of a solver to the reference
(by default the first exact solver listed) is ``(reference - value) / max(|reference|, eps)``
for a maximisation and ``(value - reference) / max(|reference|, eps)`` for a minimisation, so a
positive gap always means worse than the reference.

What the gap is measured against is part of it: ``against`` is ``optimum`` only when the
reference's run proved its answer optimal; otherwise it is ``best known`` (the reference's own
bound gap, ``reference_gap``, says how far from proven that is), or ``none`` when the reference
holds no solution, and then there is no gap.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InputError
from .registry import get_solver
from .schemas import Instance, Solution, Status
from .solve import solve

EPS = 1e-9


def relative_gap(reference: float | None, value: float | None, sense: str) -> float | None:
    """Gap of ``value`` to ``reference`` (positive = worse), or None if either is missing."""
    if reference is None or value is None:
        return None
    worse_by = reference - value if sense == "max" else value - reference
    return worse_by / max(abs(reference), EPS)


Against = Literal["optimum", "best known", "none"]


def against(reference: Solution) -> Against:
    """What a gap to this reference solution is a gap to."""
    if reference.status is Status.OPTIMAL:
        return "optimum"
    return "best known" if reference.objective is not None else "none"


@dataclass(frozen=True)
class ComparisonRow:
    source: str
    solution: Solution
    reference: str
    gap: float | None
    against: Against = "optimum"
    reference_gap: float | None = None  # the reference's own relative bound gap

    @classmethod
    def of(cls, source: str, solution: Solution, reference: str, ref: Solution) -> ComparisonRow:
        gap = relative_gap(ref.objective, solution.objective, solution.sense)
        return cls(source, solution, reference, gap, against(ref), ref.gap)

    def as_record(self) -> dict[str, Any]:
        s = self.solution
        return {
            "file": self.source,
            "instance": s.instance,
            "kind": s.kind,
            "solver": s.solver,
            "status": s.status.value,
            "objective": s.objective,
            "bound": s.bound,
            "bound_gap": s.gap,
            "reference": self.reference,
            "against": self.against,
            "gap_pct": None if self.gap is None else 100.0 * self.gap,
            "reference_gap_pct": None if self.reference_gap is None else 100 * self.reference_gap,
            "wall_s": s.wall_s,
        }


def reference_solver(solvers: Sequence[str], kind: str, reference: str | None) -> str:
    """The named reference, else the first exact solver in the list, else the first solver."""
    if reference is not None:
        return reference
    exact = [name for name in solvers if get_solver(kind, name).exact]
    return (exact or list(solvers))[0]


def compare_instance(
    source: str,
    instance: Instance,
    solvers: Sequence[str],
    *,
    reference: str | None = None,
    time_limit: float | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[ComparisonRow]:
    """Solve one instance with every solver and measure each against the reference."""
    options = options or {}
    ref_name = reference_solver(solvers, instance.kind, reference)
    names = list(solvers) if ref_name in solvers else [ref_name, *solvers]
    solutions = {
        name: solve(instance, name, time_limit=time_limit, **options.get(name, {}))
        for name in names
    }
    return [
        ComparisonRow.of(source, solutions[name], ref_name, solutions[ref_name]) for name in solvers
    ]


def compare_all(
    instances: Iterable[tuple[str, Instance]],
    solvers: Sequence[str],
    *,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
    **kwargs: Any,
) -> list[ComparisonRow]:
    rows: list[ComparisonRow] = []
    for source, instance in progress(list(instances)):
        rows += compare_instance(source, instance, solvers, **kwargs)
    return rows


def compare(
    instances: Iterable[Instance | str | os.PathLike],
    solvers: Sequence[str],
    *,
    reference: str | None = None,
    time_limit: float | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[ComparisonRow]:
    """Every solver on every instance (objects, or paths to instance files), each answer
    judged by the problem's evaluator and measured against ``reference`` (by default the
    first exact solver of ``solvers``): one :class:`ComparisonRow` per (instance, solver), as
    ``opt-offload compare`` prints them. ``options`` maps a solver name to its options;
    :func:`aggregate` summarises the rows per solver.

    >>> from opt_offload import compare, shipped
    >>> rows = compare([shipped("instances/admission/hand-three.json")], ["exact", "all-local"])
    >>> [(row.solution.solver, row.gap) for row in rows]
    [('exact', 0.0), ('all-local', 1.0)]
    """
    from .io import load_instance

    named = [
        (str(item), load_instance(item))
        if isinstance(item, str | os.PathLike)
        else (item.name, item)
        for item in instances
    ]
    return compare_all(named, solvers, reference=reference, time_limit=time_limit, options=options)


def aggregate(rows: Sequence[ComparisonRow]) -> list[dict[str, Any]]:
    """Per solver: instances, how many got feasible decisions, mean and worst gap (to proven
    optima only), how many were measured against a best known value instead, times."""
    summary = []
    for name in dict.fromkeys(r.solution.solver for r in rows):
        mine = [r for r in rows if r.solution.solver == name]
        gaps = [r.gap for r in mine if r.gap is not None and r.against == "optimum"]
        known = [r.gap for r in mine if r.gap is not None and r.against == "best known"]
        walls = [r.solution.wall_s for r in mine]
        summary.append(
            {
                "solver": name,
                "instances": len(mine),
                "solved": sum(r.solution.objective is not None for r in mine),
                "mean_gap_pct": 100.0 * statistics.fmean(gaps) if gaps else None,
                "worst_gap_pct": 100.0 * max(gaps) if gaps else None,
                "vs_best_known": len(known),
                "worst_vs_best_known_pct": 100.0 * max(known) if known else None,
                "mean_wall_s": statistics.fmean(walls),
                "median_wall_s": statistics.median(walls),
            }
        )
    return summary


def parse_solver_options(pairs: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{"threshold.kmax": "40"}`` -> ``{"threshold": {"kmax": "40"}}``."""
    options: dict[str, dict[str, str]] = {}
    for key, value in pairs.items():
        solver, dot, option = key.partition(".")
        if not dot or not solver or not option:
            raise InputError(f"--option {key}={value}: expected SOLVER.KEY=VALUE")
        options.setdefault(solver, {})[option] = value
    return options
