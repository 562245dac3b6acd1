"""What a run reports (PRADA Table 2 and eq. 6), per measured task unless said otherwise.

- ``accuracy_surrogate``: the mean over tasks of the quality surrogate's success probability
  (:mod:`opt_offload.simulation.quality`): a SURROGATE, not a measured accuracy.
- ``processing_ms`` (TS + TL), ``communication_ms`` (TC), ``queuing_ms`` (TQ, the actual
  waits): sums over a task's steps, as Table 2 reports them; ``latency_ms`` is their sum,
  Delta(tau_i) of eq. (12) with the step latencies of eq. (13).
- ``objective``: eq. (6), U - beta Delta, with U the surrogate accuracy and Delta the mean
  latency in seconds; ``penalty_*`` are beta times each delay part, so that
  ``objective = accuracy_surrogate - penalty_processing - penalty_communication -
  penalty_queuing``.
- ``nominated_fraction`` (Stage 1 candidates), ``offload_fraction`` (steps run on the LLM),
  ``queued_fraction``: shares of the measured tasks' steps.
- ``utilisation``: slot-seconds the server held over M times the simulated time (all tasks).
- ``slots_per_s``: slots simulated per second of wall time (the run's own speed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MS = 1e3


class Totals:
    """Sums over the measured tasks, filled as they complete."""

    def __init__(self) -> None:
        self.tasks = 0
        self.steps = 0
        self.nominated = 0
        self.offloaded = 0
        self.queued = 0
        self.accuracy = 0.0
        self.processing_s = 0.0
        self.communication_s = 0.0
        self.queuing_s = 0.0


@dataclass(frozen=True)
class RunResult:
    preset: str
    scheduler: str
    policy: str
    upload: str
    capacity: int
    bandwidth_hz: float
    arrival_rate: float
    slots: int
    seed: int
    beta: float
    tasks: int
    accuracy_surrogate: float
    processing_ms: float
    communication_ms: float
    queuing_ms: float
    latency_ms: float
    objective: float
    penalty_processing: float
    penalty_communication: float
    penalty_queuing: float
    nominated_fraction: float
    offload_fraction: float
    queued_fraction: float
    utilisation: float
    mean_candidates: float  # per slot, in the slots that called Stage 2
    slots_simulated: int
    wall_s: float
    slots_per_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def summarise(
    config,
    totals: Totals,
    server_busy_s: float,
    stage2: tuple[int, int],
    slots_simulated: int,
    wall_s: float,
) -> RunResult:
    """The run's figures from its totals (``stage2``: Stage 2 calls and candidates seen)."""
    tasks = max(totals.tasks, 1)
    steps = max(totals.steps, 1)
    processing = totals.processing_s / tasks
    communication = totals.communication_s / tasks
    queuing = totals.queuing_s / tasks
    accuracy = totals.accuracy / tasks
    beta = config.beta
    calls, candidates = stage2
    return RunResult(
        preset=config.preset,
        scheduler=config.scheduler,
        policy=config.policy,
        upload=config.upload,
        capacity=config.capacity,
        bandwidth_hz=config.bandwidth_hz,
        arrival_rate=config.arrival_rate,
        slots=config.slots,
        seed=config.seed,
        beta=beta,
        tasks=totals.tasks,
        accuracy_surrogate=accuracy,
        processing_ms=MS * processing,
        communication_ms=MS * communication,
        queuing_ms=MS * queuing,
        latency_ms=MS * (processing + communication + queuing),
        objective=accuracy - beta * (processing + communication + queuing),
        penalty_processing=beta * processing,
        penalty_communication=beta * communication,
        penalty_queuing=beta * queuing,
        nominated_fraction=totals.nominated / steps,
        offload_fraction=totals.offloaded / steps,
        queued_fraction=totals.queued / steps,
        utilisation=server_busy_s / (config.capacity * slots_simulated * config.slot_s),
        mean_candidates=candidates / max(calls, 1),
        slots_simulated=slots_simulated,
        wall_s=wall_s,
        slots_per_s=slots_simulated / wall_s if wall_s > 0 else float("inf"),
    )
