"""Compute latency (design §7): PRADA eqs. (17)-(18), and a roofline variant.

Eqs. (17)-(18) divide a FLOP count by the device's FLOP/s. Decoding one token reads every
weight and the whole KV cache for a few FLOP per byte, so it is bound by memory bandwidth, not
compute: the roofline time of a forward pass is ``max(FLOP / peak, bytes moved / bandwidth)``.
The learned delay predictor D_psi is in :mod:`opt_offload.costs.predictor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .configs import TransformerConfig
from .flops import decode_flops, paper_step_flops, prefill_flops
from .memory import decode_bytes, prefill_bytes

# PRADA Table 3: FlopsLLM, the server LLM's sustained FLOP/s.
FLOPS_LLM = 8e13


def compute_time_s(flops: float, flops_per_s: float) -> float:
    """Eqs. (17)-(18): TL = f_step / FlopsLLM, TS = f_step / FlopsSLM."""
    if flops_per_s <= 0:
        raise ValueError("FLOP/s must be positive")
    return flops / flops_per_s


def paper_step_time_s(
    config: TransformerConfig, m: int, m_new: int, flops_per_s: float = FLOPS_LLM
) -> float:
    """Eq. (17) (or (18) with the SLM's FLOP/s): eq. (16) of the model's o and v over FLOP/s."""
    flops = paper_step_flops(m, config.hidden_size, config.num_layers, m_new)
    return compute_time_s(flops, flops_per_s)


@dataclass(frozen=True)
class Roofline:
    """A device as the roofline model sees it: peak FLOP/s and memory bandwidth in bytes/s."""

    peak_flops: float
    memory_bandwidth: float

    def __post_init__(self) -> None:
        if self.peak_flops <= 0 or self.memory_bandwidth <= 0:
            raise ValueError("peak FLOP/s and memory bandwidth must be positive")

    def time_s(self, flops: float, bytes_moved: float) -> float:
        return max(flops / self.peak_flops, bytes_moved / self.memory_bandwidth)

    @property
    def ridge_intensity(self) -> float:
        """FLOP per byte above which a computation is compute-bound."""
        return self.peak_flops / self.memory_bandwidth


def roofline_prefill_time_s(
    config: TransformerConfig, m: int, device: Roofline, dtype: str = "fp16"
) -> float:
    flops = prefill_flops(config, m, logits="last").total
    return device.time_s(flops, prefill_bytes(config, m, dtype))


def roofline_step_time_s(
    config: TransformerConfig, m: int, m_new: int, device: Roofline, dtype: str = "fp16"
) -> float:
    """The roofline counterpart of eq. (17): m_new decode steps after a cache of m tokens, each
    bound by compute or by the bytes it moves, whichever is slower."""
    return sum(
        device.time_s(decode_flops(config, m + k).total, decode_bytes(config, m + k, dtype))
        for k in range(m_new)
    )
