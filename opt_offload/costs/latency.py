"""Compute latency from FLOPs (DESIGN §7, PRADA eqs. 17-18)."""

from __future__ import annotations

# PRADA Table 3: FlopsLLM, the server LLM's sustained FLOP/s.
FLOPS_LLM = 8e13


def compute_time_s(flops: float, flops_per_s: float) -> float:
    """Eqs. (17)-(18): TL = f_step / FlopsLLM, TS = f_step / FlopsSLM."""
    if flops_per_s <= 0:
        raise ValueError("FLOP/s must be positive")
    return flops / flops_per_s
