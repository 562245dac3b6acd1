"""Trace replay of the dynamic assignment: the requests of a trace window, at one or several
speed-ups, under K-P-FCFS (each rule and K_q, optionally dropping hopeless requests) and the
rolling-horizon MILP, with the serving metrics of each run (``opt-offload stability --arrivals
trace:FILE``).

Policy specs (``--policies``, comma-separated):

- ``kpfcfs:RULE:K``: the discrete-event K-P-FCFS run (:func:`~.assignment.run_trace`);
- ``kpfcfs-drop:RULE:K``: the same, dropping a waiting request once it cannot meet L_max;
- ``milp:W``: the rolling MILP every W seconds (:func:`~.rolling.run_rolling_milp`), per-window
  time limit W / 2 unless ``milp_time_limit`` is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..solvers.assignment.kpfcfs import RULES
from .arrivals import TraceSpec
from .assignment import DynamicResult
from .serving import ServingMetrics, queue_series, serving_metrics

DEFAULT_POLICIES = ",".join(
    [f"kpfcfs:{rule}:{k}" for rule in RULES for k in (1, 4, 16)] + ["kpfcfs-drop:fcfs:16", "milp:1"]
)


@dataclass(frozen=True)
class Policy:
    kind: str  # kpfcfs, kpfcfs-drop or milp
    rule: str = "fcfs"
    k: int = 1
    window_s: float = 1.0

    @property
    def label(self) -> str:
        if self.kind == "milp":
            return f"rolling MILP, W = {self.window_s:g} s"
        drop = " + drop" if self.kind == "kpfcfs-drop" else ""
        return f"K-P-FCFS {self.rule}, K_q = {self.k}{drop}"

    @property
    def spec(self) -> str:
        if self.kind == "milp":
            return f"milp:{self.window_s:g}"
        return f"{self.kind}:{self.rule}:{self.k}"


def parse_policy(text: str) -> Policy:
    parts = text.strip().split(":")
    bad = InputError(
        f"--policies: {text!r}: expected kpfcfs:RULE:K, kpfcfs-drop:RULE:K or milp:W "
        f"(rules: {', '.join(RULES)})"
    )
    try:
        if parts[0] == "milp" and len(parts) == 2:
            window = float(parts[1])
            if not (math.isfinite(window) and window > 0):
                raise bad
            return Policy("milp", window_s=window)
        if parts[0] in ("kpfcfs", "kpfcfs-drop") and len(parts) == 3:
            k = int(parts[2])
            if parts[1] not in RULES or k < 1:
                raise bad
            return Policy(parts[0], rule=parts[1], k=k)
    except ValueError:
        raise bad from None
    raise bad


def parse_policies(text: str) -> list[Policy]:
    policies = [parse_policy(part) for part in text.split(",") if part.strip()]
    if not policies:
        raise InputError("--policies: give at least one policy")
    return policies


@dataclass(frozen=True)
class Replay:
    metrics: ServingMetrics
    result: DynamicResult
    wall_s: float
    solve_wall_s: float | None = None  # rolling MILP: time inside the solver

    def as_dict(self, with_queue: bool = True) -> dict:
        record = {**self.metrics.as_dict(), "wall_s": self.wall_s}
        if self.solve_wall_s is not None:
            record["solve_wall_s"] = self.solve_wall_s
        if with_queue:
            record["queue"] = queue_series(self.result)
        return record


def replay(
    instance,
    trace,
    policy: Policy,
    *,
    milp_time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """One policy over the trace's requests (task n of ``instance`` is request n)."""
    import time

    from .assignment import run_trace
    from .rolling import run_rolling_milp

    arrivals = [(r.arrival_s, n) for n, r in enumerate(trace.requests)]
    started = time.perf_counter()
    solve_wall = None
    if policy.kind == "milp":
        result, stats = run_rolling_milp(
            instance,
            arrivals,
            window_s=policy.window_s,
            time_limit_s=milp_time_limit,
            progress=progress,
        )
        solve_wall = stats.solve_wall_s
    else:
        result = run_trace(
            instance,
            arrivals,
            k=policy.k,
            rule=policy.rule,
            drop_late=policy.kind == "kpfcfs-drop",
        )
    wall = time.perf_counter() - started
    metrics = serving_metrics(
        result,
        trace.generated_tokens,
        instance.latency_max_s,
        policy=policy.label,
        speedup=trace.speedup,
    )
    return Replay(metrics, result, wall, solve_wall)


def trace_instance(spec: TraceSpec, preset: str, model: str, latency_max_s: float | None):
    from ..generators.trace_assignment import trace_assignment

    trace = spec.read()
    instance = trace_assignment(trace, preset=preset, model=model, latency_max_s=latency_max_s)
    return trace, instance


def replay_study(
    spec: TraceSpec,
    speedups: Sequence[float],
    policies: Sequence[Policy],
    *,
    preset: str = "testbed",
    model: str = "llama2-7b",
    latency_max_s: float | None = None,
    milp_time_limit: float | None = None,
    done: Callable[[], None] | None = None,
) -> list[Replay]:
    """Every policy at every speed-up; ``done()`` after each run."""
    from dataclasses import replace

    runs = []
    for speedup in speedups:
        trace, instance = trace_instance(
            replace(spec, speedup=speedup), preset, model, latency_max_s
        )
        for policy in policies:
            runs.append(replay(instance, trace, policy, milp_time_limit=milp_time_limit))
            if done is not None:
                done()
    return runs
