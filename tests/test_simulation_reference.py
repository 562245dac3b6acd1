"""The slot engine against a recorded reference: per-slot decisions and per-task delays.

``tests/data/simulation_reference.npz`` holds the traces (:mod:`opt_offload.simulation.trace`)
of the runs in :data:`CASES`, recorded from the engine as it was before its restructuring for
speed. The engine must reproduce every decision (slot, task, step, action), the TQ_i each
slot's problem was given, and every task's completion slot, delays and surrogate accuracy,
exactly; the run's means to rounding (the engine may sum them in another order).

Two cases were re-recorded when the engine began to hold an upload's band until its bits are
through (before, B was renewed every slot): ``competitive-exact`` (B = 1e6) and
``slow-uplink-threshold`` (B = 1e5), whose uploads span slots. The other six, whose uploads
end within their slot, are the first recording, unchanged. Re-record named cases with
``python -m tests.test_simulation_reference NAME...`` only for an intended change of the
engine's semantics, and say so here.

The cases cover the Table 3 regime (server full, a queue of about 16), a competitive band
(B = 1e6, M = 15), uploads that span many slots (B = 1e5, queued requests ready after later
ones), a small server with every step nominated (long queues), the random scheduler (its
generator), greedy on the longest preset, and all-local.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from opt_offload.simulation import SimulationConfig
from opt_offload.simulation.engine import Simulation
from opt_offload.simulation.sweep import TIMING_FIELDS
from opt_offload.simulation.trace import Trace, load_traces, save_traces

REFERENCE = Path(__file__).parent / "data" / "simulation_reference.npz"

CASES = {
    "table3-threshold": SimulationConfig(scheduler="threshold", slots=300),
    "table3-exact": SimulationConfig(scheduler="exact", slots=200, seed=3),
    "competitive-exact": SimulationConfig(
        scheduler="exact", capacity=15, bandwidth_hz=1e6, slots=200
    ),
    "slow-uplink-threshold": SimulationConfig(
        scheduler="threshold", policy="random", bandwidth_hz=1e5, slots=150, seed=1
    ),
    "small-server-all": SimulationConfig(
        scheduler="all-server", policy="all", capacity=30, slots=60, seed=2
    ),
    "random-scheduler": SimulationConfig(scheduler="random", capacity=5, slots=200, seed=4),
    "greedy-mmlu": SimulationConfig(
        scheduler="greedy", preset="mmlu-stem", bandwidth_hz=3e6, slots=150, seed=5
    ),
    "all-local": SimulationConfig(scheduler="all-local", slots=200, seed=6),
}


def record(config: SimulationConfig) -> tuple[Trace, dict[str, float]]:
    """The run's trace and its numeric, untimed figures."""
    trace = Trace()
    result = Simulation(config, trace).run().as_dict()
    figures = {
        key: float(value)
        for key, value in result.items()
        if key not in TIMING_FIELDS and isinstance(value, (int, float))
    }
    return trace, figures


def main(names: list[str]) -> None:
    """Record the named cases (all when none is named), keeping the others' recordings."""
    kept = load_traces(REFERENCE) if names and REFERENCE.exists() else {}
    traces, figures = {}, {}
    for name, config in CASES.items():
        if names and name not in names:
            traces[name] = kept[name]
            continue
        trace, figures[name] = record(config)
        traces[name] = trace.arrays()
        print(name, len(trace.decisions), "decisions", file=sys.stderr)
    save_traces(REFERENCE, traces, figures)


@pytest.fixture(scope="module")
def reference():
    return load_traces(REFERENCE)


@pytest.mark.parametrize("name", list(CASES))
def test_engine_reproduces_the_reference_trace(name, reference):
    trace, figures = record(CASES[name])
    expected = dict(reference[name])
    for column, values in trace.arrays().items():
        want = expected[column]
        assert values.shape == want.shape, f"{column}: {values.shape} != {want.shape}"
        differ = np.flatnonzero(values != want)
        if len(differ):
            k = differ[0]
            pytest.fail(f"{column} differs first at row {k}: {values[k]} != {want[k]}")
    recorded = dict(zip(expected.pop("figure_names").tolist(), expected.pop("figures").tolist()))
    assert figures == pytest.approx(recorded, rel=1e-12, abs=1e-15)


if __name__ == "__main__":
    main(sys.argv[1:])
