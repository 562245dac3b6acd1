"""The architecture FLOP count against code no one here wrote (design §7): Hugging Face
``transformers`` Llama (multi-head) and Qwen2 (grouped-query, with Q/K/V biases) built from
small configs with random weights, counted by ``torch.utils.flop_counter.FlopCounterMode``.

What the counter counts: matrix products (mm, addmm, bmm, and the SDPA kernels it has formulas
for) at 2 FLOP per multiply-add; element-wise work (norms, softmax, SiLU, rotary embeddings, the
bias of addmm) counts nothing. So does our count. With ``attn_implementation="eager"`` the two
attention products are bmm calls the counter sees; with ``"sdpa"`` on the CPU they run in a
kernel it has no formula for, and count zero: there we compare with our count less attention.
"""

from __future__ import annotations

import pytest

from opt_offload.costs.configs import TransformerConfig
from opt_offload.costs.flops import decode_flops, generation_flops, prefill_flops
from opt_offload.costs.memory import parameter_count

from .torch_helpers import one_torch_thread  # noqa: F401  (autouse fixture)

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

# Tiny on purpose (seconds on a CPU); both head layouts are what the counts distinguish.
SIZES = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 8,
    "intermediate_size": 160,
    "vocab_size": 128,
}
ARCHITECTURES = {
    "llama-mha": ("LlamaConfig", "LlamaForCausalLM", 8),
    "qwen2-gqa": ("Qwen2Config", "Qwen2ForCausalLM", 2),
}


def ours(kv_heads: int) -> TransformerConfig:
    return TransformerConfig(
        name="tiny",
        hidden_size=64,
        num_layers=2,
        num_heads=8,
        num_kv_heads=kv_heads,
        intermediate_size=160,
        vocab_size=128,
    )


def hf_model(architecture: str, attention: str = "eager"):
    config_class, model_class, kv_heads = ARCHITECTURES[architecture]
    config = getattr(transformers, config_class)(
        **SIZES,
        num_key_value_heads=kv_heads,
        max_position_embeddings=2048,
        attn_implementation=attention,
    )
    torch.manual_seed(0)
    return getattr(transformers, model_class)(config).eval(), ours(kv_heads)


def counted(function) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def generate(model, m: int, m_new: int):
    prompt = torch.randint(128, (1, m), generator=torch.Generator().manual_seed(m))
    settings = transformers.GenerationConfig(
        max_new_tokens=m_new,
        min_new_tokens=m_new,
        do_sample=False,
        pad_token_id=0,
        eos_token_id=None,
    )

    def run():
        out = model.generate(
            prompt, attention_mask=torch.ones_like(prompt), generation_config=settings
        )
        assert out.shape[1] == m + m_new

    return run


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def eager(request):
    return hf_model(request.param)


@pytest.mark.slow
@pytest.mark.parametrize("m", [1, 16, 128, 1024])
@pytest.mark.parametrize("m_new", [1, 32])
def test_generation_matches_flop_counter(eager, m, m_new):
    # generate(): a prefill with the LM head at the last position, then m_new - 1 decode steps
    model, config = eager
    measured = counted(generate(model, m, m_new))
    assert generation_flops(config, m, m_new).total == pytest.approx(measured, rel=0.01)
    assert generation_flops(config, m, m_new).total == measured  # in fact exact


@pytest.mark.parametrize("m", [1, 16, 128, 1024])
def test_prefill_and_decode_with_cache(eager, m):
    model, config = eager
    prompt = torch.randint(128, (1, m))
    with torch.no_grad():
        cache = model(prompt, use_cache=True).past_key_values
    assert counted(lambda: model(prompt)) == prefill_flops(config, m).total  # logits everywhere
    next_token = prompt[:, -1:]
    decode = counted(lambda: model(next_token, past_key_values=cache, use_cache=True))
    assert decode == decode_flops(config, m).total


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_sdpa_attention_is_invisible_to_the_counter_on_cpu(architecture):
    model, config = hf_model(architecture, attention="sdpa")
    count = generation_flops(config, 128, 4)
    assert counted(generate(model, 128, 4)) == count.total - count.attention


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_parameter_count(architecture):
    model, config = hf_model(architecture)
    biases = sum(p.numel() for name, p in model.named_parameters() if name.endswith(".bias"))
    assert parameter_count(config) == sum(p.numel() for p in model.parameters()) - biases
    assert (biases > 0) == (architecture == "qwen2-gqa")  # Qwen2's Q/K/V biases, not modelled
