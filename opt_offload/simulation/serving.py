"""Serving metrics of a dynamic assignment run on a trace, the numbers serving-system users read
first (definitions as in vLLM's and SGLang's benchmark scripts, adapted to one L_max):

- goodput: requests served within QoS (end-to-end latency <= L_max), as a share of the arrivals
  and per second of the arrival period;
- throughput: output (generated) tokens of the served requests per second of the makespan, from
  the first arrival to the last response (003's Table 1 reports tokens/s);
- latency p50 / p90 / p99: end-to-end (wait + Ltrans + Lcomp) over the served requests;
- queue length over time: requests waiting to start; its time average and maximum, and the
  series sampled on a grid for figures and ``--json``.

Requests rejected on arrival (no server meets L_max for them) or dropped while waiting count
against goodput and not in the latency percentiles; the tables show both counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .assignment import DynamicResult, queue_at

QUEUE_SAMPLES = 240  # points of the queue series in --json


@dataclass(frozen=True)
class ServingMetrics:
    policy: str
    speedup: float
    arrived: int
    served: int
    rejected: int
    dropped: int
    good: int  # served within L_max
    goodput_fraction: float
    goodput_per_s: float
    output_tokens_per_s: float
    p50_s: float
    p90_s: float
    p99_s: float
    mean_queue: float
    max_queue: int
    bounded: bool
    duration_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def serving_metrics(
    result: DynamicResult,
    generated_tokens: np.ndarray,
    latency_max_s: float | None,
    *,
    policy: str,
    speedup: float = 1.0,
) -> ServingMetrics:
    """The metrics of one run; ``generated_tokens[n]`` belongs to arrival n."""
    served = result.served_requests
    latencies = np.array([s.latency_s for s in served])
    bound = math.inf if latency_max_s is None else latency_max_s
    good = int(np.sum(latencies <= bound)) if len(latencies) else 0
    first = min((s.arrival_s for s in served), default=0.0)
    last = max((s.arrival_s + s.latency_s for s in served), default=0.0)
    tokens = int(sum(int(generated_tokens[s.index]) for s in served))
    makespan = last - first
    percentile = (
        (lambda q: float(np.percentile(latencies, q))) if len(latencies) else (lambda q: math.nan)
    )
    duration = result.duration_s
    return ServingMetrics(
        policy=policy,
        speedup=speedup,
        arrived=result.arrived,
        served=len(served),
        rejected=result.rejected,
        dropped=result.dropped,
        good=good,
        goodput_fraction=good / result.arrived if result.arrived else 0.0,
        goodput_per_s=good / duration if duration > 0 else 0.0,
        output_tokens_per_s=tokens / makespan if makespan > 0 else 0.0,
        p50_s=percentile(50),
        p90_s=percentile(90),
        p99_s=percentile(99),
        mean_queue=result.mean_queue,
        max_queue=max((q for _, q in result.queue_trace), default=0),
        bounded=result.bounded,
        duration_s=duration,
    )


def queue_series(result: DynamicResult, samples: int = QUEUE_SAMPLES) -> list[list[float]]:
    """The queue length on a uniform grid over the arrival period: ``[[t, length], ...]``."""
    if result.duration_s <= 0 or not result.queue_trace:
        return []
    grid = np.linspace(0.0, result.duration_s, samples)
    return [[float(t), queue_at(result.queue_trace, t)] for t in grid]
