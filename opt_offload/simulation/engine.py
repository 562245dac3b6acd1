"""The slot engine: PRADA's dynamic multi-user system (Sec. 2) under a Stage 1 policy and a
Stage 2 scheduler (design §8).

Time runs in slots of length dt; n_t ~ Poisson(lambda) tasks arrive in slot t (eq. 1). A task
is active in the slot it arrives and in the first slot that starts at or after each of its
steps completes (eq. 3, Remark 1: a step started in slot t and lasting d makes the task active
again in slot t + ceil(d / dt)); while a step runs the task is inactive. In each slot:

1. the tasks that arrive start their first step;
2. queued requests that can start by the slot's beginning start (:class:`Server`);
3. the active tasks whose step Stage 1 nominated (and whose channel is not in outage) are the
   candidates O_t of Stage 2, which decides, for the whole slot at once, immediate admission
   with a share of B, queueing, or local execution.

Stage 1 sees only a user's own step (Sec. 4.1), so its decisions, the channel draws and the
local steps' durations are all known when a task arrives. A task's steps that are not
candidates therefore run locally back to back, and the engine jumps over them: it wakes a task
only at its next candidate step (or books its completion), which is what makes a run of
thousands of slots cheap.

Readings (design §4, §8):

- Stage 2 is handed, per candidate: c_i, the coarse advantage ``g_ik - beta (TL - TS)`` as
  ``Q(x,1) - Q(x,0)`` (eqs. 20-22 under the quality surrogate: an oracle value estimate, where
  PRADA uses its learned A_omega, eq. 33), and TQ_i in queue mode ``given``: the wait a request
  queued now would get from the current server state (the requests in service and the queue,
  FIFO by upload completion), not knowing the slot's other decisions.
- The bandwidth budget B is per slot, as in the per-slot problem (28): the immediate uploads
  decided in a slot share B, and those of the next slot get a whole B again even if earlier
  uploads are still running. A queued request uploads at B_ref (= B unless set) without taking
  a share of B, as design §4 prices it.
- Delays per step (eq. 13): local TS; immediate TC = c_i / B_i and TL; queued TC = c_i / B_ref,
  the actual wait TQ, and TL. A step's processing delay is TS or TL.
"""

from __future__ import annotations

import functools
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from ..models.admission import HZ_PER_MHZ, UPLOAD_SCALE, SlotData, split_bandwidth
from .config import SimulationConfig
from .metrics import RunResult, Totals, summarise
from .policies import coarse_advantage, stage1_policy
from .presets import task_preset
from .quality import QualitySurrogate
from .schedulers import Scheduler, stage2_scheduler
from .server import Server
from .tasks import Channel, ComputeModel, StepDraws, draw_tasks

ARRIVAL_CHUNK = 256  # slots of arrivals drawn at once (the draws depend on it: a constant)
PROGRESS_EVERY = 1000  # slots between progress reports
SLOT_EPS = 1e-9  # a step ending within this fraction of a slot before a boundary ends at it
MS_PER_S = 1e3


class Batch:
    """Per-step lists of one draw of tasks, indexed by the step's position in the draw."""

    __slots__ = ("elapsed", "upload", "advantage", "server_s", "local_s", "gain")

    def __init__(self, draws: StepDraws, beta: float, slot_s: float) -> None:
        spans = np.maximum(1.0, np.ceil(draws.local_s / slot_s - SLOT_EPS)).astype(np.int64)
        # slots from the draw's first step to each step when run locally back to back
        self.elapsed = np.concatenate(([0], np.cumsum(spans))).tolist()
        self.upload = (draws.upload / UPLOAD_SCALE).tolist()  # SlotData's units: c / B[MHz] = ms
        self.advantage = coarse_advantage(draws, beta).tolist()
        self.server_s = draws.server_s.tolist()
        self.local_s = draws.local_s.tolist()
        self.gain = draws.gain.tolist()


class Task:
    """One user's task: where its steps lie in its batch, and what it has accrued."""

    __slots__ = (
        "batch",
        "first",
        "end",
        "candidates",
        "cursor",
        "measured",
        "slm_success",
        "local_s",
        "steps",
        "nominated",
        "extra_s",
        "communication_s",
        "queuing_s",
        "gained",
        "offloaded",
        "queued",
    )

    def __init__(self, batch, first, end, candidates, measured, slm_success, local_s, nominated):
        self.batch = batch
        self.first = first  # position of step 0 in the batch
        self.end = end  # one past the last step
        self.candidates = candidates  # positions of the steps that reach Stage 2
        self.cursor = 0  # the next of them to be decided
        self.measured = measured
        self.slm_success = slm_success
        self.local_s = local_s  # sum of TS over all steps
        self.steps = end - first
        self.nominated = nominated
        self.extra_s = 0.0  # TL - TS over the offloaded steps
        self.communication_s = 0.0
        self.queuing_s = 0.0
        self.gained = 0.0  # surrogate gains of the offloaded steps
        self.offloaded = 0
        self.queued = 0

    def offload(self, j: int, communication_s: float) -> None:
        batch = self.batch
        self.extra_s += batch.server_s[j] - batch.local_s[j]
        self.communication_s += communication_s
        self.gained += batch.gain[j]
        self.offloaded += 1


@functools.cache
def slot_ids(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))


def slots_spanned(duration_s: float, slot_s: float) -> int:
    """Slots from a slot's start to the first slot starting at or after ``duration_s``."""
    return math.ceil(duration_s / slot_s - SLOT_EPS)


class Simulation:
    def __init__(self, config: SimulationConfig) -> None:
        config.check()
        self.config = config
        self.task_preset = task_preset(config.preset)
        self.nominate = stage1_policy(config.policy)
        self.schedule = stage2_scheduler(config.scheduler)
        task_seeds, policy_seeds, scheduler_seeds = config.seed_sequence().spawn(3)
        self.task_rng = np.random.default_rng(task_seeds)
        self.policy_rng = np.random.default_rng(policy_seeds)
        self.scheduler_rng = random.Random(int(scheduler_seeds.generate_state(1)[0]))
        self.compute = ComputeModel(config.flops_slm)
        self.channel = Channel(config.mean_snr_db, config.snr_threshold_db)
        self.quality = QualitySurrogate.of(self.task_preset.table2)
        self.server = Server(config.capacity)
        self.wake: defaultdict[int, list[Task]] = defaultdict(list)
        self.arrivals: list[list[Task]] = []
        self.totals = Totals()
        self.in_system = 0
        self.last_slot = 0
        self.stage2_calls = 0
        self.stage2_candidates = 0
        self.bandwidth_mhz = config.bandwidth_hz / HZ_PER_MHZ
        self.queued_upload_mhz = config.queued_upload_hz / HZ_PER_MHZ
        self.beta_per_ms = config.beta / MS_PER_S

    # --- arrivals -------------------------------------------------------------------------

    def draw_arrivals(self, first_slot: int) -> None:
        """Tasks of slots [first_slot, first_slot + ARRIVAL_CHUNK), eq. (1)."""
        cfg = self.config
        count = min(ARRIVAL_CHUNK, cfg.slots - first_slot)
        per_slot = self.task_rng.poisson(cfg.arrival_rate, size=count)
        tasks = iter(())
        if per_slot.sum():
            draws = draw_tasks(
                self.task_preset,
                int(per_slot.sum()),
                self.task_rng,
                self.compute,
                self.channel,
                self.quality,
            )
            nominated = self.nominate(draws, cfg.beta, self.policy_rng)
            arrival = np.repeat(first_slot + np.arange(count), per_slot)
            tasks = iter(self.make_tasks(draws, nominated, arrival))
        self.arrivals = [[next(tasks) for _ in range(n)] for n in per_slot.tolist()]

    def make_tasks(
        self, draws: StepDraws, nominated: np.ndarray, arrival: np.ndarray
    ) -> list[Task]:
        """The draw's tasks, each with the positions of its steps that reach Stage 2: those
        Stage 1 nominated and whose channel is not in outage."""
        batch = Batch(draws, self.config.beta, self.config.slot_s)
        starts = draws.starts
        ends = starts + draws.steps
        reaching = np.flatnonzero(nominated & ~draws.outage)
        by_task = np.split(reaching, np.searchsorted(reaching, ends[:-1]))
        local_s = np.add.reduceat(draws.local_s, starts)
        chosen = np.add.reduceat(nominated.astype(np.int64), starts)
        measured_from = self.config.measured_from
        return [
            Task(batch, first, end, candidates.tolist(), slot >= measured_from, success, ts, k)
            for first, end, candidates, slot, success, ts, k in zip(
                starts.tolist(),
                ends.tolist(),
                by_task,
                arrival.tolist(),
                draws.slm_success.tolist(),
                local_s.tolist(),
                chosen.tolist(),
            )
        ]

    # --- task progress ----------------------------------------------------------------------

    def advance(self, task: Task, slot: int, step: int) -> None:
        """``task`` starts step ``step`` in ``slot``: run the steps before its next candidate
        locally and wake it there, or book its completion."""
        elapsed = task.batch.elapsed
        if task.cursor < len(task.candidates):
            self.wake[slot + elapsed[task.candidates[task.cursor]] - elapsed[step]].append(task)
        else:
            self.complete(task, slot + elapsed[task.end] - elapsed[step])

    def complete(self, task: Task, slot: int) -> None:
        self.in_system -= 1
        self.last_slot = max(self.last_slot, slot)
        if not task.measured:
            return
        totals = self.totals
        totals.tasks += 1
        totals.steps += task.steps
        totals.nominated += task.nominated
        totals.offloaded += task.offloaded
        totals.queued += task.queued
        totals.accuracy += task.slm_success + task.gained
        totals.processing_s += task.local_s + task.extra_s
        totals.communication_s += task.communication_s
        totals.queuing_s += task.queuing_s

    def start_queued(self, now: float) -> None:
        slot_s = self.config.slot_s
        for task, start, wait in self.server.start_due(now):
            task.queuing_s += wait
            step = task.candidates[task.cursor - 1]
            done = start + task.batch.server_s[step]
            self.advance(task, slots_spanned(done, slot_s), step + 1)

    # --- Stage 2 ----------------------------------------------------------------------------

    def slot_data(self, due: list[Task], now: float) -> tuple[SlotData, list[float]]:
        """Problem A for this slot's candidates (design §4, queue delays given), and the time
        each one's upload at B_ref would complete."""
        upload = []
        gain = []
        for task in due:
            step = task.candidates[task.cursor]
            upload.append(task.batch.upload[step])
            gain.append(task.batch.advantage[step])
        readies = [now + u / self.queued_upload_mhz / MS_PER_S for u in upload]
        waits = self.server.queue_waits(readies)
        data = SlotData(
            ids=slot_ids(len(due)),
            eligible=(True,) * len(due),  # outage steps never reach Stage 2
            upload=tuple(upload),
            gain=tuple(gain),
            queue_delay_ms=tuple(MS_PER_S * w for w in waits),
            free_slots=self.server.free_slots(now),
            bandwidth_mhz=self.bandwidth_mhz,
            reference_bandwidth_mhz=self.queued_upload_mhz,
            beta_per_ms=self.beta_per_ms,
        )
        return data, readies

    def stage2(self, slot: int, now: float, due: list[Task]) -> None:
        data, readies = self.slot_data(due, now)
        immediate, queued = self.schedule(data, self.scheduler_rng)
        self.stage2_calls += 1
        self.stage2_candidates += len(due)
        share = split_bandwidth(data, immediate) if immediate else {}
        slot_s = self.config.slot_s
        for i, task in enumerate(due):
            step = task.candidates[task.cursor]
            task.cursor += 1
            if i in share:
                upload_s = data.upload[i] / share[i] / MS_PER_S  # TC = c / B_i, eq. (25)
                hold = upload_s + task.batch.server_s[step]
                self.server.admit(now, hold)
                task.offload(step, upload_s)
                self.advance(task, slot + slots_spanned(hold, slot_s), step + 1)
            elif i in queued:
                task.offload(step, readies[i] - now)
                task.queued += 1
                self.server.enqueue(readies[i], task.batch.server_s[step], task)
            else:
                self.advance(task, slot, step)

    # --- the run ----------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> RunResult:
        cfg = self.config
        started = time.perf_counter()
        slot = 0
        while slot < cfg.slots or self.in_system:
            now = slot * cfg.slot_s
            if slot < cfg.slots:
                if slot % ARRIVAL_CHUNK == 0:
                    self.draw_arrivals(slot)
                for task in self.arrivals[slot % ARRIVAL_CHUNK]:
                    self.in_system += 1
                    self.advance(task, slot, task.first)
            if self.server.queue:
                self.start_queued(now)
            due = self.wake.pop(slot, None)
            if due:
                self.stage2(slot, now, due)
            slot += 1
            if progress is not None and slot % PROGRESS_EVERY == 0:
                progress(slot)
        wall = time.perf_counter() - started
        simulated = max(slot, self.last_slot)
        return summarise(
            cfg,
            self.totals,
            self.server.busy_s,
            (self.stage2_calls, self.stage2_candidates),
            simulated,
            wall,
        )


def simulate(
    config: SimulationConfig,
    progress: Callable[[int], None] | None = None,
    *,
    scheduler: Scheduler | None = None,
) -> RunResult:
    """Run one simulation (the same config, the same result, whichever process runs it).

    ``scheduler`` is the Stage 2 hook: a function ``(data, rng) -> (immediate, queued)`` called
    once per slot that has candidates, with the slot's
    :class:`~opt_offload.models.admission.SlotData` (queue delays given) and the run's
    ``random.Random``; it returns the positions (indices into ``data``'s candidates) admitted
    now and those queued, every other candidate running locally. It replaces the scheduler
    named in ``config`` (see :data:`~opt_offload.simulation.schedulers.SCHEDULERS` for the
    built-in ones, which a hook may wrap).
    """
    simulation = Simulation(config)
    if scheduler is not None:
        simulation.schedule = scheduler
    return simulation.run(progress)
