"""The threshold rules of Theorem 2 and the admission baselines: feasible, never above the
enumerated optimum, equal to it with one candidate (design §4)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from opt_offload.generators.admission import (
    BINDING_BANDWIDTH_HZ,
    TABLE3_BANDWIDTH_HZ,
    SlotSettings,
    generate_slot,
)
from opt_offload.io import load_instance, parse_instance
from opt_offload.models.admission import SlotData, split_bandwidth
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.admission.common import best_alternative
from opt_offload.solvers.admission.enumeration import enumerate_optimum
from opt_offload.solvers.admission.threshold import (
    Variant,
    case_of,
    clearing_price,
    demand,
    gain_now,
    queue_margin,
    threshold_rules,
)

from .conftest import INSTANCES
from .strategies import admission_documents
from .test_admission_exact import ORACLE, oracle_case

REL = 1e-6
VERBATIM = {"zero_price_check": False, "queue_upload": "paper"}
HEURISTICS = [
    ("threshold", {}),
    ("threshold", VERBATIM),
    ("greedy", {}),
    ("random", {"seed": 7}),
    ("all-local", {}),
]


def never_above(solution, optimum: float) -> None:
    assert solution.status is Status.FEASIBLE and not solution.violations
    assert solution.objective <= optimum + REL * max(1.0, abs(optimum))


@pytest.mark.parametrize("chunk", range(5))
def test_heuristics_feasible_and_never_above_the_optimum(chunk):
    for k in ORACLE[chunk::5]:
        instance, optimum = oracle_case(k)
        for name, options in HEURISTICS:
            never_above(solve(instance, name, **options), optimum)


def single_candidates():
    for k in range(120):
        yield generate_slot(
            SlotSettings(
                candidates=1,
                case=("abundant", "server-full", "any")[k % 3],
                bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[k % 2],
                beta=(20.0, 200.0, 2000.0)[k % 3],
                outage=k % 10 == 0,
            ),
            seed=3000 + k,
        )


def test_threshold_equals_the_optimum_with_one_candidate():
    for instance in single_candidates():
        optimum = enumerate_optimum(instance)[0]
        assert solve(instance, "threshold").objective == pytest.approx(optimum, rel=REL, abs=REL)


def one_candidate(gain: float) -> dict:
    # c = 32 * 1000 / log2(1 + 15) = 8000, B = 1e6, beta = 10: beta c / B = 0.08
    return {
        "kind": "admission",
        "version": 1,
        "name": "one",
        "server": {"capacity": 1},
        "bandwidth_hz": 1e6,
        "beta": 10.0,
        "candidates": [
            {
                "id": "u",
                "context_tokens": 1000,
                "snr_db": 10 * math.log10(15),
                "server_time_s": 0.01,
                "gain": gain,
                "queue_delay_s": 1.0,
            }
        ],
    }


def test_zero_price_check_makes_one_candidate_exact():
    # beta c / B = 0.08. g = 0.12: admitting with all of B is worth 0.04 with or without the
    # check. g = 0.05: the set just below the clearing price mu* = g^2 / (4 beta c) admits the
    # candidate, worth 0.05 - 0.08 < 0 at all of B; the zero-price check sends it home.
    worth = parse_instance(one_candidate(0.12))
    for options in ({}, VERBATIM):
        assert solve(worth, "threshold", **options).objective == pytest.approx(0.04)
    not_worth = parse_instance(one_candidate(0.05))
    assert solve(not_worth, "exact").objective == 0.0
    assert solve(not_worth, "threshold").objective == 0.0
    assert solve(not_worth, "threshold", **VERBATIM).objective == pytest.approx(-0.03)


def test_eqs_30_to_32_by_hand():
    data = SlotData.from_instance(parse_instance(one_candidate(0.5)))
    beta, c, mu = data.beta_per_ms, data.upload[0], 0.3
    band = math.sqrt(beta * c / mu)  # eq. (30)
    assert gain_now(data, 0, mu) == pytest.approx(0.5 - beta * c / band - mu * band)  # (31)
    tq = data.queue_delay_ms[0]
    paper = queue_margin(data, 0, mu, Variant(queue_upload="paper"))
    assert paper == pytest.approx(beta * tq - mu * band)  # (32)
    reference = queue_margin(data, 0, mu, Variant())
    queue_upload = beta * c / data.reference_bandwidth_mhz
    assert reference == pytest.approx(beta * tq + queue_upload - beta * c / band - mu * band)


def test_multiplier_search_fits_the_band_and_the_slots():
    for k in ORACLE[::3]:
        data = SlotData.from_instance(oracle_case(k)[0])
        case = case_of(data)
        if not data.candidates or case == "server-full":
            continue
        outcome = clearing_price(data, case, Variant())
        assert len(outcome.immediate) <= data.free_slots
        assert outcome.lam >= 0.0 and (case == "competitive" or outcome.lam == 0.0)
        final = threshold_rules(data)
        assert len(final.immediate) <= data.free_slots
        # after the zero-price check every admission is worth its share
        share = split_bandwidth(data, final.immediate)
        for i in final.immediate:
            value = data.gain[i] - data.beta_per_ms * data.upload[i] / share[i]
            assert value >= best_alternative(data, i)[0]
        assert demand(data, frozenset(), 1.0) == 0.0


def test_server_full_rule_is_exact_with_given_delays():
    for k in ORACLE:
        instance, optimum = oracle_case(k)
        if instance.server.free_slots == 0:
            assert solve(instance, "threshold").objective == pytest.approx(optimum, abs=REL)


def test_hand_instances():
    three = load_instance(INSTANCES / "admission" / "hand-three.json")
    estimate = load_instance(INSTANCES / "admission" / "hand-estimate.json")
    assert solve(three, "threshold").objective == pytest.approx(0.54)
    solution = solve(estimate, "threshold")
    assert solution.objective == pytest.approx(0.3)
    assert "order stable" in solution.message and "server-full" in solution.message


def test_estimate_mode_threshold_is_feasible():
    for k in range(0, 40):
        instance = generate_slot(SlotSettings(candidates=1 + k % 8, queue="estimate"), 4000 + k)
        for name, options in HEURISTICS:
            solution = solve(instance, name, **options)
            assert solution.status is Status.FEASIBLE and not solution.violations


def test_random_scheduler_is_seeded_and_maps_to_valid_actions():
    instance, _ = oracle_case(21)
    first = solve(instance, "random", seed=3).decisions
    assert solve(instance, "random", seed=3).decisions == first
    assert any(solve(instance, "random", seed=s).decisions != first for s in range(4, 10))
    outage = oracle_case(0)[0]  # k % 5 == 0: one candidate in outage
    blocked = [c.id for c in outage.candidates if not outage.can_upload(c)]
    assert blocked
    for seed in range(20):
        decisions = solve(outage, "random", seed=seed).decisions
        assert all(decisions[i]["action"] == "local" for i in blocked)


@settings(max_examples=40, deadline=None)
@given(admission_documents(max_candidates=6))
def test_heuristics_feasible_on_arbitrary_instances(document):
    instance = parse_instance(document)
    for name, options in HEURISTICS:
        solution = solve(instance, name, **options)
        assert solution.status is Status.FEASIBLE, solution.violations


def test_threshold_stops_at_its_time_limit_with_a_feasible_answer():
    # 1,000 competitive candidates: the kinetic price search; a limit already past when the
    # search starts keeps the first fitting piece (the price above the clearing one)
    from opt_offload.benchmarks.io import admission_document

    instance = parse_instance(admission_document(1000))
    full = solve(instance, "threshold")
    cut = solve(instance, "threshold", time_limit=1e-9)
    assert full.status is Status.FEASIBLE and "time limit" not in full.message
    assert cut.status is Status.TIME_LIMIT and cut.has_decisions, cut.message
    assert not cut.violations and "price search stopped" in cut.message
