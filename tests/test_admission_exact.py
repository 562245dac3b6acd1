"""Exact admission backends against enumeration of all 3^n action vectors (design §4).

300 seeded generated instances with n <= 8 cover the three cases of Theorem 2, the Table 3
band and a binding one, beta = 20 and 200, and outages; every exact backend is checked on all
of them (about 20 s for the three).
"""

from __future__ import annotations

import dataclasses
import functools
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
from opt_offload.models.admission import SlotData, communication_penalty, slot_value
from opt_offload.schemas import Status
from opt_offload.solve import solve
from opt_offload.solvers.admission.branch_and_bound import (
    branch_and_bound,
    server_full_priced,
    server_full_shared,
    solve_closed_form,
)
from opt_offload.solvers.admission.enumeration import closed_form_decisions, enumerate_optimum

from .conftest import INSTANCES
from .strategies import admission_documents

REL = 1e-6
CASES = ("abundant", "competitive", "server-full", "any")


def oracle_settings(k: int) -> SlotSettings:
    case = CASES[k % 4]
    n = 1 + (k // 4) % 8
    return SlotSettings(
        candidates=max(n, 2) if case == "competitive" else n,
        case=case,
        bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ)[(k // 32) % 2],
        beta=(20.0, 20.0, 200.0)[(k // 64) % 3],
        outage=k % 5 == 0,
    )


@functools.cache
def oracle_case(k: int):
    instance = generate_slot(oracle_settings(k), seed=1000 + k)
    return instance, enumerate_optimum(instance)[0]


ORACLE = range(300)
EXACT = ("exact", "exact-pyomo", "exact-cvxpy")


def assert_matches(solution, optimum: float) -> None:
    assert solution.status is Status.OPTIMAL, solution.message
    assert solution.objective == pytest.approx(optimum, rel=REL, abs=REL)
    assert solution.bound >= solution.objective - REL * max(1.0, abs(optimum))


def test_the_oracle_set_covers_every_case():
    settings_ = [oracle_settings(k) for k in ORACLE]
    for case in CASES:
        for band in (TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ):
            chosen = [s for s in settings_ if s.case == case and s.bandwidth_hz == band]
            assert len(chosen) >= 30 and any(s.outage for s in chosen)
    assert max(s.candidates for s in settings_) == 8


@pytest.mark.parametrize("chunk", range(10))
@pytest.mark.parametrize("backend", EXACT)
def test_exact_backends_match_enumeration(backend, chunk):
    for k in ORACLE[chunk::10]:
        instance, optimum = oracle_case(k)
        assert_matches(solve(instance, backend), optimum)


@settings(max_examples=40, deadline=None)
@given(admission_documents(max_candidates=5, delay="given"))
def test_exact_matches_enumeration_on_arbitrary_instances(document):
    # negative gains, zero beta, tiny bands, SNRs on both sides of the threshold
    instance = parse_instance(document)
    assert_matches(solve(instance, "exact"), enumerate_optimum(instance)[0])


def test_the_server_full_shortcut_is_what_the_search_returns():
    # a full server with priced queued uploads is separable; the search proves the same sets
    # and bound (32 slots with 1..16 candidates, queue values of both signs, outages)
    for k in range(32):
        settings_ = SlotSettings(
            candidates=1 + k % 16, case="server-full", beta=(20.0, 200.0)[k % 2], outage=k % 3 == 0
        )
        data = SlotData.from_instance(generate_slot(settings_, seed=3000 + k))
        searched, shortcut = branch_and_bound(data), server_full_priced(data)
        assert (shortcut.immediate, shortcut.queued) == (searched.immediate, searched.queued)
        assert shortcut.status is searched.status is Status.OPTIMAL
        assert shortcut.bound == pytest.approx(searched.bound, rel=1e-12, abs=1e-15)


def test_the_shared_server_full_certificate_is_what_the_search_returns():
    # queued uploads sharing the band on a full server: where the dual certifies queueing
    # every worthwhile upload, the search proves the same set and value; where it does not,
    # the shortcut declines (48 slots, 1..16 candidates, three bands)
    certified = declined = 0
    for k in range(48):
        settings_ = SlotSettings(
            candidates=1 + k % 16,
            case="server-full",
            bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ, 1e5)[k % 3],
            beta=(20.0, 200.0)[k % 2],
            outage=k % 5 == 0,
        )
        instance = generate_slot(settings_, seed=4000 + k)
        queue = instance.queue.model_copy(update={"upload": "shared"})
        data = SlotData.from_instance(instance.model_copy(update={"queue": queue}))
        shortcut = server_full_shared(data)
        if shortcut is None:
            declined += 1
            continue
        certified += 1
        searched = branch_and_bound(data)
        assert (shortcut.immediate, shortcut.queued) == (searched.immediate, searched.queued)
        assert shortcut.bound == pytest.approx(searched.bound, rel=1e-12, abs=1e-15)
    assert certified >= 10 and declined >= 5


def test_hand_instances():
    three = load_instance(INSTANCES / "admission" / "hand-three.json")
    for name in EXACT:
        assert_matches(solve(three, name), 0.54)


def test_closed_form_equals_the_evaluator():
    instance, _ = oracle_case(21)  # competitive, 6 candidates
    data = SlotData.from_instance(instance)
    immediate, queued = {0, 2}, {1}
    actions = tuple(
        "immediate" if i in immediate else "queue" if i in queued else "local"
        for i in range(len(instance.candidates))
    )
    from opt_offload.evaluate import evaluate

    assert slot_value(data, immediate, queued) == pytest.approx(
        evaluate(instance, closed_form_decisions(instance, actions)).objective, rel=1e-12
    )
    assert communication_penalty(data, ()) == 0.0


def test_empty_candidate_list_is_trivially_local():
    instance = parse_instance({**oracle_case(0)[0].model_dump(), "candidates": []})
    for name in ("exact", "exact-pyomo", "exact-cvxpy", "threshold", "greedy", "random"):
        solution = solve(instance, name)
        assert solution.objective == 0.0 and solution.decisions == {}


def test_estimate_mode_is_a_fixed_point_not_an_optimum():
    instance = load_instance(INSTANCES / "admission" / "hand-estimate.json")
    for name in EXACT:
        solution = solve(instance, name)
        assert solution.status is Status.FEASIBLE and solution.bound is None
        assert "not a proven optimum" in solution.message
        assert solution.objective == pytest.approx(0.3)


def estimate_instances(count: int):
    for k in range(count):
        small = dataclasses.replace(oracle_settings(k), queue="estimate")
        small = dataclasses.replace(small, candidates=min(small.candidates, 5))
        yield generate_slot(small, seed=2000 + k)


def test_estimate_fixed_point_against_enumeration():
    # The fixed point is feasible and never above the enumerated optimum (with the closed-form
    # split); how often it reaches it is measured in the README, not asserted.
    for instance in estimate_instances(40):
        optimum = enumerate_optimum(instance)[0]
        solution = solve(instance, "exact")
        assert solution.objective is not None
        assert solution.objective <= optimum + REL * max(1.0, abs(optimum))


def test_time_limit_is_reported():
    instance, _ = oracle_case(21)  # competitive, 6 candidates
    data = SlotData.from_instance(instance)
    answer = solve_closed_form(data, time_limit=0.0)  # out of time at the root
    assert answer.status is Status.TIME_LIMIT and answer.bound is None
    assert "time limit" in answer.message
    solution = solve(instance, "exact", time_limit=1e-9)
    assert solution.status is Status.TIME_LIMIT and not solution.violations
    assert math.isfinite(solution.objective)  # the Lagrangian incumbent, still feasible
