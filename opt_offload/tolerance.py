"""The feasibility tolerance the evaluators, formulations and heuristics share (design §2).

Constraints hold up to this relative tolerance, so that a solver's floating-point answer
exactly at a capacity is not called infeasible; the pre-filters of the formulations and the
heuristics' capacity checks use the same test, so that what they admit the evaluator accepts.
"""

from __future__ import annotations

REL_TOL = 1e-9


def tolerated(limit: float) -> float:
    """The largest use of ``limit`` that does not exceed it: limit plus the relative
    tolerance (a capacity the heuristics may fill up to)."""
    return limit + REL_TOL * max(1.0, abs(limit))


def exceeds(used: float, limit: float) -> bool:
    """used > limit beyond the relative tolerance."""
    return used > tolerated(limit)
