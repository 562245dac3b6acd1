"""Dynamic multi-user simulation of PRADA (Sec. 5, design §8) and sweeps over M and B.

>>> from opt_offload.simulation import SimulationConfig, simulate
>>> result = simulate(SimulationConfig(slots=300, scheduler="threshold"))
>>> 0.0 < result.accuracy_surrogate < 1.0
True

Modules: ``presets`` (task lengths), ``quality`` (the accuracy SURROGATE), ``tasks`` (drawing
tasks, compute times, the uplink), ``calibration`` (FlopsSLM and beta against Table 2),
``policies`` (Stage 1), ``schedulers`` (Stage 2), ``server`` (M slots and the FIFO queue),
``engine`` (the slot loop), ``metrics`` (what a run reports), ``sweep`` (grids of runs on
local processes or Dask) and ``plots`` (Figs. 5-8). The names below load on first use, so that
the command line, which imports this package to build its parser, stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "RunResult": "metrics",
    "SCHEDULERS": "schedulers",
    "Scheduler": "schedulers",
    "SimulationConfig": "config",
    "simulate": "engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
