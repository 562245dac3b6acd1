"""The decentralised pipeline planner of the 003 paper, Sec. 3.1.2, eq. (3).

For a batch of N requests with prompts of L tokens, an edge server chooses the target model's
prefill micro-batch ``mu_pref``, its decode micro-batch ``mu_dec``, the draft model's batch
``b_draft`` and the number of speculative candidates ``k_cand``, minimising the end-to-end
latency L(.) subject to (3a) ``mu_pref, mu_dec, b_draft <= N`` and (3b) the edge's memory.

The paper leaves L(.) and Req(.) as "comprehensive functions"; this module states ours, built
from :mod:`opt_offload.costs`:

- placement X*: the edge holds a fraction ``f`` of the target's decoder blocks, the embedding,
  the LM head and the whole draft model; a remote device runs the other blocks. A target pass
  is a pipeline of stages edge -> link -> remote -> link (just the edge when f = 1); n equal
  micro-batches through stages s take ``sum(s) + (n - 1) max(s)`` (fill, then the slowest
  stage sets the pace);
- a stage's time is the roofline ``max(FLOP / FLOP/s, bytes read / memory bandwidth)``: weights
  are read once per micro-batch pass, KV caches once per sequence, FLOP follow costs/flops.py;
- speculative decoding (Leviathan et al., 2023): each draft token is accepted with probability
  ``acceptance``, independently, so a round of k candidates yields (1 - a^(k+1)) / (1 - a)
  tokens; the prefill yields the first token, rounds yield the other G - 1. A round is k draft
  passes per draft batch, then one verification pass over k + 1 tokens per micro-batch; decode
  runs at the mean context L + G / 2;
- Req (3b): edge weights + KV caches for all N sequences at L + G + k tokens (target share f,
  and the draft) + the largest working set of one layer (hidden states, MLP intermediates, the
  eager attention score matrix, the logits) over prefill, verification and drafting.

Exact by enumeration. The space has N * N * N * K points (K = max_candidates). For a fixed k,
latency is (prefill part in mu_pref) + (decode part in mu_dec, b_draft) and (3b) bounds each
part's working set by the same room, so the planner scans k, then mu_pref and (mu_dec, b_draft)
separately: K (N + N^2) evaluations find the optimum of the whole grid.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, replace

from .costs.configs import DTYPE_BYTES, TransformerConfig
from .costs.devices import DeviceSpec
from .costs.flops import per_token_linear_flops


@dataclass(frozen=True)
class PlanProblem:
    target: TransformerConfig
    draft: TransformerConfig
    edge: DeviceSpec
    remote: DeviceSpec
    link_bytes_per_s: float
    local_fraction: float  # f: share of the target's decoder blocks on the edge
    batch: int  # N
    prompt: int  # L
    new_tokens: int  # G
    dtype: str = "int8"
    acceptance: float = 0.7
    max_candidates: int = 8

    def __post_init__(self):
        counts = ("batch", "prompt", "new_tokens", "max_candidates")
        problems = [f"{n} must be at least 1" for n in counts if getattr(self, n) < 1]
        if not 0.0 <= self.local_fraction <= 1.0:
            problems.append("local_fraction must lie in [0, 1]")
        if not 0.0 <= self.acceptance < 1.0:
            problems.append("acceptance must lie in [0, 1)")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def space_size(self) -> int:
        return self.batch**3 * self.max_candidates


@dataclass(frozen=True)
class Plan:
    micro_prefill: int
    micro_decode: int
    draft_batch: int
    candidates: int


@dataclass(frozen=True)
class PlanCost:
    latency_s: float
    prefill_s: float
    decode_s: float
    rounds: float
    memory_bytes: float
    memory_limit_bytes: float

    @property
    def feasible(self) -> bool:
        return self.memory_bytes <= self.memory_limit_bytes


def roofline_s(device: DeviceSpec, flop: float, nbytes: float) -> float:
    return max(flop / device.flops, nbytes / device.memory_bandwidth_bytes_per_s)


def pipeline_s(stages: list[float], micro_batches: int) -> float:
    return sum(stages) + (micro_batches - 1) * max(stages)


class LatencyModel:
    """L(.) and Req(.) of eq. (3) for one problem (see the module docstring)."""

    def __init__(self, problem: PlanProblem):
        self.p = problem
        self.dt = DTYPE_BYTES[problem.dtype]
        self.mean_context = problem.prompt + problem.new_tokens / 2

    # sizes and work of the models

    def block_params(self, config: TransformerConfig) -> float:
        h, kv, inner = config.hidden_size, config.kv_dim, config.intermediate_size
        mlp = (3 if config.gated_mlp else 2) * h * inner
        return config.num_layers * (2 * h * h + 2 * h * kv + mlp + 2 * h)

    def head_params(self, config: TransformerConfig) -> float:
        tables = 1 if config.tie_word_embeddings else 2
        return tables * config.vocab_size * config.hidden_size + config.hidden_size

    def kv_bytes(self, config: TransformerConfig, sequences: int, tokens: float) -> float:
        return 2 * config.num_layers * config.kv_dim * sequences * tokens * self.dt

    def block_flop(self, config: TransformerConfig, sequences: int, tokens: int, context: float):
        """Decoder blocks over ``tokens`` new tokens after ``context`` cached ones."""
        linear = per_token_linear_flops(config)
        attention = config.num_layers * 2 * 2 * tokens * (context + tokens) * config.hidden_size
        return sequences * (tokens * (linear.projections + linear.mlp) + attention)

    def head_flop(self, config: TransformerConfig, sequences: int, logit_tokens: int) -> float:
        return sequences * logit_tokens * per_token_linear_flops(config).lm_head

    def working_set(self, config, sequences, tokens, context, logit_tokens) -> float:
        """Peak activations of one layer: hidden in/out, two MLP intermediates, the eager
        attention score matrix, and the logits."""
        hidden = tokens * (2 * config.hidden_size + 2 * config.intermediate_size)
        scores = config.num_heads * tokens * context
        return sequences * (hidden + scores + logit_tokens * config.vocab_size) * self.dt

    # the target's pipeline edge -> link -> remote -> link

    def target_pass_s(self, sequences: int, tokens: int, context: float, logits: int, n: int):
        p, f = self.p, self.p.local_fraction
        blocks = self.block_flop(p.target, sequences, tokens, context)
        weights = self.block_params(p.target) * self.dt
        kv = self.kv_bytes(p.target, sequences, context + tokens)
        edge = roofline_s(
            p.edge,
            f * blocks + self.head_flop(p.target, sequences, logits),
            f * (weights + kv) + self.head_params(p.target) * self.dt,
        )
        if f == 1.0:
            return pipeline_s([edge], n)
        hop = sequences * tokens * p.target.hidden_size * self.dt / p.link_bytes_per_s
        remote = roofline_s(p.remote, (1 - f) * blocks, (1 - f) * (weights + kv))
        return pipeline_s([edge, hop, remote, hop], n)

    def prefill_s(self, micro: int) -> float:
        p = self.p
        return self.target_pass_s(micro, p.prompt, 0, 1, math.ceil(p.batch / micro))

    def tokens_per_round(self, k: int) -> float:
        a = self.p.acceptance
        return (1 - a ** (k + 1)) / (1 - a)

    def rounds(self, k: int) -> float:
        return (self.p.new_tokens - 1) / self.tokens_per_round(k)

    def round_s(self, micro: int, draft_batch: int, k: int) -> float:
        p, context = self.p, self.mean_context
        flop = self.block_flop(p.draft, draft_batch, 1, context)
        flop += self.head_flop(p.draft, draft_batch, 1)
        weights = (self.block_params(p.draft) + self.head_params(p.draft)) * self.dt
        draft_pass = roofline_s(
            p.edge, flop, weights + self.kv_bytes(p.draft, draft_batch, context)
        )
        drafting = math.ceil(p.batch / draft_batch) * k * draft_pass
        verify = self.target_pass_s(micro, k + 1, context, k + 1, math.ceil(p.batch / micro))
        return drafting + verify

    # (3b)

    def static_bytes(self, k: int) -> float:
        p, f = self.p, self.p.local_fraction
        tokens = p.prompt + p.new_tokens + k
        weights = f * self.block_params(p.target) + self.head_params(p.target)
        weights += self.block_params(p.draft) + self.head_params(p.draft)
        kv = f * self.kv_bytes(p.target, p.batch, tokens) + self.kv_bytes(p.draft, p.batch, tokens)
        return weights * self.dt + kv

    def prefill_working_set(self, micro: int) -> float:
        return self.working_set(self.p.target, micro, self.p.prompt, self.p.prompt, 1)

    def decode_working_set(self, micro: int, draft_batch: int, k: int) -> float:
        context = self.p.prompt + self.p.new_tokens + k
        return max(
            self.working_set(self.p.target, micro, k + 1, context, k + 1),
            self.working_set(self.p.draft, draft_batch, 1, context, 1),
        )

    def cost(self, plan: Plan) -> PlanCost:
        """L(.) and Req(.) of one plan."""
        k = plan.candidates
        prefill = self.prefill_s(plan.micro_prefill)
        decode = self.rounds(k) * self.round_s(plan.micro_decode, plan.draft_batch, k)
        memory = self.static_bytes(k) + max(
            self.prefill_working_set(plan.micro_prefill),
            self.decode_working_set(plan.micro_decode, plan.draft_batch, k),
        )
        return PlanCost(
            prefill + decode, prefill, decode, self.rounds(k), memory, self.p.edge.memory_bytes
        )


@dataclass(frozen=True)
class PlanResult:
    plan: Plan | None
    cost: PlanCost | None
    space_size: int
    evaluations: int

    def as_dict(self) -> dict:
        return {
            "plan": asdict(self.plan) if self.plan else None,
            "cost": asdict(self.cost) if self.cost else None,
            "space_size": self.space_size,
            "evaluations": self.evaluations,
        }


def plan_pipeline(problem: PlanProblem) -> PlanResult:
    """The optimum of eq. (3) over the whole N^3 K grid, found by the split enumeration."""
    model = LatencyModel(problem)
    sizes = range(1, problem.batch + 1)  # (3a)
    best: tuple[float, Plan] | None = None
    evaluations = 0
    for k in range(1, problem.max_candidates + 1):
        room = problem.edge.memory_bytes - model.static_bytes(k)
        prefill = [(model.prefill_s(m), m) for m in sizes if model.prefill_working_set(m) <= room]
        decode = [
            (model.round_s(m, b, k), m, b)
            for m, b in itertools.product(sizes, sizes)
            if model.decode_working_set(m, b, k) <= room
        ]
        evaluations += len(sizes) * (1 + len(sizes))
        if not prefill or not decode:
            continue
        prefill_s, micro_prefill = min(prefill)
        round_s, micro_decode, draft_batch = min(decode)
        latency = prefill_s + model.rounds(k) * round_s
        if best is None or latency < best[0]:
            best = (latency, Plan(micro_prefill, micro_decode, draft_batch, k))
    if best is None:
        return PlanResult(None, None, problem.space_size, evaluations)
    return PlanResult(best[1], model.cost(best[1]), problem.space_size, evaluations)


def most_blocks_that_fit(problem: PlanProblem) -> PlanProblem:
    """The problem with the most whole target blocks on the edge that still leave room for the
    smallest plan (all sizes 1, one candidate); no block if none does."""
    layers = problem.target.num_layers
    for local in range(layers, 0, -1):
        candidate = replace(problem, local_fraction=local / layers)
        if LatencyModel(candidate).cost(Plan(1, 1, 1, 1)).feasible:
            return candidate
    return replace(problem, local_fraction=0.0)
