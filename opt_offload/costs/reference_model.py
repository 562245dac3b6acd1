"""A decoder-only transformer in plain torch, built from a :class:`TransformerConfig` with random
weights: what ``opt-offload calibrate`` times on the machine it runs on (design §7).

Llama/Qwen2 shape: RMSNorm, grouped-query attention with a KV cache, gated SiLU MLP, LM head.
Attention is written as two matrix products (what Hugging Face calls "eager"), so
``FlopCounterMode`` sees the same products as :mod:`opt_offload.costs.flops` counts. Rotary
position embeddings are left out: element-wise work that changes neither the FLOP count nor,
measurably, the time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .configs import TransformerConfig

KVCache = list[tuple[torch.Tensor, torch.Tensor]]


class DecoderLayer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        h, kv, inner = config.hidden_size, config.kv_dim, config.intermediate_size
        self.heads, self.kv_heads, self.head_dim = (
            config.num_heads,
            config.num_kv_heads,
            config.head_dim,
        )
        self.attention_norm = nn.RMSNorm(h)
        self.q, self.k, self.v = (
            nn.Linear(h, h, bias=False),
            nn.Linear(h, kv, bias=False),
            nn.Linear(h, kv, bias=False),
        )
        self.o = nn.Linear(h, h, bias=False)
        self.mlp_norm = nn.RMSNorm(h)
        self.gate = nn.Linear(h, inner, bias=False) if config.gated_mlp else None
        self.up, self.down = nn.Linear(h, inner, bias=False), nn.Linear(inner, h, bias=False)

    def _split(self, x: torch.Tensor, heads: int) -> torch.Tensor:
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, heads, self.head_dim).transpose(1, 2)

    def attention(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None):
        q = self._split(self.q(x), self.heads)
        k, v = self._split(self.k(x), self.kv_heads), self._split(self.v(x), self.kv_heads)
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        group = self.heads // self.kv_heads
        keys, values = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = q @ keys.transpose(-1, -2) / math.sqrt(self.head_dim)
        new, total = q.shape[2], keys.shape[2]
        if new > 1:  # causal: new token t sees the cache and new tokens up to t
            visible = torch.ones(new, total, dtype=torch.bool).tril(diagonal=total - new)
            scores = scores.masked_fill(~visible, float("-inf"))
        out = (scores.softmax(dim=-1) @ values).transpose(1, 2).flatten(2)
        return self.o(out), (k, v)

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None):
        attended, cache = self.attention(self.attention_norm(x), cache)
        x = x + attended
        hidden = self.mlp_norm(x)
        inner = (
            self.up(hidden)
            if self.gate is None
            else nn.functional.silu(self.gate(hidden)) * self.up(hidden)
        )
        return x + self.down(inner), cache


class ReferenceDecoder(nn.Module):
    """``forward(ids, cache)`` returns the logits of the last position and the extended cache."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_layers))
        self.norm = nn.RMSNorm(config.hidden_size)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.embedding.weight

    def forward(
        self, ids: torch.Tensor, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, KVCache]:
        x = self.embedding(ids)
        new_cache = []
        for index, layer in enumerate(self.layers):
            x, layer_cache = layer(x, None if cache is None else cache[index])
            new_cache.append(layer_cache)
        return self.lm_head(self.norm(x[:, -1:])), new_cache


def reference_model(config: TransformerConfig, *, seed: int = 0) -> ReferenceDecoder:
    """Random weights (seeded), evaluation mode."""
    torch.manual_seed(seed)
    return ReferenceDecoder(config).eval()
