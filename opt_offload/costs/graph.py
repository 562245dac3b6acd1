"""Tensor graphs of decoder-only transformers for placement (design §6).

A networkx DiGraph whose nodes are tensors: weights, KV caches, activations (each activation
node is the output of the operator that computes it, so it carries that operator's FLOP), plus
the input token ids and the sampled output ids. Node attributes: ``bytes`` (memory held),
``flop`` (FLOP of the operator, per step), ``layer``, ``model``, ``role`` (weight, cache,
activation, input, output) and ``group`` (the per-layer node it belongs to). An edge (u, v)
carries ``bytes``: what moves from u to v per step when they sit on different devices (a whole
weight for a matrix product, the read rows for the embedding lookup, the whole cache for
attention, the new keys/values for a cache append).

Layers are numbered as a stack: 0 the embedding, 1..n the decoder blocks, n + 1 the final
norm and LM head. ``granularity="tensor"`` keeps every tensor; ``"layer"`` contracts each layer
to one node (its weights, KV cache and activations together).

FLOP follow :mod:`opt_offload.costs.flops` (2abc per product, element-wise work not counted),
so one pass of one sequence over ``tokens`` new tokens after ``context`` cached ones totals
``prefill_flops`` (context 0) or ``decode_flops`` (one token) per sequence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from .configs import DTYPE_BYTES, TransformerConfig

TOKEN_ID_BYTES = 8  # int64, torch's dtype for token ids
Granularity = Literal["layer", "tensor"]


@dataclass(frozen=True)
class Workload:
    """What one step of the model does: ``passes`` forward passes over ``batch`` sequences, each
    pass adding ``tokens`` tokens after ``context`` cached ones."""

    batch: int = 1
    context: int = 512
    tokens: int = 1
    passes: int = 1
    dtype: str = "fp16"

    def __post_init__(self):
        for name in ("batch", "tokens", "passes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.context < 0:
            raise ValueError("context must be non-negative")
        if self.dtype not in DTYPE_BYTES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPE_BYTES)}")

    @property
    def dtype_bytes(self) -> int:
        return DTYPE_BYTES[self.dtype]

    def activation_bytes(self, width: int) -> float:
        """A (batch, tokens, width) activation."""
        return self.batch * self.tokens * width * self.dtype_bytes

    def cache_bytes(self, width: int) -> float:
        """One K (or V) cache of a layer after this pass appends its tokens."""
        return self.batch * (self.context + self.tokens) * width * self.dtype_bytes


class _Builder:
    """Adds the tensors of one model, layer by layer, prefixing ids with the model's name."""

    def __init__(self, graph: nx.DiGraph, model: str, workload: Workload):
        self.graph, self.model, self.w = graph, model, workload
        self.layer, self.group = 0, "embed"

    def at(self, layer: int, group: str) -> None:
        """Tensors added from now on belong to ``layer`` and the per-layer node ``group``."""
        self.layer, self.group = layer, group

    def node(self, name: str, role: str, nbytes: float, flop: float = 0.0, group=None) -> str:
        node = f"{self.model}.{name}"
        self.graph.add_node(
            node,
            bytes=float(nbytes),
            flop=float(flop) * self.w.passes,
            layer=self.layer,
            model=self.model,
            role=role,
            group=f"{self.model}.{group or self.group}",
        )
        return node

    def weight(self, name: str, params: int) -> str:
        return self.node(name, "weight", params * self.w.dtype_bytes)

    def op(self, name: str, width: int, flop: float, *reads: str) -> str:
        """An activation of ``width`` features per token, computed by an operator of ``flop``
        FLOP that reads the whole of each tensor in ``reads``."""
        node = self.node(name, "activation", self.w.activation_bytes(width), flop)
        for source in reads:
            self.edge(source, node, self.graph.nodes[source]["bytes"])
        return node

    def edge(self, source: str, target: str, nbytes: float) -> None:
        self.graph.add_edge(source, target, bytes=float(nbytes) * self.w.passes)


def _embedding(b: _Builder, c: TransformerConfig) -> tuple[str, str]:
    """Returns the embedding table (the LM head when tied) and the embedded tokens."""
    b.at(0, "embed")
    tokens = b.node("tokens", "input", b.w.batch * b.w.tokens * TOKEN_ID_BYTES, group="tokens")
    table = b.weight("embed_tokens", c.vocab_size * c.hidden_size)
    x = b.op("embed", c.hidden_size, 0, tokens)
    # the lookup reads one row of the table per token, not the whole table
    b.edge(table, x, b.w.activation_bytes(c.hidden_size))
    return table, x


def _block(b: _Builder, c: TransformerConfig, layer: int, x: str) -> str:
    """Decoder block ``layer`` (pre-norm attention with a grouped-query KV cache, gated MLP)
    reading the residual stream ``x``; returns the block's output activation."""
    b.at(layer, f"L{layer}")
    h, kv, inner, p = c.hidden_size, c.kv_dim, c.intermediate_size, f"L{layer}."
    bt = b.w.batch * b.w.tokens
    # the residual stream enters through one node, so that a cut between blocks moves it once
    # although two operators (the norm and the residual add) read it
    x = b.op(p + "input", h, 0, x)
    attn_in = b.op(p + "attn_in", h, 0, x, b.weight(p + "attn_norm", h))
    q = b.op(p + "q", h, 2 * bt * h * h, attn_in, b.weight(p + "wq", h * h))
    caches = []
    for name in ("k", "v"):
        new = b.op(p + name, kv, 2 * bt * h * kv, attn_in, b.weight(p + f"w{name}", h * kv))
        cache = b.node(p + f"{name}_cache", "cache", b.w.cache_bytes(kv))
        b.edge(new, cache, b.w.activation_bytes(kv))  # the append of this pass's keys/values
        caches.append(cache)
    # eager attention: scores and weighted values over every cached key, 2 x 2 bt keys h
    keys = b.w.context + b.w.tokens
    attn = b.op(p + "attn", h, 2 * 2 * bt * keys * h, q, *caches)
    o = b.op(p + "o", h, 2 * bt * h * h, attn, b.weight(p + "wo", h * h), x)  # + residual
    mlp_in = b.op(p + "mlp_in", h, 0, o, b.weight(p + "mlp_norm", h))
    names = ("gate", "up") if c.gated_mlp else ("up",)
    hidden = [
        b.op(p + name, inner, 2 * bt * h * inner, mlp_in, b.weight(p + f"w_{name}", h * inner))
        for name in names
    ]
    w_down = b.weight(p + "w_down", inner * h)
    return b.op(p + "down", h, 2 * bt * inner * h, *hidden, w_down, o)  # + residual


def _head(b: _Builder, c: TransformerConfig, table: str, x: str) -> None:
    b.at(c.num_layers + 1, "head")
    h, bt = c.hidden_size, b.w.batch * b.w.tokens
    final = b.op("final", h, 0, x, b.weight("final_norm", h))
    lm_head = table if c.tie_word_embeddings else b.weight("lm_head", h * c.vocab_size)
    logits = b.op("logits", c.vocab_size, 2 * bt * h * c.vocab_size, final, lm_head)
    # sampling runs beside the logits; only the chosen ids travel
    output = b.node("output", "output", bt * TOKEN_ID_BYTES, group="output")
    b.edge(logits, output, bt * TOKEN_ID_BYTES)


def tensor_graph(config: TransformerConfig, workload: Workload, model: str) -> nx.DiGraph:
    """Every tensor of ``config`` for one step of ``workload``; ids start with ``model.``."""
    graph = nx.DiGraph()
    builder = _Builder(graph, model, workload)
    table, x = _embedding(builder, config)
    for layer in range(1, config.num_layers + 1):
        x = _block(builder, config, layer, x)
    _head(builder, config, table, x)
    return graph


def layer_graph(tensors: nx.DiGraph) -> nx.DiGraph:
    """Contract a tensor graph to one node per ``group`` (a layer, the tokens, the output).

    Bytes and FLOP add up. A tensor read by several operators of another group crosses once,
    so an edge between groups carries, per source tensor, the largest of its reads there.
    """
    graph = nx.DiGraph()
    for _, data in tensors.nodes(data=True):
        group = data["group"]
        if group not in graph:
            role = data["role"] if data["role"] in ("input", "output") else "layer"
            graph.add_node(
                group, bytes=0.0, flop=0.0, layer=data["layer"], model=data["model"], role=role
            )
        graph.nodes[group]["bytes"] += data["bytes"]
        graph.nodes[group]["flop"] += data["flop"]
    crossing: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for u, v, nbytes in tensors.edges(data="bytes"):
        gu, gv = tensors.nodes[u]["group"], tensors.nodes[v]["group"]
        if gu != gv:
            crossing[gu, gv][u] = max(crossing[gu, gv].get(u, 0.0), nbytes)
    for (gu, gv), by_source in crossing.items():
        graph.add_edge(gu, gv, bytes=sum(by_source.values()))
    for node in graph:
        graph.nodes[node]["group"] = node
    return graph


def transformer_graph(
    config: TransformerConfig,
    workload: Workload,
    *,
    model: str = "target",
    granularity: Granularity = "layer",
) -> nx.DiGraph:
    tensors = tensor_graph(config, workload, model)
    return tensors if granularity == "tensor" else layer_graph(tensors)


def speculative_graph(
    target: TransformerConfig,
    draft: TransformerConfig | None,
    *,
    batch: int,
    context: int,
    candidates: int,
    dtype: str,
    granularity: Granularity = "layer",
) -> nx.DiGraph:
    """One speculative decoding step: the draft runs ``candidates`` passes of one token, and the
    target verifies them in one pass over candidates + 1 tokens. Without a draft, one ordinary
    decode pass of the target. The draft's sampled ids feed the target's input."""
    if draft is None:
        return transformer_graph(
            target, Workload(batch, context, 1, 1, dtype), granularity=granularity
        )
    verify = Workload(batch, context, candidates + 1, 1, dtype)
    propose = Workload(batch, context, 1, candidates, dtype)
    graph = transformer_graph(target, verify, granularity=granularity)
    drafted = transformer_graph(draft, propose, model="draft", granularity=granularity)
    graph = nx.compose(graph, drafted)
    graph.add_edge(
        "draft.output", "target.tokens", bytes=float(batch * candidates * TOKEN_ID_BYTES)
    )
    return graph
