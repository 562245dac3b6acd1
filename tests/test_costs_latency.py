"""Latency models (design §7): eqs. (17)-(18), the roofline, weight and KV bytes, the learned
delay predictor D_psi and the calibration that fits it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from opt_offload.costs.calibration import (
    Trace,
    calibrate,
    fit_flops_per_s,
    record_step_traces,
    split_traces,
)
from opt_offload.costs.configs import TransformerConfig, preset
from opt_offload.costs.flops import decode_flops, paper_step_flops, prefill_flops
from opt_offload.costs.latency import (
    FLOPS_LLM,
    Roofline,
    paper_step_time_s,
    roofline_prefill_time_s,
    roofline_step_time_s,
)
from opt_offload.costs.memory import decode_bytes, kv_cache_bytes, parameter_count, weight_bytes
from opt_offload.costs.predictor import DelayPredictor, fit_delay_predictor
from opt_offload.costs.predictor import mean_absolute_percentage_error as mape
from opt_offload.costs.reference_model import reference_model

from .torch_helpers import one_torch_thread  # noqa: F401  (autouse fixture)

TINY = TransformerConfig(
    name="tiny",
    hidden_size=32,
    num_layers=2,
    num_heads=4,
    num_kv_heads=2,
    intermediate_size=64,
    vocab_size=50,
)
# An H100 SXM as a roofline (NVIDIA H100 datasheet: 989 TFLOP/s dense BF16, 3.35 TB/s HBM3).
H100 = Roofline(peak_flops=989e12, memory_bandwidth=3.35e12)


def test_parameter_counts_match_the_published_ones():
    # Llama-2 safetensors totals: 6,738,415,616 and 13,015,864,320 parameters.
    assert parameter_count(preset("llama2-7b")) == 6_738_415_616
    assert parameter_count(preset("llama2-13b")) == 13_015_864_320
    # Qwen2.5-7B: 7.61B with its Q/K/V biases (28 layers x (3584 + 2 x 512)), not modelled here.
    assert parameter_count(preset("qwen2.5-math-7b")) + 28 * (3584 + 2 * 512) == 7_615_616_512
    assert parameter_count(preset("llama-68m")) == 68_030_208


def test_bytes():
    llama = preset("llama2-7b")
    assert weight_bytes(llama, "fp16") == 2 * 6_738_415_616
    # K and V, 32 layers of 4096 values, 2 bytes each: 512 KiB per token
    assert kv_cache_bytes(llama, 1, "fp16") == 2 * 32 * 4096 * 2 == 524_288
    embedding = 32000 * 4096 * 2  # an untied table is looked up, not read
    assert decode_bytes(llama, 99) == weight_bytes(llama) - embedding + kv_cache_bytes(llama, 100)


def test_paper_latency_is_eq_16_over_flops():
    qwen = preset("qwen2.5-math-7b")
    expected = paper_step_flops(300, 3584, 28, 20) / FLOPS_LLM
    assert paper_step_time_s(qwen, 300, 20) == pytest.approx(expected)


def test_roofline_decode_is_memory_bound_and_prefill_compute_bound():
    llama = preset("llama2-7b")
    one_token = roofline_step_time_s(llama, 512, 1, H100)
    assert one_token == pytest.approx(decode_bytes(llama, 512) / H100.memory_bandwidth)
    assert decode_flops(llama, 512).total / decode_bytes(llama, 512) < H100.ridge_intensity
    prefill = roofline_prefill_time_s(llama, 2048, H100)
    assert prefill == pytest.approx(prefill_flops(llama, 2048, logits="last").total / 989e12)
    assert roofline_step_time_s(llama, 512, 3, H100) > 3 * one_token  # the cache grows
    with pytest.raises(ValueError):
        Roofline(0.0, 1.0)


def test_reference_model_runs_with_a_cache():
    model = reference_model(TINY)
    prompt = torch.randint(50, (1, 7))
    with torch.inference_mode():
        full, _ = model(prompt)
        _, cache = model(prompt[:, :6])
        step, cache = model(prompt[:, 6:], cache)
    assert torch.allclose(full, step, atol=1e-5)  # decoding with the cache = recomputing
    assert cache[0][0].shape == (1, 2, 7, 8)  # (batch, KV heads, tokens, head_dim)
    assert sum(p.numel() for p in model.parameters()) == parameter_count(TINY)


def synthetic_traces(noise: float = 0.02, seed: int = 0) -> list[Trace]:
    """A known delay law (fixed cost, linear and quadratic terms in m) with lognormal noise."""
    rng = np.random.default_rng(seed)
    traces = []
    for m in np.unique(np.geomspace(16, 4096, 24).astype(int)):
        for new in (1, 8, 32):
            seconds = new * (2e-3 + 1e-6 * m + 2e-10 * m * m) * rng.lognormal(0, noise)
            traces.append(Trace(int(m), new, float(seconds)))
    return traces


def test_d_psi_learns_a_delay_law_and_round_trips(tmp_path):
    train, test = split_traces(synthetic_traces(), 0.25, seed=0)
    columns = [np.array([getattr(t, f) for t in train]) for f in Trace.__dataclass_fields__]
    predictor = fit_delay_predictor(*columns, epochs=1500)
    m, new, seconds = ([getattr(t, f) for t in test] for f in Trace.__dataclass_fields__)
    assert mape(predictor.predict_s(m, new), seconds) < 5.0  # the noise is 2%
    path = tmp_path / "d_psi.pt"
    predictor.save(path)
    assert np.allclose(DelayPredictor.load(path).predict_s(m, new), predictor.predict_s(m, new))


def test_fitted_rate_and_split():
    flops = np.array([1e9, 4e9, 9e9])
    assert fit_flops_per_s(flops, flops / 2e9) == pytest.approx(2e9)
    traces = synthetic_traces()
    train, test = split_traces(traces, 0.25, seed=3)
    assert len(test) == round(0.25 * len(traces)) and len(train) + len(test) == len(traces)
    assert {id(t) for t in train}.isdisjoint({id(t) for t in test})


def test_calibration_end_to_end_tiny():
    traces = record_step_traces(TINY, [8, 16, 32, 64], [1, 2], repeats=1)
    assert [(t.context_tokens, t.new_tokens) for t in traces][:3] == [(8, 1), (8, 2), (16, 1)]
    assert all(t.seconds > 0 for t in traces)
    report = calibrate(TINY, traces, H100, epochs=50)
    assert (report.training_traces, report.held_out_traces) == (6, 2)
    assert set(report.held_out_mape) >= {"D_psi", "roofline, measured peak and bandwidth"}
    assert all(np.isfinite(error) and error >= 0 for error in report.held_out_mape.values())
