"""Sweeps over the server capacity M and the bandwidth B (PRADA Sec. 5.3-5.4, Figs. 5-8),
run in parallel on local processes or on a Dask cluster.

A sweep is a list of :class:`~opt_offload.simulation.config.SimulationConfig`: for each strategy
(a Stage 1 policy with a Stage 2 scheduler), each seed, M over its grid at the base B, and B
over its grid at the base M. Each run is a pure function of its config (its seed comes from
(seed, M, B), :meth:`SimulationConfig.seed_sequence`), so every executor returns the same
results; only the timing fields (``wall_s``, ``slots_per_s``) differ from one run to another.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .config import SimulationConfig
from .engine import simulate

TIMING_FIELDS = ("wall_s", "slots_per_s")
# What the figures and tables average over seeds.
METRICS = (
    "accuracy_surrogate",
    "processing_ms",
    "communication_ms",
    "queuing_ms",
    "latency_ms",
    "objective",
    "penalty_processing",
    "penalty_communication",
    "penalty_queuing",
    "offload_fraction",
    "utilisation",
)

# Eq. (6) and its parts: objective = accuracy - the three penalties.
OBJECTIVE_PARTS = (
    "objective",
    "accuracy_surrogate",
    "penalty_processing",
    "penalty_communication",
    "penalty_queuing",
)


@dataclass(frozen=True)
class Strategy:
    """A line of the figures: a Stage 1 policy and a Stage 2 scheduler."""

    key: str
    label: str
    policy: str
    scheduler: str


STRATEGIES = {
    s.key: s
    for s in (
        Strategy("prada", "PRADA (screen + threshold rules)", "screen", "threshold"),
        Strategy("exact", "screen + exact per slot", "screen", "exact"),
        Strategy("random-policy", "random policy + threshold rules", "random", "threshold"),
        Strategy("random-scheduler", "screen + random scheduler", "screen", "random"),
        Strategy("all-local", "all local (SLM only)", "screen", "all-local"),
    )
}
DEFAULT_STRATEGIES = ("prada", "exact", "random-policy", "random-scheduler")


def log_grid(low: float, high: float, per_decade: int) -> list[float]:
    """``per_decade`` points a decade from ``low`` to ``high``, both included."""
    decades = math.log10(high / low)
    count = round(decades * per_decade) + 1
    return [float(f"{v:.4g}") for v in np.logspace(math.log10(low), math.log10(high), count)]


@dataclass(frozen=True)
class SweepPlan:
    """The runs of a sweep: M over ``capacities`` at ``base.bandwidth_hz``, B over
    ``bandwidths`` at ``base.capacity``, for every strategy and seed."""

    base: SimulationConfig = SimulationConfig()
    capacities: tuple[int, ...] = tuple(range(1, 16))
    bandwidths: tuple[float, ...] = tuple(log_grid(1e5, 1e9, 4))
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES

    def check(self) -> None:
        known = ", ".join(STRATEGIES)
        problems = [
            f"strategies: unknown {s!r} (known: {known})"
            for s in self.strategies
            if s not in STRATEGIES
        ]
        if not self.seeds:
            problems.append("seeds: need at least one")
        if problems:
            raise InputError(problems)

    def runs(self) -> list[tuple[str, str, SimulationConfig]]:
        """``(axis, strategy, config)`` for every run, axis "M" or "B"."""
        self.check()
        runs = []
        for key in self.strategies:
            strategy = STRATEGIES[key]
            for seed in self.seeds:
                common = dict(policy=strategy.policy, scheduler=strategy.scheduler, seed=seed)
                for m in self.capacities:
                    config = dataclasses.replace(self.base, capacity=m, **common)
                    runs.append(("M", key, config))
                for b in self.bandwidths:
                    config = dataclasses.replace(self.base, bandwidth_hz=b, **common)
                    runs.append(("B", key, config))
        for _, _, config in runs:
            config.check()
        return runs


def run_config(config: SimulationConfig) -> dict:
    """One run's figures (what executors ship back: plain data)."""
    return simulate(config).as_dict()


# --- executors: map run_config over configs, results in order ---------------------------------

Executor = Callable[[Sequence[SimulationConfig], Callable[[], None]], list[dict]]


def local_executor(workers: int | None = None) -> Executor:
    """Local processes (``workers=1``: in this process, no pool)."""
    workers = workers or os.cpu_count() or 1

    def run(configs: Sequence[SimulationConfig], done: Callable[[], None]) -> list[dict]:
        results = [None] * len(configs)
        if workers == 1:
            for k, config in enumerate(configs):
                results[k] = run_config(config)
                done()
            return results
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_config, c): k for k, c in enumerate(configs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done()
        return results

    return run


def distributed_module():
    """dask.distributed, or bad input that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise InputError(
            "--dask: needs dask.distributed (pip install 'opt-offload[dask]')"
        ) from None
    return distributed


def connect(distributed, address: str):
    try:
        return distributed.Client(address)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--dask {address}: cannot connect: {exc}") from None


def dask_executor(address) -> Executor:
    """A dask.distributed scheduler at ``address`` (or a ``Client`` to use as it is)."""
    distributed = distributed_module()

    def run(configs: Sequence[SimulationConfig], done: Callable[[], None]) -> list[dict]:
        given = not isinstance(address, str)  # a Client, used as it is
        client = address if given else connect(distributed, address)
        try:
            futures = client.map(run_config, list(configs), pure=False)
            index = {future.key: k for k, future in enumerate(futures)}
            results = [None] * len(configs)
            for future in distributed.as_completed(futures):
                results[index[future.key]] = future.result()
                done()
            return results
        finally:
            if not given:
                client.close()

    return run


def run_sweep(
    plan: SweepPlan, executor: Executor, done: Callable[[], None] = lambda: None
) -> list[dict]:
    """Every run's figures with its ``axis`` and ``strategy``, in the plan's order."""
    runs = plan.runs()
    results = executor([config for _, _, config in runs], done)
    return [
        {"axis": axis, "strategy": key, **result} for (axis, key, _), result in zip(runs, results)
    ]


# --- summaries -------------------------------------------------------------------------------


def x_of(row: dict) -> float:
    return row["capacity"] if row["axis"] == "M" else row["bandwidth_hz"]


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (0 with one value)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, 0.0
    sem = float(values.std(ddof=1)) / math.sqrt(len(values))
    return mean, float(stats.t.ppf(0.5 + level / 2, len(values) - 1)) * sem


def summarise_runs(rows: Iterable[dict]) -> list[dict]:
    """Per (axis, strategy, x): the mean and 95% half-width over seeds of every metric."""
    groups = defaultdict(list)
    for row in rows:
        groups[row["axis"], row["strategy"], x_of(row)].append(row)
    summary = []
    for (axis, key, x), group in sorted(groups.items(), key=lambda item: item[0]):
        entry = {"axis": axis, "strategy": key, "x": x, "seeds": len(group)}
        for metric in METRICS:
            entry[metric], entry[f"{metric}_ci"] = mean_interval([r[metric] for r in group])
        summary.append(entry)
    return summary


def paired_differences(
    rows: Iterable[dict], minuend: str = "exact", subtrahend: str = "prada"
) -> list[dict]:
    """``minuend - subtrahend`` per (axis, x) over the seeds both ran (the same arrivals,
    tasks and channels: common random numbers), mean and 95% half-width, for the objective of
    eq. (6) and its parts."""
    parts = OBJECTIVE_PARTS
    by_key = {(r["axis"], x_of(r), r["seed"], r["strategy"]): r for r in rows}
    pairs = defaultdict(list)
    for axis, x, seed, key in by_key:
        if key == minuend and (axis, x, seed, subtrahend) in by_key:
            pairs[axis, x].append(
                (by_key[axis, x, seed, minuend], by_key[axis, x, seed, subtrahend])
            )
    table = []
    for (axis, x), matched in sorted(pairs.items()):
        entry = {"axis": axis, "x": x, "seeds": len(matched)}
        for part in parts:
            entry[part], entry[f"{part}_ci"] = mean_interval(
                [a[part] - b[part] for a, b in matched]
            )
        table.append(entry)
    return table


def critical_value(xs: Sequence[float], ys: Sequence[float], share: float = 0.9) -> float | None:
    """The smallest grid value from which ``ys`` stays past ``share`` of its change from the
    first grid point to its extreme: where the threshold effect has played out."""
    ys = np.asarray(ys, dtype=float)
    start = ys[0]
    extreme = ys.max() if ys[-1] >= start else ys.min()
    if extreme == start:
        return None
    level = start + share * (extreme - start)
    past = (ys >= level) if extreme > start else (ys <= level)
    for k in range(len(xs)):
        if past[k:].all():
            return xs[k]
    return None


def critical_values(summary: Iterable[dict], strategy: str = "prada") -> dict[str, float | None]:
    """Critical M and B of one strategy's accuracy and objective curves."""
    found = {}
    rows = [r for r in summary if r["strategy"] == strategy]
    for axis in ("M", "B"):
        curve = sorted((r["x"], r) for r in rows if r["axis"] == axis)
        if not curve:
            continue
        xs = [x for x, _ in curve]
        for metric in ("accuracy_surrogate", "objective"):
            found[f"{axis}:{metric}"] = critical_value(xs, [r[metric] for _, r in curve])
    return found
