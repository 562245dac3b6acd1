"""FLOP counts of transformer inference (design §7): the paper's formulas and an
architecture-exact count.

``paper_*`` are PRADA's eqs. (14)-(16) verbatim, with m the context length, o the hidden size,
v the number of decoder layers. What the printed formulas count, read against the
architecture count below (``opt-offload flops`` prints both and their ratio):

- Eq. (14) has no MLP term and no LM head: ``4 m o^2`` covers the four attention projections
  only, and ``2 m^2 o`` the two attention products counted once (2 FLOP per multiply-add would
  give ``4 m^2 o``; a causal kernel computing only the lower triangle would give ``2 m^2 o``).
  ``2 m o`` (softmax) is element-wise work, which the architecture count leaves out.
- Eq. (15) charges ``o^2`` per layer for the projections and the MLP of one token, against
  ``2 (2 o^2 + 2 o kv) + 2 * 3 o I`` here (about 36 o^2 for Qwen2.5-Math-7B, LM head apart),
  and ``m o`` for attention, against ``4 (m + 1) o`` (both products, the new key included).
- Eq. (16) as printed, kept on purpose: it has no layer factor v (unlike (14) and (15)), and
  its ``o^2`` term counts one hidden-size squared per new token for the whole block. It equals
  the sum of eq. (15) with v = 1 over the m_new new tokens, each attending to m + k keys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .configs import TransformerConfig


def paper_prefill_flops(m: int, o: int, v: int) -> float:
    """Eq. (14): v (2 m^2 o + 2 m o + 4 m o^2)."""
    return v * (2 * m * m * o + 2 * m * o + 4 * m * o * o)


def paper_decode_flops(m: int, o: int, v: int) -> float:
    """Eq. (15): v (o^2 + m o), one new token against a cache of length m."""
    return v * (o * o + m * o)


def paper_step_flops(m: int, o: int, v: int, m_new: int) -> float:
    """Eq. (16) as printed: m_new o^2 + o m_new (2m + m_new - 1) / 2 (v unused, see above)."""
    del v  # eq. (16) has no layer factor
    return m_new * o * o + o * m_new * (2 * m + m_new - 1) / 2


# Architecture-exact counts for decoder-only transformers (grouped-query attention, gated MLP).
# A matrix product of (a x b) by (b x c) costs 2abc FLOP, the convention of
# torch.utils.flop_counter.FlopCounterMode; element-wise work (norms, softmax, activations,
# rotary embeddings) is not counted, as that counter does not count it either.


@dataclass(frozen=True)
class FlopBreakdown:
    """FLOP of a forward computation by part, all layers included."""

    projections: float = 0.0  # Q, K, V and output projections
    attention: float = 0.0  # Q K^T scores and the weighted sum of V
    mlp: float = 0.0
    lm_head: float = 0.0

    @property
    def total(self) -> float:
        return self.projections + self.attention + self.mlp + self.lm_head

    def __add__(self, other: FlopBreakdown) -> FlopBreakdown:
        return FlopBreakdown(
            self.projections + other.projections,
            self.attention + other.attention,
            self.mlp + other.mlp,
            self.lm_head + other.lm_head,
        )


def per_token_linear_flops(config: TransformerConfig) -> FlopBreakdown:
    """Projections, MLP and LM head for one token (all layers)."""
    h, kv, inner = config.hidden_size, config.kv_dim, config.intermediate_size
    mlp_matrices = 3 if config.gated_mlp else 2  # gate, up, down (or up, down)
    return FlopBreakdown(
        projections=config.num_layers * 2 * (2 * h * h + 2 * h * kv),
        mlp=config.num_layers * 2 * mlp_matrices * h * inner,
        lm_head=2 * h * config.vocab_size,
    )


def prefill_flops(
    config: TransformerConfig, m: int, *, logits: Literal["all", "last"] = "all"
) -> FlopBreakdown:
    """A forward pass over m prompt tokens with an empty cache.

    Eager attention computes the full m x m score matrix (the causal mask is applied after),
    so QK^T and AV cost 2 m^2 h each per layer. ``logits="all"`` computes the LM head for every
    position (a plain forward call); ``"last"`` only for the last (what generation needs).
    """
    linear = per_token_linear_flops(config)
    head_tokens = m if logits == "all" else 1
    return FlopBreakdown(
        projections=m * linear.projections,
        attention=config.num_layers * 2 * 2 * m * m * config.hidden_size,
        mlp=m * linear.mlp,
        lm_head=head_tokens * linear.lm_head,
    )


def decode_flops(config: TransformerConfig, cache_len: int) -> FlopBreakdown:
    """One new token with ``cache_len`` tokens in the KV cache: it attends to cache_len + 1 keys."""
    linear = per_token_linear_flops(config)
    keys = cache_len + 1
    return FlopBreakdown(
        projections=linear.projections,
        attention=config.num_layers * 2 * 2 * keys * config.hidden_size,
        mlp=linear.mlp,
        lm_head=linear.lm_head,
    )


def step_flops(config: TransformerConfig, m: int, m_new: int) -> FlopBreakdown:
    """m_new tokens decoded one by one after a cache of m tokens (the architecture-exact
    counterpart of eq. 16: the prefill is not included)."""
    total = FlopBreakdown()
    for k in range(m_new):
        total = total + decode_flops(config, m + k)
    return total


def generation_flops(config: TransformerConfig, m: int, m_new: int) -> FlopBreakdown:
    """Prefill of an m-token prompt (LM head at the last position only), which yields the first
    new token, then m_new - 1 decode steps."""
    if m_new < 1:
        raise ValueError("m_new must be at least 1")
    return prefill_flops(config, m, logits="last") + step_flops(config, m, m_new - 1)


def scale_attention(breakdown: FlopBreakdown, kept_fraction: float) -> FlopBreakdown:
    """The same computation with block-sparse attention (design §7): only the attention products
    shrink, to the fraction of block products a sparse kernel keeps (DAS, 003 Sec. 3.2)."""
    if not 0.0 <= kept_fraction <= 1.0:
        raise ValueError(f"kept fraction must lie in [0, 1], got {kept_fraction}")
    return replace(breakdown, attention=breakdown.attention * kept_fraction)


def generation_flops_total(config: TransformerConfig, prompt, generated):
    """:func:`generation_flops` ``.total`` in closed form, element-wise over numpy arrays (a
    trace of 19,366 requests in one expression instead of a loop over every decoded token):
    prefill ``m (projections + MLP) + 4 L h m^2 + LM head``, then n - 1 decode steps after a
    cache of m, the k-th attending to m + k + 1 keys: ``(n - 1) linear + 4 L h ((n - 1) m +
    (n - 1) n / 2)``."""
    import numpy as np

    m = np.asarray(prompt, dtype=np.float64)
    n = np.asarray(generated, dtype=np.float64)
    if np.any(n < 1):
        raise ValueError("generated tokens must be at least 1")
    linear = per_token_linear_flops(config)
    attention = 4.0 * config.num_layers * config.hidden_size
    prefill = m * (linear.projections + linear.mlp) + attention * m * m + linear.lm_head
    steps = n - 1
    return prefill + steps * linear.total + attention * (steps * m + steps * n / 2)
