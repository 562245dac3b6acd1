"""One simulation run's settings (PRADA Table 3 by default) and its seeds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..prada import (
    ARRIVAL_RATE,
    CAPACITY,
    MEAN_SNR_DB,
    SLOT_S,
    SNR_THRESHOLD_DB,
    TABLE3_BANDWIDTH_HZ,
)
from .arrivals import TraceSpec
from .calibration import BETA_PER_S, FLOPS_SLM
from .policies import POLICIES
from .presets import PRESETS
from .schedulers import stage2_scheduler

# How a queued request's upload is read (the admission instance's queue.upload): 'priced' at
# B_ref without taking band (design §4, what Theorem 2 solves), or 'shared': it uploads now in
# a share of the slot's band, beside the immediate admissions.
UPLOAD_READINGS = ("priced", "shared")


def shared_reading_solvable() -> bool:
    """Whether Problem A's slot data carry the shared reading the Stage 2 solvers read."""
    import dataclasses

    from ..models.admission import SlotData

    return any(field.name == "shared" for field in dataclasses.fields(SlotData))


def unknown_name(field_name: str, value: str, known) -> list[str]:
    if value in known:
        return []
    return [f"{field_name}: unknown {value!r} (known: {', '.join(known)})"]


@dataclass(frozen=True)
class SimulationConfig:
    """Arrivals come in slots [0, slots); the run goes on until every task has finished, and
    the tasks that arrived in [warmup, slots) are measured (those before warm up the queue).
    ``warmup=None`` means a tenth of the slots."""

    preset: str = "gsm8k"
    scheduler: str = "threshold"  # a registered admission solver with a per-slot solve
    policy: str = "screen"
    capacity: int = CAPACITY  # M
    bandwidth_hz: float = TABLE3_BANDWIDTH_HZ  # B, a budget per slot
    arrival_rate: float = ARRIVAL_RATE  # lambda
    slots: int = 2000
    seed: int = 0
    beta: float = BETA_PER_S
    warmup: int | None = None
    reference_bandwidth_hz: float | None = None  # B_ref of a queued upload; None: B
    upload: str = "priced"  # a queued request's upload: priced at B_ref, or shared with B
    mean_snr_db: float = MEAN_SNR_DB
    snr_threshold_db: float = SNR_THRESHOLD_DB
    slot_s: float = SLOT_S
    flops_slm: float = FLOPS_SLM
    trace: TraceSpec | None = None  # replay a trace's requests instead of Poisson(lambda)
    # the scheduler's options, as ``solve`` takes them (``opt-offload solvers`` lists them)
    scheduler_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def measured_from(self) -> int:
        return self.slots // 10 if self.warmup is None else self.warmup

    @property
    def queued_upload_hz(self) -> float:
        return (
            self.bandwidth_hz
            if self.reference_bandwidth_hz is None
            else self.reference_bandwidth_hz
        )

    def seed_sequence(self) -> np.random.SeedSequence:
        """The run's seed from (seed, M, B): the same whichever process runs it, and shared by
        every scheduler and policy at that point, so that they meet the same tasks."""
        return np.random.SeedSequence([self.seed, self.capacity, round(self.bandwidth_hz)])

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        problems = unknown_name("preset", self.preset, PRESETS)
        try:
            stage2_scheduler(self.scheduler, self.scheduler_options)
        except InputError as error:
            problems += error.problems
        problems += unknown_name("policy", self.policy, POLICIES)
        positive = {
            "M": self.capacity,
            "B": self.bandwidth_hz,
            "slots": self.slots,
            "slot_s": self.slot_s,
            "flops_slm": self.flops_slm,
            "reference_bandwidth_hz": self.queued_upload_hz,
        }
        problems += [f"{name}: must be positive, got {v}" for name, v in positive.items() if v <= 0]
        if self.arrival_rate < 0:
            problems.append(f"lam: must be at least 0, got {self.arrival_rate}")
        if self.beta < 0:
            problems.append(f"beta: must be at least 0, got {self.beta}")
        if self.seed < 0:
            problems.append(f"seed: must be at least 0, got {self.seed}")
        if not 0 <= self.measured_from < self.slots:
            problems.append(f"warmup: must lie in [0, slots), got {self.measured_from}")
        if self.upload not in UPLOAD_READINGS:
            known = ", ".join(UPLOAD_READINGS)
            problems.append(f"upload: unknown reading {self.upload!r} (known: {known})")
        elif self.upload == "shared" and not shared_reading_solvable():
            problems.append(
                "upload: 'shared' needs the admission solvers' shared reading "
                "(SlotData.shared), which this build does not have"
            )
        if problems:
            raise InputError(problems)
