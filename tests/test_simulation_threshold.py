"""The threshold rules' exact clearing-price search against the bisection it replaced.

The simulation needs the threshold rules in tens of microseconds a slot, so
``solvers/admission/threshold.py`` finds the clearing price mu* from the crossings of the
lines the rules compare instead of bisecting mu for K_max = 80 steps. The bisection, as first
merged, is kept here as the oracle, run until its bracket is two adjacent floats (or 2^-600 of
where it started, when every price fits): on generated
and arbitrary slots the registered reading, eq. (32) as printed, and both with and without the
zero-price check must decide the same. With K_max = 80 steps the bisection stops short of a
clearing price below 2^-80 of its starting bracket; the last test shows such a slot.
"""

from __future__ import annotations

import math
from unittest import mock

import pytest
from hypothesis import given, settings

from opt_offload.generators.admission import (
    BINDING_BANDWIDTH_HZ,
    TABLE3_BANDWIDTH_HZ,
    SlotSettings,
    generate_slot,
)
from opt_offload.io import parse_instance
from opt_offload.models.admission import SlotData
from opt_offload.solve import solve
from opt_offload.solvers.admission import threshold
from opt_offload.solvers.admission.threshold import Variant, demand, rules_at, threshold_rules

from .strategies import admission_documents

READINGS = [
    Variant(zero_price_check=check, queue_upload=upload)
    for check in (True, False)
    for upload in ("reference", "paper")
]
CASES = ("abundant", "competitive", "server-full", "any")


# Halvings of the oracle: down to adjacent floats around any clearing price the tests meet
# (K_max = 80 stops at 2^-80 of the bracket), yet far from underflow when every price fits.
FLOAT_RESOLUTION = 600


def bisection_clearing_price(
    data: SlotData,
    case: str,
    variant: Variant,
    deadline: float | None = None,  # clearing_price's; the bisection had no time limit
    steps: int = FLOAT_RESOLUTION,
):
    """The multiplier search as first merged (there with ``steps = K_max``): bisection of mu
    on [0, beta (sum sqrt c)^2 / B^2]; the set at the last price that did not fit (else at the
    last that did)."""
    if data.beta_per_ms == 0.0:
        return rules_at(data, case, 0.0, variant)
    root_sum = sum(math.sqrt(data.upload[i]) for i in data.candidates)
    lo, hi = 0.0, data.beta_per_ms * root_sum**2 / data.bandwidth_mhz**2
    fits, over = rules_at(data, case, hi, variant), None
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        outcome = rules_at(data, case, mid, variant)
        if demand(data, outcome.immediate, mid) <= data.bandwidth_mhz:
            hi, fits = mid, outcome
        else:
            lo, over = mid, outcome
    return over or fits


def decided(data: SlotData, variant: Variant):
    outcome = threshold_rules(data, variant)
    return outcome.immediate, outcome.queued


def with_bisection():
    return mock.patch.object(threshold, "clearing_price", bisection_clearing_price)


def assert_same_as_bisection(data: SlotData) -> None:
    for variant in READINGS:
        fast = decided(data, variant)
        with with_bisection():
            assert decided(data, variant) == fast, variant


def generated_slot(k: int):
    n = 1 + k % 16
    case = CASES[k % 4]
    if (case == "abundant" and n > 9) or (case == "competitive" and n < 2):
        case = "any"
    settings = SlotSettings(
        candidates=n,
        case=case,
        bandwidth_hz=(TABLE3_BANDWIDTH_HZ, BINDING_BANDWIDTH_HZ, 4e4, 4e6)[(k // 4) % 4],
        beta=(20.0, 200.0, 2.0)[k % 3],
        outage=k % 7 == 0,
    )
    return generate_slot(settings, 10_000 + k)


@pytest.mark.parametrize("chunk", range(4))
def test_same_decisions_as_the_bisection_on_generated_slots(chunk):
    for k in range(chunk, 600, 4):
        assert_same_as_bisection(SlotData.from_instance(generated_slot(k)))


def representable(document: dict) -> bool:
    """No gain or queue delay in (0, 1e-100) in absolute value: the rules' lines then cross at
    prices r = sqrt(mu) whose squares are normal floats; below that mu underflows and neither
    search can tell the prices apart (hypothesis likes subnormals)."""
    values = [c[key] for c in document["candidates"] for key in ("gain", "queue_delay_s")]
    return all(v == 0.0 or abs(v) >= 1e-100 for v in values)


@settings(max_examples=60, deadline=None)
@given(admission_documents(max_candidates=8, delay="given").filter(representable))
def test_same_decisions_as_the_bisection_on_arbitrary_slots(document):
    assert_same_as_bisection(SlotData.from_instance(parse_instance(document)))


def test_same_registered_decisions_with_estimated_queue_delays():
    for k in range(60):
        instance = generate_slot(SlotSettings(candidates=2 + k % 10, queue="estimate"), 5000 + k)
        fast = solve(instance, "threshold").decisions
        with with_bisection():
            assert solve(instance, "threshold").decisions == fast


def test_k_max_bisection_stops_short_of_a_tiny_clearing_price():
    # u1's queue delay of 1e-16 s puts the crossing of wbar = beta TQ - sqrt(beta c mu) with 0,
    # hence mu*, near 3e-28 /MHz, below 2^-80 of the bracket (0.0128): 80 halvings never get
    # there, every price they try fits with nobody admitted, and u1 is queued; the exact search
    # admits it now, which the evaluator values beta TQ higher (the same upload, no wait).
    document = {
        "kind": "admission",
        "version": 1,
        "name": "tiny-price",
        "server": {"capacity": 5, "busy_remaining_s": [1.0, 1.0, 1.0, 1.0]},
        "bandwidth_hz": 1e5,
        "beta": 1.0,
        "candidates": [
            {"id": "u0", "context_tokens": 1, "snr_db": 0.0, "server_time_s": 0.0, "gain": 0.0},
            {"id": "u1", "context_tokens": 1, "snr_db": 0.0, "server_time_s": 0.0, "gain": 1e-3},
        ],
    }
    document["candidates"][0]["queue_delay_s"] = 0.0
    document["candidates"][1]["queue_delay_s"] = 1e-16
    instance = parse_instance(document)
    data = SlotData.from_instance(instance)
    paper = Variant(queue_upload="paper", zero_price_check=False)
    assert decided(data, paper) == (frozenset({1}), frozenset())

    def k_max_steps(data, case, variant, deadline=None):
        return bisection_clearing_price(data, case, variant, steps=variant.kmax)

    with mock.patch.object(threshold, "clearing_price", k_max_steps):
        assert decided(data, paper) == (frozenset(), frozenset({1}))
        short = solve(instance, "threshold", queue_upload="paper", zero_price_check=False)
    exact_search = solve(instance, "threshold", queue_upload="paper", zero_price_check=False)
    assert exact_search.objective - short.objective == pytest.approx(1e-16, rel=1e-3)
