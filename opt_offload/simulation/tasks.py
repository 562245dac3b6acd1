"""Drawing tasks: lengths, context growth, compute times, the uplink and the quality surrogate.

A batch of tasks is drawn at once with numpy (every per-step quantity is known when a task
arrives: its decisions, not its draws, depend on the other users), which is what lets the slot
engine skip the steps that never reach the server.

- Context growth, eq. (2): step k starts from the question plus the tokens of steps 0..k-1.
- Compute times, eqs. (16)-(18): TL = f_step(LLM) / FlopsLLM and TS = f_step(SLM) / FlopsSLM
  with the architecture-exact step count of :func:`opt_offload.costs.flops.step_flops` (m_new
  tokens decoded after a cache of m), in closed form here so that a batch is one numpy
  expression (tests check it against that function). The prefill a model would need after
  the other one wrote part of the context is not counted, as eq. (16) does not count it.
  Eq. (16) as printed (no layer factor) gives server steps of microseconds, which cannot
  produce Table 2's delays of milliseconds; the architecture count does.
- Uplink, eqs. (4)-(5), (25): one Rayleigh SNR per step, drawn for the slot in which the step is
  decided (a task decides each step in exactly one slot, so one draw per step is one draw per
  active slot); ``c = bits_per_token L / log2(1 + SNR)``; a step whose SNR is strictly below
  gamma_th is in outage and cannot be uploaded (:func:`opt_offload.costs.channel.in_outage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..costs.channel import rayleigh_snr_db
from ..costs.configs import TransformerConfig, preset
from ..costs.flops import per_token_linear_flops
from ..costs.latency import FLOPS_LLM
from ..prada import BITS_PER_TOKEN, EDGE_MODEL, MEAN_SNR_DB, SERVER_MODEL, SNR_THRESHOLD_DB
from .presets import TaskPreset
from .quality import QualitySurrogate


def step_flops_array(config: TransformerConfig, context: np.ndarray, new: np.ndarray):
    """:func:`opt_offload.costs.flops.step_flops` in closed form, element-wise: m_new decode
    steps after a cache of m, the k-th attending to m + k + 1 keys:
    ``m_new (projections + MLP + LM head) + 4 layers hidden sum_{k<m_new} (m + k + 1)``."""
    linear = per_token_linear_flops(config).total
    keys = new * context + new * (new + 1) / 2
    return new * linear + 4.0 * config.num_layers * config.hidden_size * keys


@dataclass(frozen=True)
class ComputeModel:
    """The edge SLM and the server LLM with their sustained FLOP/s (eqs. 17-18)."""

    flops_slm: float
    flops_llm: float = FLOPS_LLM
    edge: str = EDGE_MODEL
    server: str = SERVER_MODEL

    def local_s(self, context: np.ndarray, new: np.ndarray) -> np.ndarray:
        """TS, eq. (18)."""
        return step_flops_array(preset(self.edge), context, new) / self.flops_slm

    def server_s(self, context: np.ndarray, new: np.ndarray) -> np.ndarray:
        """TL, eq. (17)."""
        return step_flops_array(preset(self.server), context, new) / self.flops_llm


@dataclass(frozen=True)
class Channel:
    """Rayleigh fading around a mean SNR, outage below gamma_th (Sec. 2.2.1)."""

    mean_snr_db: float = MEAN_SNR_DB
    threshold_db: float = SNR_THRESHOLD_DB
    bits_per_token: int = BITS_PER_TOKEN


@dataclass(frozen=True)
class StepDraws:
    """A batch of tasks; per-step arrays hold the tasks' steps concatenated in order."""

    steps: np.ndarray  # K_i per task
    slm_success: np.ndarray  # s_i per task (quality surrogate)
    context: np.ndarray  # tokens before the step, eq. (2)
    new_tokens: np.ndarray
    local_s: np.ndarray  # TS
    server_s: np.ndarray  # TL
    upload: np.ndarray  # c = bits L / log2(1 + SNR), bit / (bit/s/Hz); TC = c / B_i
    outage: np.ndarray  # bool: SNR below gamma_th
    gain: np.ndarray  # g_ik (quality surrogate)

    @property
    def starts(self) -> np.ndarray:
        """Index of each task's first step."""
        return np.concatenate(([0], np.cumsum(self.steps)[:-1]))


def draw_lengths(task: TaskPreset, count: int, rng: np.random.Generator):
    """Questions, steps per task, tokens per step, and each step's context (eq. 2)."""
    question = rng.integers(task.question_tokens[0], task.question_tokens[1] + 1, size=count)
    steps = rng.integers(task.steps[0], task.steps[1] + 1, size=count)
    new = rng.integers(task.step_tokens[0], task.step_tokens[1] + 1, size=int(steps.sum()))
    starts = np.concatenate(([0], np.cumsum(steps)[:-1]))
    before = np.cumsum(new) - new  # tokens generated before each step, over the whole batch
    owner = np.repeat(np.arange(count), steps)
    context = question[owner] + before - before[starts][owner]
    return steps, context, new


def draw_tasks(
    task: TaskPreset,
    count: int,
    rng: np.random.Generator,
    compute: ComputeModel,
    channel: Channel,
    quality: QualitySurrogate,
    lengths: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> StepDraws:
    """``count`` tasks; their lengths drawn from the preset unless given (a trace's)."""
    steps, context, new = draw_lengths(task, count, rng) if lengths is None else lengths
    snr_db = rayleigh_snr_db(channel.mean_snr_db, len(new), rng)
    slm_success, gain = quality.draw(steps, rng)
    with np.errstate(divide="ignore"):
        upload = channel.bits_per_token * context / np.log2(1.0 + 10.0 ** (snr_db / 10.0))
    return StepDraws(
        steps=steps,
        slm_success=slm_success,
        context=context,
        new_tokens=new,
        local_s=compute.local_s(context, new),
        server_s=compute.server_s(context, new),
        upload=upload,
        outage=snr_db < channel.threshold_db,
        gain=gain,
    )
