"""Instance schema of problem A, per-slot admission with bandwidth (design §4, §9)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from .base import (
    BandwidthHz,
    Count,
    Decibels,
    Gain,
    Identifier,
    PositiveSeconds,
    Seconds,
    Strict,
    Tokens,
    Weight,
    duplicate_problems,
    raise_problems,
)


def db_to_linear(db: float) -> float:
    return 10.0 ** (db / 10.0)


def log2_one_plus(snr_linear: float) -> float:
    """log2(1 + gamma), exact also for gamma far below the float epsilon (-200 dB)."""
    return math.log1p(snr_linear) / math.log(2.0)


class Server(Strict):
    capacity: Count = Field(description="M: requests the server runs in parallel")
    busy_remaining_s: list[PositiveSeconds] = Field(
        default_factory=list,
        description="Gamma_j: remaining service time of each in-flight request (|M_t| entries)",
    )
    uplink_busy_hz: float = Field(
        0.0,
        ge=0,
        le=1e15,
        description="band still held by uploads in flight from earlier slots; this slot has "
        "bandwidth_hz - uplink_busy_hz to give (must be below bandwidth_hz)",
    )

    @model_validator(mode="after")
    def _busy_fits_capacity(self) -> Server:
        if len(self.busy_remaining_s) > self.capacity:
            raise_problems(
                [
                    f"busy_remaining_s: {len(self.busy_remaining_s)} in-flight requests "
                    f"exceed capacity {self.capacity}"
                ]
            )
        return self

    @property
    def free_slots(self) -> int:
        return self.capacity - len(self.busy_remaining_s)


class QueueModel(Strict):
    delay: Literal["given", "estimate"] = Field(
        "given",
        description="'given': TQ_i from each candidate's queue_delay_s; 'estimate': list "
        "scheduling on the M slots (design §4)",
    )
    reference_bandwidth_hz: BandwidthHz | None = Field(
        None,
        description="B_ref pricing a queued request's upload (upload 'priced'); null means "
        "bandwidth_hz",
    )
    upload: Literal["priced", "shared"] = Field(
        "priced",
        description="'priced': a queued request's upload is priced at B_ref and takes no band "
        "(design §4, the reading Theorem 2 solves); 'shared': it uploads now, sharing the "
        "slot's band with the immediate admissions (sum of B_i over immediate and queued "
        "<= bandwidth_hz - uplink_busy_hz), and costs beta (c_i / B_i + TQ_i)",
    )


class Candidate(Strict):
    id: Identifier
    context_tokens: Tokens = Field(description="L_i: context length in tokens")
    snr_db: Decibels = Field(description="gamma_i in dB")
    waited_s: Seconds = Field(0.0, description="tau_i: time already waited")
    server_time_s: Seconds = Field(description="d_i = TL_i: predicted server time")
    gain: Gain = Field(description="g_i = Q(x_i,1) - Q(x_i,0)")
    queue_delay_s: Seconds | None = Field(
        None, description="TQ_i; required when queue.delay is 'given'"
    )

    @property
    def snr_linear(self) -> float:
        return db_to_linear(self.snr_db)


class AdmissionInstance(Strict):
    kind: Literal["admission"]
    version: Literal[1]
    name: Identifier
    comment: str | None = None
    server: Server
    bandwidth_hz: BandwidthHz = Field(
        description="B: total uplink bandwidth; the paper labels it bit/s but uses it as Hz "
        "in R = B log2(1+SNR) (design §3)"
    )
    beta: Weight = Field(description="latency weight (per second)")
    snr_threshold_db: Decibels = Field(0.0, description="gamma_th in dB: no upload below it")
    bits_per_token: float = Field(32, ge=1, le=1e6)
    queue: QueueModel = Field(default_factory=QueueModel)
    candidates: list[Candidate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> AdmissionInstance:
        problems = duplicate_problems("candidates", (c.id for c in self.candidates))
        if self.queue.delay == "given":
            problems += [
                f"candidates[{i}].queue_delay_s: required when queue.delay is 'given'"
                for i, c in enumerate(self.candidates)
                if c.queue_delay_s is None
            ]
        if self.server.uplink_busy_hz >= self.bandwidth_hz:
            problems.append(
                f"server.uplink_busy_hz: {self.server.uplink_busy_hz} Hz held by uploads in "
                f"flight leaves no band of bandwidth_hz {self.bandwidth_hz} (must be below it)"
            )
        raise_problems(problems)
        return self

    # Derived quantities of design §4, in SI units.

    @property
    def available_bandwidth_hz(self) -> float:
        """B - uplink_busy_hz: the band this slot's uploads share."""
        return self.bandwidth_hz - self.server.uplink_busy_hz

    @property
    def shared_upload(self) -> bool:
        """True when queued requests upload now and share the slot's band."""
        return self.queue.upload == "shared"

    @property
    def reference_bandwidth_hz(self) -> float:
        return self.queue.reference_bandwidth_hz or self.bandwidth_hz

    def upload_coefficient(self, candidate: Candidate) -> float:
        """c_i = bits L_i / log2(1 + gamma_i), so that TC_i(B_i) = c_i / B_i  (eq. 25)."""
        return self.bits_per_token * candidate.context_tokens / log2_one_plus(candidate.snr_linear)

    def can_upload(self, candidate: Candidate) -> bool:
        """False in outage: SNR strictly below the threshold (eq. 5)."""
        return candidate.snr_db >= self.snr_threshold_db
