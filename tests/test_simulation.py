"""The dynamic simulation (design §8): task draws, the quality surrogate and its calibration,
the server and its queue against the list-scheduling oracle, Stage 2 on the registered
solvers' functions, and whole runs (all-local and all-server bounds, determinism, invariants).
Runs are a few hundred slots."""

from __future__ import annotations

import dataclasses
import math
import random
import re
from unittest import mock

import numpy as np
import pytest

from opt_offload import registry
from opt_offload.costs.configs import preset
from opt_offload.costs.flops import step_flops
from opt_offload.errors import InputError
from opt_offload.generators.admission import SlotSettings, generate_slot
from opt_offload.models.admission import SlotData, slot_value
from opt_offload.prada import EDGE_MODEL, SERVER_MODEL, TABLE2
from opt_offload.queueing import list_schedule_waits
from opt_offload.registry import solvers_for
from opt_offload.simulation import SimulationConfig, simulate
from opt_offload.simulation import engine as engine_module
from opt_offload.simulation.calibration import (
    BETA_PER_S,
    FLOPS_SLM,
    calibrate_beta,
    calibrate_flops_slm,
    calibration_draws,
    per_task_ms,
)
from opt_offload.simulation.config import shared_reading_solvable
from opt_offload.simulation.engine import Simulation
from opt_offload.simulation.presets import PRESETS
from opt_offload.simulation.quality import QualitySurrogate
from opt_offload.simulation.schedulers import SCHEDULERS, scheduler_names, stage2_scheduler
from opt_offload.simulation.server import Server
from opt_offload.simulation.sweep import TIMING_FIELDS
from opt_offload.simulation.tasks import StepDraws, draw_lengths, step_flops_array
from opt_offload.solve import solve

SHORT = SimulationConfig(slots=300)


def untimed(result) -> dict:
    return {k: v for k, v in result.as_dict().items() if k not in TIMING_FIELDS}


# --- tasks, quality, calibration ---------------------------------------------------------------


@pytest.mark.parametrize("model", [EDGE_MODEL, SERVER_MODEL])
def test_step_flops_closed_form_matches_the_cost_model(model):
    config = preset(model)
    rng = np.random.default_rng(1)
    context, new = rng.integers(1, 2000, 20), rng.integers(1, 80, 20)
    closed = step_flops_array(config, context, new)
    for m, k, value in zip(context.tolist(), new.tolist(), closed.tolist()):
        assert value == pytest.approx(step_flops(config, m, k).total, rel=1e-12)


@pytest.mark.parametrize("name", list(PRESETS))
def test_contexts_grow_by_each_steps_tokens(name):
    task = PRESETS[name]
    steps, context, new = draw_lengths(task, 200, np.random.default_rng(2))
    first = 0
    for k in steps.tolist():
        assert task.question_tokens[0] <= context[first] <= task.question_tokens[1]  # eq. (2), k=0
        assert (np.diff(context[first : first + k]) == new[first : first + k - 1]).all()
        assert task.steps[0] <= k <= task.steps[1]
        first += k
    assert new.min() >= task.step_tokens[0] and new.max() <= task.step_tokens[1]


@pytest.mark.parametrize("name", list(PRESETS))
def test_quality_surrogate_reproduces_table2_in_expectation(name):
    row = PRESETS[name].table2
    surrogate = QualitySurrogate.of(row)
    steps = np.random.default_rng(3).integers(1, 12, 100_000)
    slm, gain = surrogate.draw(steps, np.random.default_rng(4))
    owner = np.repeat(np.arange(len(steps)), steps)
    llm = slm + np.bincount(owner, gain)
    assert (gain >= 0).all() and (llm <= 1.0 + 1e-12).all()
    assert slm.mean() == pytest.approx(row.slm_accuracy, abs=0.004)
    assert llm.mean() == pytest.approx(row.llm_side_accuracy, abs=0.004)


def test_llm_side_accuracy_is_the_pi_theta_column():
    assert TABLE2["gsm8k"].llm_side_accuracy == 0.939
    assert TABLE2["gsm8k"].accuracy_gap == pytest.approx(0.087)


def test_calibrated_constants_are_what_the_calibration_computes():
    assert calibrate_flops_slm() == pytest.approx(FLOPS_SLM, rel=0.005)
    assert calibrate_beta() == pytest.approx(BETA_PER_S, rel=0.005)


def test_other_presets_all_slm_delay_against_table2():
    for name in ("gaokao", "mmlu-stem"):
        draws = calibration_draws(PRESETS[name], FLOPS_SLM)
        table2 = PRESETS[name].table2.slm_processing_ms
        assert per_task_ms(draws, draws.local_s) == pytest.approx(table2, rel=0.03)


# --- the server ------------------------------------------------------------------------------


def random_server(rng: random.Random, capacity: int) -> Server:
    server = Server(capacity)
    server.free_at = sorted(rng.uniform(0.0, 0.01) for _ in range(capacity))
    for k in range(rng.randint(0, 8)):
        server.enqueue(rng.uniform(0.0, 0.01), rng.uniform(0.001, 0.008), f"q{k}")
    return server


def test_queue_waits_match_list_scheduling():
    rng = random.Random(5)
    for _ in range(300):
        server = random_server(rng, rng.randint(1, 5))
        readies = [rng.uniform(0.0, 0.012) for _ in range(rng.randint(1, 4))]
        waits = server.queue_waits(readies)
        for ready, wait in zip(readies, waits):
            ahead = [(f"q{k}", r, s) for k, (r, s, _) in enumerate(server.queue) if r <= ready]
            oracle = list_schedule_waits(server.free_at, [*ahead, ("new", ready, 0.0)])
            assert wait == pytest.approx(oracle["new"], abs=1e-15)


def replayed_waits(server: Server, readies: list[float]) -> list[float]:
    """The oracle of :meth:`Server.queue_waits`: list scheduling of the queue from scratch."""
    waits = []
    for ready in readies:
        ahead = [(f"q{k}", r, s) for k, (r, s, _) in enumerate(server.queue) if r <= ready]
        waits.append(list_schedule_waits(server.free_at, [*ahead, ("new", ready, 0.0)])["new"])
    return waits


def test_queue_waits_stay_exact_as_requests_queue_start_and_are_admitted():
    # the projection the waits are read off is kept across slots: after every kind of change
    # (queued behind or ahead of the others, started, an immediate admission) it must equal a
    # replay of the queue from scratch
    rng = random.Random(9)
    for _ in range(60):
        server, now = Server(rng.randint(1, 4)), 0.0
        for _ in range(40):
            now += rng.choice([0.0, 0.0005, 0.001, 0.003])
            server.start_due(now)
            readies = [now + rng.choice([1e-5, 4e-5, rng.uniform(0.0, 0.02)]) for _ in range(3)]
            assert server.queue_waits(readies) == pytest.approx(
                replayed_waits(server, readies), abs=1e-15
            )
            for ready in readies:
                if rng.random() < 0.5:
                    server.enqueue(ready, rng.uniform(0.001, 0.008), "task")
            if server.free_slots(now) and rng.random() < 0.3:
                server.admit(now, rng.uniform(0.001, 0.01))


def test_queue_starts_first_come_first_served_on_the_first_free_slot():
    rng = random.Random(6)
    for _ in range(100):
        server = random_server(rng, rng.randint(1, 4))
        expected = list_schedule_waits(
            server.free_at, [(task, ready, service) for ready, service, task in server.queue]
        )
        started = {}
        for now in np.arange(0.0, 0.2, 0.001):
            for task, start, wait in server.start_due(float(now)):
                assert start <= now + 1e-12
                started[task] = wait
        assert started == pytest.approx(expected)


def test_admitting_beyond_the_free_slots_is_refused():
    server = Server(2)
    server.admit(0.0, 0.005)
    server.admit(0.0, 0.005)
    assert server.free_slots(0.001) == 0
    with pytest.raises(RuntimeError):
        server.admit(0.001, 0.005)


# --- Stage 2 runs the registered solvers' own functions ---------------------------------------


SLOT_SOLVES = [
    ("threshold", {}),
    ("threshold", {"zero_price_check": False, "queue_upload": "paper"}),
    ("exact", {}),
    ("exact-joint", {}),
    ("greedy", {}),
    ("random", {}),
    ("all-local", {}),
    ("all-server", {}),
]


@pytest.mark.parametrize(("name", "options"), SLOT_SOLVES)
def test_schedulers_decide_as_the_registered_solvers(name, options):
    scheduler = stage2_scheduler(name, options)
    for k in range(30):
        upload = ("priced", "shared")[k % 2]
        instance = generate_slot(SlotSettings(candidates=1 + k % 9), 700 + k)
        instance = instance.model_copy(
            update={"queue": instance.queue.model_copy(update={"upload": upload})}
        )
        data = SlotData.from_instance(instance)
        immediate, queued = scheduler(data, random.Random(0))  # random: seed 0's draws
        decisions = solve(instance, name, **options).decisions
        for i, ident in enumerate(data.ids):
            action = "immediate" if i in immediate else "queue" if i in queued else "local"
            assert decisions[ident]["action"] == action


@pytest.mark.parametrize("name", ["exact-pyomo", "exact-cvxpy", "exact-scip"])
def test_the_formulations_slot_solves_reach_the_optimum(name):
    # the MILP and MISOCP backends as schedulers: seconds a slot, so three slots each
    if stage2_spec_missing(name):
        pytest.skip(f"{name}: backend not installed")
    scheduler = stage2_scheduler(name, {"mip_gap": 1e-9})
    for k in range(3):
        data = SlotData.from_instance(generate_slot(SlotSettings(candidates=4 + k), 900 + k))
        optimum = slot_value(data, *SCHEDULERS["exact"](data, random.Random(0)))
        assert slot_value(data, *scheduler(data, random.Random(0))) == pytest.approx(
            optimum, rel=1e-6, abs=1e-9
        )


def stage2_spec_missing(name: str) -> bool:
    return bool(registry.get_solver("admission", name).missing_backends())


def test_the_schedulers_are_the_registered_admission_solvers_with_a_slot_solve():
    names = [s.name for s in solvers_for("admission") if s.per_slot is not None]
    assert list(SCHEDULERS) == scheduler_names() == names
    assert {"threshold", "exact", "greedy", "random", "all-local", "all-server"} <= set(names)
    assert "enumerate" not in SCHEDULERS  # it judges instances, 3^n a slot: no slot solve


def test_a_registered_solver_with_a_slot_solve_is_a_scheduler_by_name(monkeypatch):
    # register a solver as a user would; the simulator takes it by name, options and all
    calls = []

    def admit_first(*, how_many: int):
        def schedule(data, rng):
            calls.append(len(data.ids))
            return data.candidates[: min(how_many, data.free_slots)], ()

        return schedule

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(
        "admission",
        "first-few",
        exact=False,
        description="test: the first candidates admitted",
        options=(registry.Option("how_many", int, 1, "admitted per slot"),),
        per_slot=admit_first,
    )(lambda instance, *, time_limit=None, how_many=1: None)
    config = dataclasses.replace(
        SHORT, scheduler="first-few", scheduler_options={"how_many": "2"}, capacity=30
    )
    result = simulate(config)
    assert calls and result.offload_fraction > 0.0 and result.queued_fraction == 0.0
    with pytest.raises(InputError, match="scheduler option: option how_many: must be > 0"):
        dataclasses.replace(config, scheduler_options={"how_many": 0}).check()


def test_scheduler_names_and_options_are_checked_as_solve_checks_them():
    bad = [
        (dict(scheduler="enumerate"), "no per-slot solve for the simulator"),
        (dict(scheduler="nope"), "scheduler: unknown 'nope' (known: all-local"),
        (dict(scheduler_options={"gap": 1}), "has no option 'gap' (options: kmax"),
        (dict(scheduler_options={"zero_price_check": "maybe"}), "expected bool"),
        (dict(scheduler="exact", scheduler_options={"kmax": 0}), "option kmax: must be > 0"),
    ]
    for fields, message in bad:
        with pytest.raises(InputError, match=re.escape(message)):
            dataclasses.replace(SHORT, **fields).check()


def capture_slots(config: SimulationConfig) -> list[SlotData]:
    """Every SlotData a run hands Stage 2."""
    slots = []
    scheduler = SCHEDULERS[config.scheduler]

    def recording(data, rng):
        slots.append(data)
        return scheduler(data, rng)

    with mock.patch.object(engine_module, "stage2_scheduler", lambda *named: recording):
        simulate(config)
    return slots


def test_heuristics_never_beat_the_exact_solver_on_simulated_slots():
    configs = [
        dataclasses.replace(SHORT, capacity=15),
        dataclasses.replace(SHORT, bandwidth_hz=1e5),
    ]
    slots = [data for config in configs for data in capture_slots(config)]
    assert any(d.free_slots > 0 and len(d.ids) > d.free_slots for d in slots)  # competitive
    for data in slots[::3]:
        optimum = slot_value(data, *SCHEDULERS["exact"](data, random.Random(0)))
        for name in ("threshold", "greedy", "random", "all-server"):
            immediate, queued = SCHEDULERS[name](data, random.Random(1))
            assert len(immediate) <= data.free_slots
            assert slot_value(data, immediate, queued) <= optimum + 1e-9


# --- whole runs --------------------------------------------------------------------------------


def test_all_local_reproduces_the_slm_column():
    result = simulate(dataclasses.replace(SHORT, scheduler="all-local", slots=600))
    assert result.offload_fraction == result.communication_ms == result.queuing_ms == 0.0
    assert result.utilisation == 0.0
    assert result.processing_ms == pytest.approx(TABLE2["gsm8k"].slm_processing_ms, rel=0.05)
    assert result.accuracy_surrogate == pytest.approx(TABLE2["gsm8k"].slm_accuracy, abs=0.02)


def test_all_server_reproduces_the_llm_side_accuracy():
    # every step nominated, no outage, and capacity for the whole load: all on the LLM
    config = dataclasses.replace(
        SHORT, scheduler="all-server", policy="all", capacity=200, snr_threshold_db=-math.inf
    )
    result = simulate(config)
    assert result.offload_fraction == 1.0 and result.nominated_fraction == 1.0
    assert result.accuracy_surrogate == pytest.approx(TABLE2["gsm8k"].llm_side_accuracy, abs=0.02)


def test_same_config_same_result_and_seeds_differ():
    first = untimed(simulate(SHORT))
    assert untimed(simulate(SHORT)) == first
    assert untimed(simulate(dataclasses.replace(SHORT, seed=1))) != first


def test_schedulers_meet_the_same_tasks():
    # seeds come from (seed, M, B) only: every scheduler faces the same arrivals and steps
    local = simulate(dataclasses.replace(SHORT, scheduler="all-local"))
    for name in ("threshold", "exact", "random"):
        result = simulate(dataclasses.replace(SHORT, scheduler=name))
        assert result.tasks == local.tasks
        assert result.nominated_fraction == local.nominated_fraction


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"capacity": 1},
        {"capacity": 20, "policy": "random"},
        {"bandwidth_hz": 1e4, "scheduler": "exact"},
        {"scheduler": "random"},
        {"scheduler": "greedy", "preset": "mmlu-stem"},
    ],
)
def test_run_invariants(changes):
    result = simulate(dataclasses.replace(SHORT, **changes))
    parts = result.processing_ms + result.communication_ms + result.queuing_ms
    assert result.latency_ms == pytest.approx(parts)
    penalty = result.penalty_processing + result.penalty_communication + result.penalty_queuing
    assert result.objective == pytest.approx(result.accuracy_surrogate - penalty)
    assert penalty == pytest.approx(result.beta * result.latency_ms / 1e3)
    assert 0.0 <= result.queued_fraction <= result.offload_fraction <= result.nominated_fraction
    assert 0.0 <= result.utilisation <= 1.0 + 1e-9
    assert result.slots_simulated >= result.slots and result.tasks > 0


def test_outage_steps_stay_local():
    # every channel in outage: nothing reaches Stage 2, so nothing is offloaded
    config = dataclasses.replace(SHORT, scheduler="all-server", policy="all", mean_snr_db=-60.0)
    result = simulate(config)
    assert result.nominated_fraction == 1.0 and result.offload_fraction == 0.0


def test_bad_config_lists_every_problem():
    from opt_offload.errors import InputError

    with pytest.raises(InputError) as error:
        simulate(SimulationConfig(capacity=0, scheduler="nope", slots=10, warmup=10))
    text = str(error.value)
    assert "M: must be positive" in text and "scheduler: unknown 'nope'" in text
    assert "warmup" in text


# --- a hand-checked run ------------------------------------------------------------------------


class HandRun(Simulation):
    """Two tasks arriving in slot 0 with hand-set steps instead of random draws."""

    def __init__(self, config: SimulationConfig, draws: StepDraws, nominated) -> None:
        super().__init__(config)
        self.hand = draws, np.array(nominated)

    def draw_arrivals(self, first_slot: int) -> None:
        draws, nominated = self.hand
        self.arrivals = [[]]
        self.load_arrivals(first_slot, draws, nominated, np.zeros(len(draws.steps), dtype=np.int64))


def test_hand_checked_slots_queue_and_delays():
    # M = 1, B = B_ref = 1 MHz, slot 1 ms, all-server: in slot 0 task A (first) is admitted
    # now with all of B and task B is queued. A uploads c = 1000 in 1 ms and computes 3.2 ms,
    # so it holds the server until 4.2 ms and is active again in slot 5, where its second
    # step (not nominated) runs locally for 0.5 ms: done in slot 6. B's upload (c = 500) ends
    # at 0.5 ms; it waits for the server until 4.2 ms (TQ = 3.7 ms), computes 1.5 ms: done.
    ms = 1e-3
    draws = StepDraws(
        steps=np.array([2, 1]),
        slm_success=np.array([0.5, 0.25]),
        context=np.array([10, 20, 10]),
        new_tokens=np.array([10, 10, 10]),
        local_s=np.array([0.5, 0.5, 0.5]) * ms,
        server_s=np.array([3.2, 2.0, 1.5]) * ms,
        upload=np.array([1000.0, 1000.0, 500.0]),
        outage=np.zeros(3, dtype=bool),
        gain=np.array([0.25, 0.0, 0.5]),
    )
    config = SimulationConfig(
        scheduler="all-server", capacity=1, bandwidth_hz=1e6, slots=1, warmup=0, beta=1.0
    )
    result = HandRun(config, draws, [True, False, True]).run()
    assert result.tasks == 2 and result.slots_simulated == 6
    assert result.processing_ms == pytest.approx(((3.2 + 0.5) + 1.5) / 2)
    assert result.communication_ms == pytest.approx((1.0 + 0.5) / 2)
    assert result.queuing_ms == pytest.approx((0.0 + 3.7) / 2)
    assert result.accuracy_surrogate == pytest.approx(((0.5 + 0.25) + (0.25 + 0.5)) / 2)
    assert result.offload_fraction == pytest.approx(2 / 3)
    assert result.queued_fraction == pytest.approx(1 / 3)
    assert result.utilisation == pytest.approx((4.2 + 1.5) / 6)


def test_an_upload_holds_its_band_until_its_bits_are_through():
    # M = 2, B = B_ref = 1 MHz, all-server. Slot 0: task A is admitted with all of B; its
    # upload (c = 3000) takes 3 ms. Slot 1: task B's second step is a candidate, but A's upload
    # still holds all of B, so B cannot be admitted now and is queued (it uploads at B_ref,
    # 0.5 ms, and starts on the free server slot at 1.5 ms: no wait). With B renewed every
    # slot it would have been admitted.
    ms = 1e-3
    draws = StepDraws(
        steps=np.array([1, 2]),
        slm_success=np.array([0.5, 0.25]),
        context=np.array([10, 10, 20]),
        new_tokens=np.array([10, 10, 10]),
        local_s=np.array([0.5, 0.5, 0.5]) * ms,
        server_s=np.array([2.0, 1.0, 1.5]) * ms,
        upload=np.array([3000.0, 1000.0, 500.0]),
        outage=np.zeros(3, dtype=bool),
        gain=np.array([0.25, 0.0, 0.5]),
    )
    config = SimulationConfig(
        scheduler="all-server", capacity=2, bandwidth_hz=1e6, slots=1, warmup=0, beta=1.0
    )
    result = HandRun(config, draws, [True, False, True]).run()
    assert result.tasks == 2 and result.slots_simulated == 5
    assert result.queued_fraction == pytest.approx(1 / 3)
    assert result.communication_ms == pytest.approx((3.0 + 0.5) / 2)
    assert result.queuing_ms == 0.0
    assert result.processing_ms == pytest.approx((2.0 + (0.5 + 1.5)) / 2)
    assert result.utilisation == pytest.approx((5.0 + 1.5) / (2 * 5))


@pytest.mark.parametrize("bandwidth_hz", [1e5, 1e6])
def test_the_band_in_use_never_exceeds_b(bandwidth_hz):
    # every slot's problem gets what the uploads in flight leave of B, and what it admits
    # fits in it (the closed-form split hands out exactly that band); when they leave
    # nothing, nothing can be admitted
    config = dataclasses.replace(SHORT, bandwidth_hz=bandwidth_hz, capacity=15, scheduler="exact")
    simulation = Simulation(config)
    scheduler = SCHEDULERS["exact"]
    budget = bandwidth_hz / 1e6
    spans = []

    def checking(data, rng):
        busy = simulation.uplink.busy_mhz
        if busy >= budget * (1.0 - 1e-9):
            assert data.free_slots == 0
        else:
            assert data.bandwidth_mhz == pytest.approx(budget - busy, rel=1e-12)
        spans.append(busy > 0.0)
        return scheduler(data, rng)

    simulation.schedule = checking
    simulation.run()
    assert any(spans)  # uploads did span slots
    assert simulation.uplink.busy_mhz == pytest.approx(0.0, abs=1e-12 * budget)


SHARED = shared_reading_solvable()


@pytest.mark.skipif(not SHARED, reason="the admission solvers lack the shared reading")
@pytest.mark.parametrize("scheduler", ["threshold", "exact"])
def test_shared_reading_holds_the_band_of_queued_uploads_too(scheduler):
    # queued uploads take band under 'shared': the uploads in flight never hold more than B,
    # and a scarce band (B = 1e5) holds queueing back where 'priced' queues freely
    config = dataclasses.replace(SHORT, bandwidth_hz=1e5, scheduler=scheduler)
    simulation = Simulation(dataclasses.replace(config, upload="shared"))
    most = []
    original = simulation.uplink.hold

    def holding(end_s, band_mhz):
        original(end_s, band_mhz)
        most.append(simulation.uplink.busy_mhz)

    simulation.uplink.hold = holding
    shared = simulation.run()
    priced = simulate(config)
    assert max(most) <= 0.1 * (1.0 + 1e-9)
    assert shared.queued_fraction < priced.queued_fraction


@pytest.mark.skipif(SHARED, reason="the admission solvers carry the shared reading")
def test_shared_reading_without_the_solvers_is_bad_input():
    from opt_offload.errors import InputError

    with pytest.raises(InputError, match="upload: 'shared' needs"):
        simulate(dataclasses.replace(SHORT, upload="shared"))
