"""Where the slot engine's tasks come from: Poisson arrivals with drawn lengths (PRADA eq. 1,
the preset's length ranges), or the requests of a real trace (design §8).

A source answers two questions for a chunk of slots: how many tasks arrive in each slot, and
the lengths of those tasks (question tokens, steps, tokens per step), or None to let the preset
draw them. The engine asks both where it used to draw Poisson counts, so that the rest of a run
(channel, compute times, the quality surrogate, Stage 1 and 2) is the same for either source.

Trace readings (a trace has prompt and output sizes, not reasoning steps):

- a request arrives in slot ``floor(arrival / dt)``;
- its prompt tokens are the task's question length;
- its generated tokens are split into reasoning steps of the preset's step length (the midpoint
  of the preset's tokens-per-step range, 35 for gsm8k): ``ceil(generated / length)`` steps, all of
  that length but the last, which takes the rest; a step's context is the prompt plus the tokens
  of the steps before it (eq. 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InputError
from .presets import TaskPreset

POISSON = "poisson"
TRACE_PREFIX = "trace:"

Lengths = tuple[np.ndarray, np.ndarray, np.ndarray]  # steps per task, context, new tokens


@dataclass(frozen=True)
class TraceSpec:
    """Which requests of a trace file a run replays (``importers.azure_llm_trace.read_trace``)."""

    path: str
    start_s: float = 0.0
    window_s: float | None = None
    limit: int | None = None
    speedup: float = 1.0

    def read(self):
        return cached_trace(self)


@lru_cache(maxsize=8)  # a sweep replays one trace in many runs of one process
def cached_trace(spec: TraceSpec):
    from ..importers.azure_llm_trace import read_trace

    return read_trace(
        spec.path,
        start_s=spec.start_s,
        window_s=spec.window_s,
        limit=spec.limit,
        speedup=spec.speedup,
    )


def parse_arrivals(text: str) -> str | None:
    """``poisson`` -> None; ``trace:FILE`` -> FILE (``code`` and ``conv`` name the shipped
    traces); anything else is bad input."""
    if text == POISSON:
        return None
    if text.startswith(TRACE_PREFIX) and len(text) > len(TRACE_PREFIX):
        return text[len(TRACE_PREFIX) :]
    raise InputError(f"--arrivals: expected 'poisson' or 'trace:FILE', got {text!r}")


@dataclass(frozen=True)
class PoissonArrivals:
    """n_t ~ Poisson(lambda) tasks in slot t (eq. 1), lengths drawn from the preset."""

    rate_per_slot: float

    def per_slot(self, first_slot: int, count: int, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(self.rate_per_slot, size=count)

    def lengths(self, first_slot: int, per_slot: np.ndarray, preset: TaskPreset):
        return None


class TraceArrivals:
    """The requests of a trace, in the slots their arrival times fall in."""

    def __init__(self, spec: TraceSpec, slot_s: float) -> None:
        trace = spec.read()
        self.slot = np.floor(trace.arrivals_s / slot_s + 1e-9).astype(np.int64)
        self.prompt = trace.prompt_tokens
        self.generated = trace.generated_tokens

    @property
    def slots_needed(self) -> int:
        """Slots that hold every request (the last one's slot included)."""
        return int(self.slot[-1]) + 1

    def span(self, first_slot: int, count: int) -> slice:
        low, high = np.searchsorted(self.slot, [first_slot, first_slot + count])
        return slice(int(low), int(high))

    def per_slot(self, first_slot: int, count: int, rng: np.random.Generator) -> np.ndarray:
        chosen = self.slot[self.span(first_slot, count)] - first_slot
        return np.bincount(chosen, minlength=count)

    def lengths(self, first_slot: int, per_slot: np.ndarray, preset: TaskPreset) -> Lengths:
        chosen = self.span(first_slot, len(per_slot))
        return split_steps(self.prompt[chosen], self.generated[chosen], step_length(preset))


def step_length(preset: TaskPreset) -> int:
    low, high = preset.step_tokens
    return (low + high) // 2


def split_steps(prompt: np.ndarray, generated: np.ndarray, length: int) -> Lengths:
    """Each request's output as ceil(generated / length) steps of ``length`` tokens, the last
    one shorter; each step's context is the prompt plus the steps before it (eq. 2)."""
    steps = -(-generated // length)
    owner = np.repeat(np.arange(len(prompt)), steps)
    starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
    position = np.arange(int(steps.sum())) - starts[owner]  # step index within its request
    new = np.minimum(length, generated[owner] - position * length)
    context = prompt[owner] + position * length
    return steps, context, new


def arrival_source(config) -> PoissonArrivals | TraceArrivals:
    """The source a :class:`~opt_offload.simulation.config.SimulationConfig` asks for."""
    if config.trace is None:
        return PoissonArrivals(config.arrival_rate)
    return TraceArrivals(config.trace, config.slot_s)
