"""Wireless uplink (design §7, PRADA eqs. 4-5): Shannon rate, fading SNR draws, outage."""

from __future__ import annotations

import math

import numpy as np


def db_to_linear(db: float) -> float:
    return 10.0 ** (db / 10.0)


def linear_to_db(linear: float) -> float:
    return 10.0 * math.log10(linear)


def shannon_rate_bps(bandwidth_hz: float, snr_linear: float) -> float:
    """Eq. (4): R = B log2(1 + SNR), bit/s."""
    return bandwidth_hz * math.log2(1.0 + snr_linear)


def upload_time_s(bits: float, bandwidth_hz: float, snr_linear: float) -> float:
    """Eq. (5)/(25): TC = bits / R."""
    return bits / shannon_rate_bps(bandwidth_hz, snr_linear)


def rayleigh_snr_db(mean_snr_db: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """SNR draws under Rayleigh fading: the linear SNR is exponential around its mean."""
    linear = rng.exponential(db_to_linear(mean_snr_db), size=size)
    return 10.0 * np.log10(np.maximum(linear, np.finfo(float).tiny))


def in_outage(snr_db: float, threshold_db: float) -> bool:
    """No upload possible: SNR strictly below the threshold (an SNR at it may upload)."""
    return snr_db < threshold_db
