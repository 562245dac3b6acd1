"""Bytes a transformer holds and moves (design §7): weights and KV cache, for the roofline
latency model. Norm weights are counted; biases are not (TransformerConfig has none; Qwen2's
Q/K/V biases are under 0.01% of its parameters)."""

from __future__ import annotations

from .configs import DTYPE_BYTES, TransformerConfig


def layer_parameters(config: TransformerConfig) -> int:
    """One decoder layer: Q, K, V, O projections, the MLP matrices and two RMSNorm weights."""
    h, kv, inner = config.hidden_size, config.kv_dim, config.intermediate_size
    mlp_matrices = 3 if config.gated_mlp else 2
    return 2 * h * h + 2 * h * kv + mlp_matrices * h * inner + 2 * h


def parameter_count(config: TransformerConfig) -> int:
    """All weights: embedding, layers, final norm, and the LM head unless tied to the embedding."""
    table = config.vocab_size * config.hidden_size
    head = 0 if config.tie_word_embeddings else table
    return table + config.num_layers * layer_parameters(config) + config.hidden_size + head


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r} (known: {', '.join(DTYPE_BYTES)})") from None


def weight_bytes(config: TransformerConfig, dtype: str = "fp16") -> float:
    return parameter_count(config) * dtype_bytes(dtype)


def kv_cache_bytes(config: TransformerConfig, tokens: int, dtype: str = "fp16") -> float:
    """K and V of ``tokens`` positions in every layer."""
    return 2 * config.num_layers * config.kv_dim * tokens * dtype_bytes(dtype)


def weights_read_per_forward(config: TransformerConfig, dtype: str = "fp16") -> float:
    """Weights one forward pass reads: every layer, the final norm and the LM head, but only the
    embedding rows it looks up (one per token, negligible), so an untied table is not read."""
    read = config.num_layers * layer_parameters(config) + config.hidden_size
    return (read + config.vocab_size * config.hidden_size) * dtype_bytes(dtype)


def decode_bytes(config: TransformerConfig, cache_len: int, dtype: str = "fp16") -> float:
    """One decode step: the weights once, the cache of ``cache_len`` tokens read, one token's
    K and V written. Activations are a few hidden vectors and are left out."""
    cache = kv_cache_bytes(config, cache_len + 1, dtype)
    return weights_read_per_forward(config, dtype) + cache


def prefill_bytes(config: TransformerConfig, m: int, dtype: str = "fp16") -> float:
    """A prefill of m tokens: the weights once and the m tokens' K and V written."""
    return weights_read_per_forward(config, dtype) + kv_cache_bytes(config, m, dtype)
