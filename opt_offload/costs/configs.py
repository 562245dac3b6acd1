"""Decoder-only transformer architectures: the numbers every cost model starts from.

A :class:`TransformerConfig` holds what FLOP counts, memory sizes and tensor graphs need. Presets
cite the Hugging Face ``config.json`` they copy; :func:`load_hf_config` reads such a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, lookup
from ..io import validation_problems
from ..schemas.base import raise_problems

# Bytes per element of the data types instances are built for.
DTYPE_BYTES = {"int8": 1, "fp16": 2, "bf16": 2, "fp32": 4}


class TransformerConfig(BaseModel):
    """Dimensions of a decoder-only transformer with grouped-query attention and a gated MLP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # Upper limits far above any published model (Llama 3.1 405B: hidden 16384, 126 layers,
    # 128 heads, MLP 53248, vocabulary 128256) keep every FLOP and byte count finite.
    hidden_size: int = Field(gt=0, le=2**17)
    num_layers: int = Field(gt=0, le=4096)
    num_heads: int = Field(gt=0, le=4096)
    num_kv_heads: int = Field(gt=0, le=4096)
    intermediate_size: int = Field(gt=0, le=2**20)
    vocab_size: int = Field(gt=0, le=2**24)
    tie_word_embeddings: bool = False
    gated_mlp: bool = True

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerConfig:
        problems = []
        if self.hidden_size % self.num_heads:
            problems.append(
                f"num_heads: {self.num_heads} heads do not divide hidden_size {self.hidden_size}"
            )
        if self.num_heads % self.num_kv_heads:
            problems.append(
                f"num_kv_heads: {self.num_kv_heads} KV heads do not divide num_heads "
                f"{self.num_heads}"
            )
        raise_problems(problems)
        return self

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def kv_dim(self) -> int:
        """Width of the K (or V) projection: KV heads x head dimension."""
        return self.num_kv_heads * self.head_dim


PRESETS: dict[str, TransformerConfig] = {
    # huggingface.co/meta-llama/Llama-2-7b-hf config.json
    "llama2-7b": TransformerConfig(
        name="llama2-7b",
        hidden_size=4096,
        num_layers=32,
        num_heads=32,
        num_kv_heads=32,
        intermediate_size=11008,
        vocab_size=32000,
    ),
    # huggingface.co/meta-llama/Llama-2-13b-hf config.json
    "llama2-13b": TransformerConfig(
        name="llama2-13b",
        hidden_size=5120,
        num_layers=40,
        num_heads=40,
        num_kv_heads=40,
        intermediate_size=13824,
        vocab_size=32000,
    ),
    # huggingface.co/meta-llama/Llama-2-70b-hf config.json; the same numbers as Touvron et al.
    # 2023 (Llama 2, arXiv:2307.09288), Table 1 and Sec. 2.2: 80 layers, d_model 8192, 64 heads,
    # grouped-query attention with 8 KV heads, SwiGLU width 28672, 32k vocabulary
    "llama2-70b": TransformerConfig(
        name="llama2-70b",
        hidden_size=8192,
        num_layers=80,
        num_heads=64,
        num_kv_heads=8,
        intermediate_size=28672,
        vocab_size=32000,
    ),
    # huggingface.co/JackFram/llama-68m config.json: the draft model of speculative decoding
    "llama-68m": TransformerConfig(
        name="llama-68m",
        hidden_size=768,
        num_layers=2,
        num_heads=12,
        num_kv_heads=12,
        intermediate_size=3072,
        vocab_size=32000,
    ),
    # huggingface.co/Qwen/Qwen2.5-Math-1.5B config.json (PRADA's SLM, Sec. 5)
    "qwen2.5-math-1.5b": TransformerConfig(
        name="qwen2.5-math-1.5b",
        hidden_size=1536,
        num_layers=28,
        num_heads=12,
        num_kv_heads=2,
        intermediate_size=8960,
        vocab_size=151936,
        tie_word_embeddings=True,
    ),
    # huggingface.co/Qwen/Qwen2.5-Math-7B config.json (PRADA's LLM, Sec. 5)
    "qwen2.5-math-7b": TransformerConfig(
        name="qwen2.5-math-7b",
        hidden_size=3584,
        num_layers=28,
        num_heads=28,
        num_kv_heads=4,
        intermediate_size=18944,
        vocab_size=152064,
    ),
}

# Hugging Face config.json keys -> TransformerConfig fields.
HF_KEYS = {
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_heads",
    "intermediate_size": "intermediate_size",
    "vocab_size": "vocab_size",
}


def preset(name: str) -> TransformerConfig:
    return lookup(PRESETS, name, "model preset")


def load_hf_config(path: str | os.PathLike, name: str | None = None) -> TransformerConfig:
    """Read a Hugging Face ``config.json`` (Llama, Qwen2 and alike)."""
    from ..io import parse_document, read_bounded

    source = str(path)
    data = parse_document(read_bounded(Path(path), source), source, yaml_syntax=False)
    missing = [key for key in HF_KEYS if key not in data]
    if missing:
        raise InputError([f"{key}: missing" for key in missing], source)
    fields = {field: data[key] for key, field in HF_KEYS.items()}
    fields["num_kv_heads"] = data.get("num_key_value_heads") or data["num_attention_heads"]
    fields["tie_word_embeddings"] = bool(data.get("tie_word_embeddings", False))
    fields["name"] = name or data.get("_name_or_path") or Path(path).stem
    try:
        return TransformerConfig.model_validate(fields, strict=True)
    except ValidationError as exc:
        raise InputError(validation_problems(exc), source) from None
