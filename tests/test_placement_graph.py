"""Transformer tensor graphs (opt_offload/costs/graph.py) and the placement generator: sizes
against published parameter counts, FLOP against the architecture count of costs/flops.py,
layer contraction keeping the totals."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from opt_offload.costs.configs import PRESETS
from opt_offload.costs.flops import decode_flops, prefill_flops
from opt_offload.costs.graph import (
    TOKEN_ID_BYTES,
    Workload,
    layer_graph,
    speculative_graph,
    tensor_graph,
)

from .conftest import run_cli


def total(graph: nx.DiGraph, attribute: str, role: str | None = None) -> float:
    return sum(d[attribute] for _, d in graph.nodes(data=True) if role in (None, d["role"]))


@pytest.mark.parametrize(
    "name, parameters",
    # Hugging Face model cards / safetensors metadata of meta-llama/Llama-2-{7b,13b}-hf
    [("llama2-7b", 6_738_415_616), ("llama2-13b", 13_015_864_320)],
)
@pytest.mark.parametrize("dtype, width", [("int8", 1), ("fp16", 2)])
def test_weights_are_the_published_parameter_counts(name, parameters, dtype, width):
    graph = tensor_graph(PRESETS[name], Workload(dtype=dtype), "target")
    assert total(graph, "bytes", "weight") == parameters * width


@pytest.mark.parametrize("name", list(PRESETS))
def test_decode_flop_match_the_architecture_count(name):
    config = PRESETS[name]
    graph = tensor_graph(config, Workload(batch=3, context=100, tokens=1), "target")
    assert total(graph, "flop") == pytest.approx(3 * decode_flops(config, 100).total, rel=1e-12)


@pytest.mark.parametrize("name", list(PRESETS))
def test_prefill_flop_match_the_architecture_count(name):
    config = PRESETS[name]
    graph = tensor_graph(config, Workload(batch=2, context=0, tokens=17), "target")
    expected = 2 * prefill_flops(config, 17, logits="all").total
    assert total(graph, "flop") == pytest.approx(expected, rel=1e-12)


def test_kv_cache_uses_the_kv_heads():
    config = PRESETS["qwen2.5-math-1.5b"]  # 12 heads, 2 KV heads: kv_dim 256
    graph = tensor_graph(config, Workload(batch=4, context=1000, tokens=2, dtype="fp16"), "t")
    assert graph.nodes["t.L3.k_cache"]["bytes"] == 4 * 1002 * 256 * 2
    assert graph.edges["t.L3.k", "t.L3.k_cache"]["bytes"] == 4 * 2 * 256 * 2  # the append
    assert graph.edges["t.L3.v_cache", "t.L3.attn"]["bytes"] == 4 * 1002 * 256 * 2


@pytest.mark.parametrize("name", ["llama2-7b", "qwen2.5-math-1.5b"])
def test_layer_graph_keeps_totals_and_is_a_chain(name):
    config = PRESETS[name]
    workload = Workload(batch=2, context=64, tokens=3, passes=2)
    tensors = tensor_graph(config, workload, "target")
    layers = layer_graph(tensors)
    assert nx.is_directed_acyclic_graph(tensors)
    assert total(layers, "bytes") == pytest.approx(total(tensors, "bytes"))
    assert total(layers, "flop") == pytest.approx(total(tensors, "flop"))
    assert layers.number_of_nodes() == config.num_layers + 4  # tokens, embed, blocks, head, out
    chain = list(nx.topological_sort(layers))
    extra = set(layers.edges) - set(zip(chain, chain[1:]))
    # a tied LM head reads the embedding table: the one edge that skips layers
    assert extra == ({("target.embed", "target.head")} if config.tie_word_embeddings else set())
    # the residual stream crosses between blocks once, though two operators read it
    residual = 2 * 3 * config.hidden_size * 2 * 2  # batch, tokens, width, fp16, passes
    assert layers.edges["target.L1", "target.L2"]["bytes"] == residual


def test_speculative_step_joins_draft_to_target():
    target, draft = PRESETS["llama2-13b"], PRESETS["llama-68m"]
    graph = speculative_graph(target, draft, batch=16, context=2048, candidates=4, dtype="int8")
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.edges["draft.output", "target.tokens"]["bytes"] == 16 * 4 * TOKEN_ID_BYTES
    # the target verifies candidates + 1 tokens; the draft runs 4 one-token passes
    assert graph.nodes["target.tokens"]["bytes"] == 16 * 5 * TOKEN_ID_BYTES
    assert graph.edges["draft.L1", "draft.L2"]["bytes"] == 4 * 16 * 768


def generate(*args: str):
    result = run_cli("generate", "placement", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_generator_is_deterministic_and_valid():
    args = ("--model", "llama2-7b", "--draft", "llama-68m", "--devices", "paper-testbed-2")
    first, second = run_cli("generate", "placement", *args), run_cli("generate", "placement", *args)
    assert first.returncode == 0 and first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert document["pinned"] == {"target.tokens": "edge-1", "draft.tokens": "edge-1"}
    assert {d["id"] for d in document["devices"]} == {"cloud", "edge-1", "edge-2"}
    nodes = {n["id"]: n for n in document["graph"]["nodes"]}
    assert nodes["target.L5"]["layer"] == 5 and nodes["target.L5"]["model"] == "target"
    assert nodes["target.L5"]["accessed_by"] == ["cloud", "edge-1", "edge-2"]
    assert nodes["target.tokens"]["accessed_by"] == []


def test_generator_reads_a_hugging_face_config(tmp_path):
    config = {
        "_name_or_path": "tiny-llama",
        "hidden_size": 64,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": 100,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    document = generate("--config", str(path), "--granularity", "tensor", "--devices", "flexgen-t4")
    assert document["name"] == "tiny-llama-tensor-on-flexgen-t4"
    ids = {n["id"] for n in document["graph"]["nodes"]}
    assert "target.L3.k_cache" in ids and "target.L4.k_cache" not in ids


def test_generator_bad_arguments_are_one_line():
    result = run_cli("generate", "placement", "--batch", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "opt-offload generate placement: argument --batch: must be >= 1 and <= 4096, got 0"
        " (see --help)"
    )
    result = run_cli("generate", "placement", "--devices", "nope")
    assert result.returncode == 2 and "unknown device preset 'nope'" in result.stderr
