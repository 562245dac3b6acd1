"""Dynamic Attention Sparsification (003 Sec. 3.2): dense when nothing is pruned, the error
within the bound of eqs. (16)-(19) computed from the same run, masks that mean what they say,
and the FlexAttention export."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from opt_offload.costs.configs import preset
from opt_offload.costs.flops import prefill_flops, scale_attention
from opt_offload.costs.sparse_attention import (
    block_structured_qkv,
    cumulative_selection,
    das_attention,
    flex_block_mask,
    self_similarity,
)

from .torch_helpers import one_torch_thread  # noqa: F401  (autouse fixture)


def structured(tokens=256, heads=4, block=32, seed=0, kv_heads=None, dtype=torch.float32):
    q, k, v = block_structured_qkv(
        1, heads, tokens, 32, block, generator=torch.Generator().manual_seed(seed)
    )
    if kv_heads:  # grouped-query attention: keep every (heads / kv_heads)-th K and V head
        k, v = k[:, :: heads // kv_heads], v[:, :: heads // kv_heads]
    return q.to(dtype), k.to(dtype), v.to(dtype)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("kv_heads", [None, 2])
def test_tau_one_and_no_value_pruning_is_dense_attention(causal, kv_heads):
    q, k, v = structured(kv_heads=kv_heads)
    result = das_attention(q, k, v, block_size=32, tau=1.0, epsilon_pv=0.0, causal=causal)
    group = q.shape[1] // k.shape[1]
    dense = F.scaled_dot_product_attention(
        q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1), is_causal=causal
    )
    assert torch.allclose(result.output, dense, atol=1e-5, rtol=0)
    assert result.kept_fraction == 1.0
    assert torch.equal(result.block_mask, result.pattern.expand_as(result.block_mask))


@pytest.mark.parametrize("theta_b", [0.3, 0.6, 0.9])
@pytest.mark.parametrize("tau", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("epsilon_pv", [0.0, 1e-3])
def test_error_within_the_bound_per_block_row(theta_b, tau, epsilon_pv):
    q, k, v = structured(dtype=torch.float64)
    result = das_attention(q, k, v, block_size=32, theta_b=theta_b, tau=tau, epsilon_pv=epsilon_pv)
    assert result.kept_fraction < 1.0  # something was pruned, so the bound is not vacuous
    assert bool((result.row_error <= result.row_bound + 1e-12).all())
    assert result.error <= result.bound
    assert result.unnormalised_error <= result.paper_bound  # eq. (13)'s output, eq. (19)'s bound


@given(
    seed=st.integers(0, 2**16),
    theta_b=st.floats(-1.0, 1.0),
    tau=st.floats(0.05, 1.0),
    epsilon_pv=st.sampled_from([0.0, 1e-4, 1e-2, 0.2]),
    causal=st.booleans(),
)
def test_bound_holds_on_random_inputs(seed, theta_b, tau, epsilon_pv, causal):
    generator = torch.Generator().manual_seed(seed)
    q, k, v = (
        3 * torch.randn(1, 2, 64, 8, generator=generator, dtype=torch.float64) for _ in range(3)
    )
    result = das_attention(
        q, k, v, block_size=16, theta_b=theta_b, tau=tau, epsilon_pv=epsilon_pv, causal=causal
    )
    assert bool((result.row_error <= result.row_bound + 1e-12).all())
    assert bool((result.value_mask <= result.block_mask).all())  # M_pv within M_g


def test_value_pruned_blocks_hold_only_small_probabilities():
    # eq. (17)'s premise: every element of a value-pruned block of the dense P is below eps
    q, k, v = structured(dtype=torch.float64)
    eps = 1e-3
    result = das_attention(q, k, v, block_size=32, tau=1.0, epsilon_pv=eps)
    pruned = result.block_mask & ~result.value_mask
    assert bool(pruned.any())
    scores = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])).masked_fill(
        ~torch.ones(256, 256, dtype=torch.bool).tril(), float("-inf")
    )
    dense = scores.softmax(-1).view(1, 4, 8, 32, 8, 32).amax(dim=(3, 5))
    assert bool((dense[pruned] < eps).all())


def test_always_keep_blocks_that_are_not_self_similar():
    q, k, v = structured()
    result = das_attention(q, k, v, block_size=32, theta_b=0.6, tau=0.5)
    unlike = ~result.similar_queries.unsqueeze(-1) | ~result.similar_keys.unsqueeze(-2)
    assert bool(unlike.any()) and bool(result.similar_queries.any())
    assert bool(result.block_mask[unlike & result.pattern].all())  # M_g covers S_P


def test_lower_tau_keeps_fewer_blocks():
    q, k, v = structured()
    kept = [
        das_attention(q, k, v, block_size=32, theta_b=0.5, tau=t).block_mask
        for t in (0.5, 0.9, 0.99, 1.0)
    ]
    for smaller, larger in zip(kept, kept[1:]):
        assert bool((smaller <= larger).all())
    assert kept[0].sum() < kept[-1].sum()


def test_cumulative_selection_and_self_similarity_by_hand():
    probabilities = torch.tensor([[0.1, 0.6, 0.3, 0.0]])
    assert cumulative_selection(probabilities, 0.6).tolist() == [[False, True, False, False]]
    assert cumulative_selection(probabilities, 0.61).tolist() == [[False, True, True, False]]
    assert cumulative_selection(probabilities, 1.0).all()
    same = torch.ones(1, 4, 3)
    orthogonal = torch.eye(4).unsqueeze(0)
    assert self_similarity(same).item() == pytest.approx(1.0)
    assert self_similarity(orthogonal).item() == pytest.approx(1 / 4)


def test_flops_accounting_and_the_flops_model():
    q, k, v = structured()
    result = das_attention(q, k, v, block_size=32, theta_b=0.5, tau=0.9, epsilon_pv=1e-3)
    blocks = 8 * 9 // 2  # causal pattern of 8 x 8 blocks, per head
    assert result.flops_dense == 2 * blocks * 4 * (2 * 32 * 32 * 32)
    kept = int(result.block_mask.sum() + result.value_mask.sum())
    assert result.kept_fraction == pytest.approx(kept / (2 * blocks * 4))
    assert result.flops_saved == result.flops_dense - result.flops_kept - result.flops_overhead
    full = prefill_flops(preset("llama2-7b"), 1024)
    sparse = scale_attention(full, result.kept_fraction)
    assert sparse.attention == pytest.approx(full.attention * result.kept_fraction)
    assert sparse.total - sparse.attention == full.total - full.attention
    with pytest.raises(ValueError):
        scale_attention(full, 1.5)


@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
def test_flex_attention_with_the_exported_mask_matches_das():
    pytest.importorskip("torch.nn.attention.flex_attention")
    from torch.nn.attention.flex_attention import flex_attention

    q, k, v = structured(tokens=128, heads=2)
    result = das_attention(q, k, v, block_size=32, theta_b=0.5, tau=0.8)
    assert result.kept_fraction < 1.0
    output = flex_attention(q, k, v, block_mask=flex_block_mask(result.block_mask, 32))
    assert torch.allclose(output, result.output, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"block_size": 48}, "not a multiple of block_size"),
        ({"tau": 0.0}, "tau must lie in"),
        ({"epsilon_pv": 1.0}, "epsilon_pv must lie in"),
    ],
)
def test_bad_arguments(kwargs, message):
    q, k, v = structured(tokens=64, heads=2)
    with pytest.raises(ValueError, match=message):
        das_attention(q, k, v, **{"block_size": 32, **kwargs})
    with pytest.raises(ValueError, match="multiple of KV heads"):
        das_attention(q, k[:, :1].expand(1, 3, 64, 32), v[:, :1].expand(1, 3, 64, 32))
