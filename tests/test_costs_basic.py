"""The paper's FLOPs formulas (PRADA eqs. 14-18) and the channel model (eqs. 4-5)."""

from __future__ import annotations

import numpy as np
import pytest

from opt_offload.costs.channel import (
    db_to_linear,
    in_outage,
    rayleigh_snr_db,
    shannon_rate_bps,
    upload_time_s,
)
from opt_offload.costs.configs import PRESETS, load_hf_config, preset
from opt_offload.costs.flops import paper_decode_flops, paper_prefill_flops, paper_step_flops
from opt_offload.errors import InputError


def test_paper_flops_by_hand():
    # m = 2, o = 3, v = 4: (14) 4 (2*4*3 + 2*2*3 + 4*2*9) = 4 (24 + 12 + 72) = 432
    assert paper_prefill_flops(2, 3, 4) == 432
    assert paper_decode_flops(2, 3, 4) == 4 * (9 + 6)
    # (16): 5*9 + 3*5*(4 + 5 - 1)/2 = 45 + 60; no layer factor
    assert paper_step_flops(2, 3, 4, 5) == 105
    assert paper_step_flops(2, 3, 40, 5) == 105


def test_step_flops_sum_of_decode_tokens_without_layers():
    # (16) equals sum over the m_new tokens of o^2 + o (m + k), k = 0..m_new-1: eq. (15), v = 1
    m, o, m_new = 37, 64, 9
    by_token = sum(paper_decode_flops(m + k, o, 1) for k in range(m_new))
    assert paper_step_flops(m, o, 1, m_new) == pytest.approx(by_token)


def test_channel():
    assert shannon_rate_bps(1e6, 3.0) == pytest.approx(2e6)
    assert upload_time_s(32 * 1000, 1e6, 15.0) == pytest.approx(32e3 / 4e6)
    assert db_to_linear(10.0) == pytest.approx(10.0)
    assert in_outage(-0.1, 0.0) and not in_outage(0.0, 0.0)


def test_rayleigh_mean_is_the_mean_snr():
    draws = rayleigh_snr_db(10.0, 200_000, np.random.default_rng(0))
    assert np.mean(10 ** (draws / 10)) == pytest.approx(10.0, rel=0.02)


def test_presets_and_hf_config(tmp_path):
    qwen = preset("qwen2.5-math-1.5b")
    assert (qwen.head_dim, qwen.kv_dim) == (128, 256)
    assert set(PRESETS) >= {"llama2-7b", "llama2-13b", "llama-68m", "qwen2.5-math-7b"}
    path = tmp_path / "config.json"
    path.write_text(
        '{"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 8,'
        ' "num_key_value_heads": 2, "intermediate_size": 688, "vocab_size": 1000}'
    )
    config = load_hf_config(path)
    assert config.num_kv_heads == 2 and config.name == "config"


def test_config_errors(tmp_path):
    with pytest.raises(InputError, match="unknown model preset 'gpt-5'"):
        preset("gpt-5")
    path = tmp_path / "config.json"
    path.write_text(
        '{"hidden_size": 256, "num_hidden_layers": 0, "num_attention_heads": 8,'
        ' "intermediate_size": 10, "vocab_size": 10}'
    )
    with pytest.raises(InputError) as info:
        load_hf_config(path)
    assert info.value.problems == ["num_layers: Input should be greater than 0"]
    path.write_text(
        '{"hidden_size": 250, "num_hidden_layers": 2, "num_attention_heads": 8,'
        ' "num_key_value_heads": 3, "intermediate_size": 10, "vocab_size": 10}'
    )
    with pytest.raises(InputError) as info:
        load_hf_config(path)
    assert info.value.problems == [
        "num_heads: 8 heads do not divide hidden_size 250",
        "num_kv_heads: 3 KV heads do not divide num_heads 8",
    ]


def test_architecture_counts_by_hand():
    from opt_offload.costs.configs import TransformerConfig
    from opt_offload.costs.flops import decode_flops, generation_flops, prefill_flops, step_flops

    # h = 8, 2 heads of 4, 1 KV head (kv_dim 4), I = 16, V = 10, 2 layers
    tiny = TransformerConfig(
        name="tiny",
        hidden_size=8,
        num_layers=2,
        num_heads=2,
        num_kv_heads=1,
        intermediate_size=16,
        vocab_size=10,
    )
    # per token and layer: projections 2 (2*64 + 2*8*4) = 384; MLP 2 * 3 * 8 * 16 = 768
    pre = prefill_flops(tiny, 3)
    assert pre.projections == 3 * 2 * 384 and pre.mlp == 3 * 2 * 768
    assert pre.attention == 2 * 2 * 2 * 9 * 8  # layers x (QK + AV) x 2 m^2 h
    assert pre.lm_head == 3 * 2 * 8 * 10
    dec = decode_flops(tiny, 3)
    assert dec.attention == 2 * 2 * 2 * 4 * 8 and dec.lm_head == 160
    assert step_flops(tiny, 3, 2).total == decode_flops(tiny, 3).total + decode_flops(tiny, 4).total
    gen = generation_flops(tiny, 3, 2)
    assert gen.total == prefill_flops(tiny, 3, logits="last").total + dec.total
