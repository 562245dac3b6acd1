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
only at its next candidate step, and a task with no candidate step is booked complete when its
arrivals are drawn, with numpy, never to be touched again. What Stage 2 needs of a candidate
step (its c_i, its advantage, its TL, how many slots lie from it to the next candidate if it
runs locally or after it if offloaded) is computed for a whole draw at once
(:class:`Candidates`), so a slot's own work is one look-up per candidate, the slot's problem
and its decisions.

Readings (design §4, §8):

- Stage 2 is handed, per candidate: c_i, the coarse advantage ``g_ik - beta (TL - TS)`` as
  ``Q(x,1) - Q(x,0)`` (eqs. 20-22 under the quality surrogate: an oracle value estimate, where
  PRADA uses its learned A_omega, eq. 33), and TQ_i in queue mode ``given``: the wait a request
  queued now would get from the current server state (the requests in service and the queue,
  FIFO by upload completion), not knowing the slot's other decisions.
- The band B is conserved (:class:`~opt_offload.simulation.uplink.Uplink`): an immediate
  admission holds its share B_i until its bits are through, c_i / B_i later (which may be
  several slots on), and a slot's problem (28) shares what the uploads in flight leave,
  ``B - uplink_busy`` (the admission instance's ``server.uplink_busy_hz``). When they hold all
  of B nothing can be admitted now: the slot's problem is handed with no free server slot,
  which under the priced reading is the same problem (queueing needs no band).
- Priced reading (design §4): a queued request uploads at B_ref (= B unless set) without
  taking a share of B.
- Delays per step (eq. 13): local TS; immediate TC = c_i / B_i and TL; queued TC = c_i / B_ref,
  the actual wait TQ, and TL. A step's processing delay is TS or TL.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from ..models.admission import HZ_PER_MHZ, UPLOAD_SCALE, SlotData, split_bandwidth
from .arrivals import arrival_source
from .config import SimulationConfig
from .metrics import RunResult, Totals, summarise
from .policies import coarse_advantage, stage1_policy
from .presets import task_preset
from .quality import QualitySurrogate
from .schedulers import Scheduler, stage2_scheduler
from .server import Server
from .tasks import Channel, ComputeModel, StepDraws, draw_tasks
from .trace import IMMEDIATE, LOCAL, QUEUED, Trace
from .uplink import Uplink

ARRIVAL_CHUNK = 256  # slots of arrivals drawn at once (the draws depend on it: a constant)
PROGRESS_EVERY = 1000  # slots between progress reports
SLOT_EPS = 1e-9  # a step ending within this fraction of a slot before a boundary ends at it
MS_PER_S = 1e3
NO_BAND = 1e-9  # a free band below this fraction of B is none (what the in-flight hold, rounded)


# What the slot loop reads of a candidate step: fields of the tuples of Candidates.steps.
(
    UPLOAD,  # c_i in SlotData's units
    ADVANTAGE,  # g_ik - beta (TL - TS), Stage 2's gain
    QUEUED_UPLOAD_S,  # c_i / B_ref: the upload of a queued request
    SERVER_S,  # TL
    EXTRA_S,  # TL - TS
    GAIN,  # g_ik, what the surrogate accuracy gains if the step runs on the LLM
    LOCAL_GAP,  # slots from the step's slot to the task's next event if the step runs locally
    OFFLOAD_GAP,  # slots from the first slot after it ends on the server to the next event
    LAST,  # no candidate step follows: the next event is the task's completion
    POSITION,  # the step's position in its task
) = range(10)


class Candidates:
    """Per candidate step of one draw (the steps that reach Stage 2, in task order), a tuple
    of the fields above."""

    __slots__ = ("steps",)

    def __init__(self, draws: StepDraws, reaching: np.ndarray, elapsed, config) -> None:
        starts = draws.starts
        ends = starts + draws.steps
        owner = np.searchsorted(ends, reaching, side="right")
        owner_end = ends[owner]
        following = np.append(reaching[1:], np.iinfo(np.int64).max)
        last = following >= owner_end
        upto = elapsed[np.where(last, owner_end, following)]
        upload = draws.upload[reaching] / UPLOAD_SCALE  # SlotData's units: c / B[MHz] = ms
        queued_upload_s = upload / (config.queued_upload_hz / HZ_PER_MHZ) / MS_PER_S
        server_s = draws.server_s[reaching]
        self.steps = list(
            zip(
                upload.tolist(),
                coarse_advantage(draws, config.beta)[reaching].tolist(),
                queued_upload_s.tolist(),
                server_s.tolist(),
                (server_s - draws.local_s[reaching]).tolist(),
                draws.gain[reaching].tolist(),
                (upto - elapsed[reaching]).tolist(),
                (upto - elapsed[reaching + 1]).tolist(),
                last.tolist(),
                (reaching - starts[owner]).tolist(),
            )
        )


# A task between its candidate steps: (its draw's Candidates.steps, the position of its next
# candidate step in them, its number in arrival order, whether it is measured). Its delays
# accrue straight into the run's totals (and the trace), so nothing else about it is kept.
Pending = tuple[list, int, int, bool]


@functools.cache
def slot_ids(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))


@functools.cache
def all_eligible(n: int) -> tuple[bool, ...]:
    return (True,) * n  # outage steps never reach Stage 2


def slots_spanned(duration_s: float, slot_s: float) -> int:
    """Slots from a slot's start to the first slot starting at or after ``duration_s``."""
    return math.ceil(duration_s / slot_s - SLOT_EPS)


class Simulation:
    def __init__(self, config: SimulationConfig, trace: Trace | None = None) -> None:
        config.check()
        self.config = config
        self.trace = trace
        self.task_preset = task_preset(config.preset)
        self.nominate = stage1_policy(config.policy)
        self.schedule = stage2_scheduler(config.scheduler, config.scheduler_options)
        task_seeds, policy_seeds, scheduler_seeds = config.seed_sequence().spawn(3)
        self.task_rng = np.random.default_rng(task_seeds)
        self.policy_rng = np.random.default_rng(policy_seeds)
        self.scheduler_rng = random.Random(int(scheduler_seeds.generate_state(1)[0]))
        self.compute = ComputeModel(config.flops_slm)
        self.channel = Channel(config.mean_snr_db, config.snr_threshold_db)
        self.quality = QualitySurrogate.of(self.task_preset.table2)
        self.server = Server(config.capacity)
        self.source = arrival_source(config)
        self.uplink = Uplink(config.bandwidth_hz / HZ_PER_MHZ)
        self.wake: defaultdict[int, list[Pending]] = defaultdict(list)
        self.arrivals: list[list[tuple[Pending, int]]] = []  # per slot of the chunk: (task, wake)
        self.totals = Totals()
        self.drawn = 0  # tasks drawn so far
        self.last_slot = 0  # the latest completion booked
        self.stage2_calls = 0
        self.stage2_candidates = 0
        self.bandwidth_mhz = config.bandwidth_hz / HZ_PER_MHZ
        self.queued_upload_mhz = config.queued_upload_hz / HZ_PER_MHZ
        self.beta_per_ms = config.beta / MS_PER_S
        self.slot_s = config.slot_s
        self.shared = config.upload == "shared"
        self.reading = {"shared": True} if self.shared else {}  # SlotData's field (priced: default)

    # --- arrivals -------------------------------------------------------------------------

    def draw_arrivals(self, first_slot: int) -> None:
        """Tasks of slots [first_slot, first_slot + ARRIVAL_CHUNK): Poisson, eq. (1), or a
        trace's requests (:mod:`opt_offload.simulation.arrivals`)."""
        cfg = self.config
        count = min(ARRIVAL_CHUNK, cfg.slots - first_slot)
        per_slot = self.source.per_slot(first_slot, count, self.task_rng)
        self.arrivals = [[] for _ in range(count)]
        if per_slot.sum():
            draws = draw_tasks(
                self.task_preset,
                int(per_slot.sum()),
                self.task_rng,
                self.compute,
                self.channel,
                self.quality,
                self.source.lengths(first_slot, per_slot, self.task_preset),
            )
            nominated = self.nominate(draws, cfg.beta, self.policy_rng)
            arrival = np.repeat(np.arange(count), per_slot)
            self.load_arrivals(first_slot, draws, nominated, arrival)

    def load_arrivals(
        self, first_slot: int, draws: StepDraws, nominated: np.ndarray, arrival: np.ndarray
    ) -> None:
        """File the draw's tasks under their arrival slots (``first_slot + arrival``, in
        order), each with the slot of its first candidate step; book those without one as
        complete, and what every measured task reports whatever Stage 2 decides."""
        cfg = self.config
        starts = draws.starts
        ends = starts + draws.steps
        spans = np.maximum(1.0, np.ceil(draws.local_s / cfg.slot_s - SLOT_EPS)).astype(np.int64)
        elapsed = np.concatenate(([0], np.cumsum(spans)))  # slots from the draw's first step
        reaching = np.flatnonzero(nominated & ~draws.outage)  # the steps that reach Stage 2
        first = np.searchsorted(reaching, starts)  # each task's first candidate, if any
        active = first < np.searchsorted(reaching, ends)
        local_s = np.add.reduceat(draws.local_s, starts)
        arrival = first_slot + arrival
        measured = arrival >= cfg.measured_from
        idents = self.drawn + np.arange(len(starts))
        self.drawn += len(starts)
        self.book_measured(draws, nominated, starts, local_s, measured)
        done = arrival + elapsed[ends] - elapsed[starts]  # completion if every step runs locally
        if not active.all():
            self.last_slot = max(self.last_slot, int(done[~active].max()))
        if self.trace is not None:
            self.trace_arrivals(idents, local_s, draws.slm_success, done, active)
        if not active.any():
            return
        wake = arrival[active] + elapsed[reaching[first[active]]] - elapsed[starts[active]]
        pending = zip(
            itertools.repeat(Candidates(draws, reaching, elapsed, cfg).steps),
            first[active].tolist(),
            idents[active].tolist(),
            measured[active].tolist(),
        )
        arrivals = self.arrivals
        for slot, task, at in zip((arrival[active] - first_slot).tolist(), pending, wake.tolist()):
            arrivals[slot].append((task, at))

    def book_measured(self, draws, nominated, starts, local_s, measured) -> None:
        """What a measured task reports whatever Stage 2 decides: its steps, its nominated
        steps, its SLM success and its TS (offloaded steps add the rest as they are decided)."""
        totals = self.totals
        steps = draws.steps[measured]
        totals.tasks += len(steps)
        totals.steps += int(steps.sum())
        totals.nominated += int(np.add.reduceat(nominated.astype(np.int64), starts)[measured].sum())
        totals.accuracy += float(draws.slm_success[measured].sum())
        totals.processing_s += float(local_s[measured].sum())

    def trace_arrivals(self, idents, local_s, slm_success, done, active) -> None:
        trace = self.trace
        for ident, ts, success in zip(idents.tolist(), local_s.tolist(), slm_success.tolist()):
            trace.arrived(ident, ts, success)
        for ident, slot in zip(idents[~active].tolist(), done[~active].tolist()):
            trace.completed(ident, slot)

    # --- task progress ----------------------------------------------------------------------

    def resume(self, task: Pending, slot: int) -> None:
        """``task`` has decided its candidate step, and its next event lies in ``slot``: its
        next candidate step, or, after its last, its completion."""
        steps, cursor, ident, measured = task
        if steps[cursor][LAST]:
            self.completed(task, slot)
        else:
            self.wake[slot].append((steps, cursor + 1, ident, measured))

    def completed(self, task: Pending, slot: int) -> None:
        if slot > self.last_slot:
            self.last_slot = slot
        if self.trace is not None:
            self.trace.completed(task[2], slot)

    def offloaded(self, task: Pending, communication_s: float, queued: bool) -> None:
        """Book an offloaded step's TL - TS, TC and surrogate gain."""
        steps, cursor, ident, measured = task
        step = steps[cursor]
        if measured:
            totals = self.totals
            totals.offloaded += 1
            totals.queued += queued
            totals.processing_s += step[EXTRA_S]
            totals.communication_s += communication_s
            totals.accuracy += step[GAIN]
        if self.trace is not None:
            self.trace.offloaded(ident, step[EXTRA_S], communication_s, step[GAIN])

    def start_queued(self, now: float) -> None:
        slot_s = self.slot_s
        for task, start, wait in self.server.start_due(now):
            steps, cursor, ident, measured = task
            if measured:
                self.totals.queuing_s += wait
            if self.trace is not None:
                self.trace.waited(ident, wait)
            step = steps[cursor]
            self.resume(task, slots_spanned(start + step[SERVER_S], slot_s) + step[OFFLOAD_GAP])

    # --- Stage 2 ----------------------------------------------------------------------------

    def free_band(self, now: float) -> float | None:
        """B - uplink_busy in MHz, the band this slot's uploads share, or None when the
        uploads in flight hold all of it (to rounding)."""
        uplink = self.uplink
        uplink.release(now)
        band = uplink.free_mhz
        return band if band > NO_BAND * self.bandwidth_mhz else None

    def stage2(self, slot: int, now: float, due: list[Pending]) -> None:
        """Problem A for this slot's candidates (design §4, queue delays given), its
        decisions, and what they do to each task."""
        n = len(due)
        steps = [task[0][task[1]] for task in due]
        upload, advantage, queued_upload_s, server_s, _, _, local_gap, offload_gap, _, _ = zip(
            *steps
        )
        readies = [now + u for u in queued_upload_s]  # when an upload at B_ref would complete
        server = self.server
        band, free_slots = self.free_band(now), server.free_slots(now)
        blocked = False  # no band at all: under 'shared' no candidate can upload
        if band is None:  # uploads in flight hold all of B: nothing can be admitted now
            band, free_slots, blocked = self.bandwidth_mhz, 0, self.shared
        data = SlotData(
            ids=slot_ids(n),
            eligible=all_eligible(n),
            upload=upload,
            gain=advantage,
            queue_delay_ms=tuple([MS_PER_S * w for w in server.queue_waits(readies)]),
            free_slots=free_slots,
            bandwidth_mhz=band,
            reference_bandwidth_mhz=self.queued_upload_mhz,
            beta_per_ms=self.beta_per_ms,
            **self.reading,
        )
        if blocked:
            immediate, queued = (), ()
        else:
            immediate, queued = self.schedule(data, self.scheduler_rng)
            self.stage2_calls += 1
            self.stage2_candidates += n
        uploading = set(immediate) | set(queued) if self.shared else immediate
        share = split_bandwidth(data, uploading) if uploading else {}
        slot_s = self.slot_s
        trace = self.trace
        for i, task in enumerate(due):
            if i in queued:
                if self.shared:  # uploads now in its share of the band, then waits
                    upload_s = upload[i] / share[i] / MS_PER_S
                    ready = now + upload_s
                    self.uplink.hold(ready, share[i])
                else:  # priced: uploads at B_ref without taking band
                    ready = readies[i]
                    upload_s = ready - now
                self.offloaded(task, upload_s, True)
                server.enqueue(ready, server_s[i], task)
                action = QUEUED
            elif i in share:
                upload_s = upload[i] / share[i] / MS_PER_S  # TC = c / B_i, eq. (25)
                hold = upload_s + server_s[i]
                server.admit(now, hold)
                self.uplink.hold(now + upload_s, share[i])
                self.offloaded(task, upload_s, False)
                self.resume(task, slot + slots_spanned(hold, slot_s) + offload_gap[i])
                action = IMMEDIATE
            else:
                self.resume(task, slot + local_gap[i])
                action = LOCAL
            if trace is not None:
                trace.decided(slot, task[2], steps[i][POSITION], action, data.queue_delay_ms[i])

    # --- the run ----------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> RunResult:
        cfg = self.config
        started = time.perf_counter()
        slot = 0
        slots, slot_s = cfg.slots, cfg.slot_s
        wake = self.wake
        server = self.server
        while slot < slots or wake or server.queue:
            now = slot * slot_s
            if slot < slots:
                if slot % ARRIVAL_CHUNK == 0:
                    self.draw_arrivals(slot)
                for task, at in self.arrivals[slot % ARRIVAL_CHUNK]:
                    wake[at].append(task)
            if server.queue:
                self.start_queued(now)
            due = wake.pop(slot, None)
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
            server.busy_s,
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
    named in ``config`` (:data:`~opt_offload.simulation.schedulers.SCHEDULERS`: the registered
    admission solvers' slot solves, which a hook may wrap).
    """
    simulation = Simulation(config)
    if scheduler is not None:
        simulation.schedule = scheduler
    return simulation.run(progress)
