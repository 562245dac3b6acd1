"""Execution traces recorded on this machine, and how well each delay model predicts them
(``opt-offload calibrate``; design §7, PRADA Sec. 4.2.5).

A trace is the wall time of one reasoning step: ``m_new`` tokens decoded one by one after a
context of ``m`` tokens (the prefill is not timed), the quantity eq. (16) counts and D_psi
predicts. Three models are scored on traces held out of every fit:

- ``paper``: eq. (17), eq. (16) over a FLOP/s fitted on the training traces;
- ``architecture``: the architecture-exact FLOPs over a FLOP/s fitted the same way;
- ``roofline``: ``max(FLOP / peak, bytes / bandwidth)`` per token with the peak and bandwidth
  measured by micro-benchmarks on this machine (nothing fitted to the traces);
- ``D_psi``: the learned predictor trained on the training traces.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from .configs import TransformerConfig
from .flops import paper_step_flops, step_flops
from .latency import Roofline, roofline_step_time_s
from .predictor import DelayPredictor, fit_delay_predictor, mean_absolute_percentage_error
from .reference_model import reference_model


@dataclass(frozen=True)
class Trace:
    context_tokens: int
    new_tokens: int
    seconds: float


def _elapsed_s(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _fastest_s(function: Callable[[], object], repeats: int) -> float:
    """The least wall time over the repeats: other processes on the machine only ever add time
    (the reasoning of Python's ``timeit``)."""
    return min(_elapsed_s(function) for _ in range(repeats))


def record_step_traces(
    config: TransformerConfig,
    contexts: Sequence[int],
    new_tokens: Sequence[int],
    *,
    repeats: int = 5,
    seed: int = 0,
) -> list[Trace]:
    """Wall time of each (context, new tokens) step of the reference model on the CPU: the
    fastest of ``repeats`` rounds over the whole grid. Rounds, rather than repeats in a row,
    so that a burst of load from other processes slows one round of many points, not every
    timing of a few."""
    model = reference_model(config, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    points = [(m, m_new) for m in contexts for m_new in new_tokens]
    with torch.inference_mode():
        prompts = {
            m: torch.randint(config.vocab_size, (1, m), generator=generator) for m in contexts
        }
        caches = {m: model(prompt)[1] for m, prompt in prompts.items()}

        def decode_step(m: int, m_new: int) -> None:
            cache, token = caches[m], prompts[m][:, -1:]
            for _ in range(m_new):
                logits, cache = model(token, cache)
                token = logits.argmax(dim=-1)

        decode_step(*points[0])  # warm-up
        fastest = {point: math.inf for point in points}
        for _ in range(repeats):
            for point in points:
                fastest[point] = min(fastest[point], _elapsed_s(partial(decode_step, *point)))
    return [Trace(m, m_new, fastest[(m, m_new)]) for m, m_new in points]


def measure_roofline(*, size: int = 1024, copy_mb: int = 64, repeats: int = 5) -> Roofline:
    """This machine's fp32 matrix-product FLOP/s and memory copy bandwidth (read + write)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    peak = 2 * size**3 / _fastest_s(lambda: a @ b, repeats)
    source = torch.empty(copy_mb * 2**20 // 4)
    target = torch.empty_like(source)
    bandwidth = 2 * source.numel() * 4 / _fastest_s(lambda: target.copy_(source), repeats)
    return Roofline(peak_flops=peak, memory_bandwidth=bandwidth)


def fit_flops_per_s(flops: np.ndarray, seconds: np.ndarray) -> float:
    """The rate r minimising the squared relative error of flops / r (closed form in 1 / r)."""
    ratio = flops / seconds
    return float(np.sum(ratio**2) / np.sum(ratio))


def split_traces(
    traces: Sequence[Trace], held_out: float, seed: int
) -> tuple[list[Trace], list[Trace]]:
    """A seeded random split: (training traces, held-out traces)."""
    order = np.random.default_rng(seed).permutation(len(traces))
    cut = max(1, round(held_out * len(traces)))
    return [traces[i] for i in order[cut:]], [traces[i] for i in order[:cut]]


@dataclass(frozen=True)
class CalibrationReport:
    predictor: DelayPredictor
    roofline: Roofline
    paper_flops_per_s: float
    architecture_flops_per_s: float
    held_out_mape: dict[str, float]  # model name -> mean absolute percentage error, %
    training_traces: int
    held_out_traces: int


def _columns(traces: Sequence[Trace]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.array([t.context_tokens for t in traces]),
        np.array([t.new_tokens for t in traces]),
        np.array([t.seconds for t in traces]),
    )


def calibrate(
    config: TransformerConfig,
    traces: Sequence[Trace],
    roofline: Roofline,
    *,
    held_out: float = 0.25,
    epochs: int = 3000,
    seed: int = 0,
) -> CalibrationReport:
    """Fit every delay model on the training traces and score it on the held-out ones."""
    train, test = split_traces(traces, held_out, seed)
    m, m_new, seconds = _columns(train)
    m_test, new_test, seconds_test = _columns(test)
    h, layers = config.hidden_size, config.num_layers

    def paper(ms, news):
        return np.array([paper_step_flops(a, h, layers, b) for a, b in zip(ms, news)])

    def architecture(ms, news):
        return np.array([step_flops(config, a, b).total for a, b in zip(ms, news)])

    paper_rate = fit_flops_per_s(paper(m, m_new), seconds)
    architecture_rate = fit_flops_per_s(architecture(m, m_new), seconds)
    predictor = fit_delay_predictor(m, m_new, seconds, epochs=epochs, seed=seed)
    predictions = {
        "paper eq. (17), fitted FLOP/s": paper(m_test, new_test) / paper_rate,
        "architecture FLOPs, fitted FLOP/s": architecture(m_test, new_test) / architecture_rate,
        "roofline, measured peak and bandwidth": np.array(
            [roofline_step_time_s(config, a, b, roofline, "fp32") for a, b in zip(m_test, new_test)]
        ),
        "D_psi": predictor.predict_s(m_test, new_test),
    }
    errors = {
        name: mean_absolute_percentage_error(predicted, seconds_test)
        for name, predicted in predictions.items()
    }
    return CalibrationReport(
        predictor, roofline, paper_rate, architecture_rate, errors, len(train), len(test)
    )
