"""Benchmarks (``opt-offload bench KIND``): performance targets are checked here, as ratios
against a baseline measured in the same run, not in timed unit tests.

Each module of this package defines ``KIND`` (the sub-command name), ``DESCRIPTION``,
``add_arguments(parser)`` and ``run(args) -> exit code``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from types import ModuleType

from ..discovery import submodules


def benchmark_modules() -> list[ModuleType]:
    return submodules(__name__, __path__, defining="run")


def median_time(
    function: Callable[[], object], *, repeat: int = 5, min_total_s: float = 0.2
) -> float:
    """Median wall time of one call, over ``repeat`` rounds of enough calls to fill min_total_s."""
    start = time.perf_counter()
    function()
    first = time.perf_counter() - start
    calls = max(1, int(min_total_s / max(first, 1e-9) / repeat))
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)
