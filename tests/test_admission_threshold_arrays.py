"""The threshold rules on arrays against the straightforward loops they replaced.

``solvers/admission/threshold.py`` evaluates Theorem 2's rules at a price (:func:`rules_at`)
and finds the piece of prices around a probe (:func:`piece_around`) with numpy, so that the
kinetic price search takes about a second on 10^5 candidates. The loops over candidates and
lines it replaced are kept here as oracles: on random slots (ties included: gains, uploads and
delays drawn from a few values) the array versions must give the same sets, in the same
iteration order (the band sums run over them), the same lambda_s and priorities, the same
pieces, and the whole search the same decisions.
"""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opt_offload.io import parse_instance
from opt_offload.models.admission import SlotData
from opt_offload.solvers.admission import threshold
from opt_offload.solvers.admission.threshold import (
    Outcome,
    Variant,
    gain_now,
    piece_around,
    queue_margin,
    rules_at,
    threshold_rules,
)

from .strategies import admission_documents

READINGS = [
    Variant(zero_price_check=check, queue_upload=upload, listed_lines=listed)
    for check in (True, False)
    for upload in ("reference", "paper")
    for listed in (2, threshold.LISTED_LINES)  # 2: the kinetic search on every slot
]
CASES = ("abundant", "competitive", "server-full")


# --- the oracles: one candidate, one line at a time ------------------------------------------


def loop_gain_now(data: SlotData, i: int, mu: float) -> float:
    return data.gain[i] - 2.0 * math.sqrt(data.beta_per_ms * data.upload[i] * mu)


def loop_queue_margin(data: SlotData, i: int, mu: float, variant: Variant) -> float:
    price_term = math.sqrt(data.beta_per_ms * data.upload[i] * mu)
    if data.shared:
        return data.queue_cost(i)
    if variant.queue_upload == "paper":
        return data.beta_per_ms * data.queue_delay_ms[i] - price_term
    return data.queue_cost(i) - 2.0 * price_term


def loop_rules_at(data: SlotData, case: str, mu: float, variant: Variant) -> Outcome:
    candidates = data.candidates
    w = {i: loop_gain_now(data, i, mu) for i in candidates}
    wbar = {i: loop_queue_margin(data, i, mu, variant) for i in candidates}
    priority = {i: min(wbar[i], w[i]) for i in candidates}
    if case == "server-full":
        queued = frozenset(i for i in candidates if w[i] >= wbar[i])
        return Outcome(case, mu, 0.0, frozenset(), queued, priority)
    if case == "abundant":
        immediate = frozenset(i for i in candidates if w[i] >= 0.0)
        return Outcome(case, mu, 0.0, immediate, frozenset(), priority)
    ranked = sorted(candidates, key=lambda i: (-priority[i], -w[i], i))
    k = data.free_slots
    lam = max(0.0, priority[ranked[k]]) if len(ranked) > k else 0.0
    immediate = frozenset(i for i in ranked[:k] if priority[i] >= lam)
    queued = frozenset(
        i
        for i in candidates
        if i not in immediate and (wbar[i] < lam or priority[i] >= lam) and w[i] >= wbar[i]
    )
    return Outcome(case, mu, lam, immediate, queued, priority)


def loop_piece_around(lines: list[tuple[float, float]], r: float, r_max: float):
    order = sorted(lines, key=lambda line: (line[0] - line[1] * r, line[1]), reverse=True)
    left, end = 0.0, r_max
    for (a1, b1), (a2, b2) in zip(order, order[1:]):
        if b1 != b2:
            cut = (a1 - a2) / (b1 - b2)
            if 0.0 < cut < r:
                left = max(left, cut)
            elif r <= cut < r_max:
                end = min(end, cut)
    return left, end


def loop_server_full_rules(data: SlotData, variant: Variant) -> Outcome:
    queued = frozenset(
        i
        for i in data.candidates
        if threshold.zero_price_gain(data, i) >= data.beta_per_ms * data.queue_delay_ms[i]
    )
    priority = {
        i: min(loop_queue_margin(data, i, 0.0, variant), loop_gain_now(data, i, 0.0))
        for i in data.candidates
    }
    return Outcome("server-full", 0.0, 0.0, frozenset(), queued, priority)


def loop_ranked_lines(competitors, case: str, variant: Variant):
    data = competitors.data
    lines = [(0.0, 0.0)]
    for i in data.candidates:
        root = math.sqrt(data.beta_per_ms * data.upload[i])
        if case == "abundant":
            lines.append((data.gain[i], 2.0 * root))
        elif case == "server-full":
            lines.append((data.queue_value(i), 2.0 * root))
        elif data.shared:
            lines += [(data.gain[i], 2.0 * root), (data.queue_cost(i), 0.0)]
        elif variant.queue_upload == "paper":
            lines += [(data.gain[i], 2.0 * root), (data.beta_per_ms * data.queue_delay_ms[i], root)]
        else:
            lines.append((min(data.gain[i], data.queue_cost(i)), 2.0 * root))
    a, b = zip(*lines)
    return np.array(a), np.array(b)


def as_loops():
    """The search run on the oracles: rules, lines and pieces from the loops above."""

    def rules_of(competitors, case, mu, variant):
        return loop_rules_at(competitors.data, case, mu, variant)

    def piece(lines, r, r_max):
        return loop_piece_around(list(zip(lines[0].tolist(), lines[1].tolist())), r, r_max)

    return mock.patch.multiple(
        threshold,
        rules_of=rules_of,
        ranked_lines=loop_ranked_lines,
        piece_around=piece,
        server_full_rules=loop_server_full_rules,
    )


def same(outcome: Outcome, oracle: Outcome) -> None:
    assert outcome == oracle
    # the band sums run over these sets: the same iteration order, the same rounding
    assert list(outcome.immediate) == list(oracle.immediate)
    assert list(outcome.queued) == list(oracle.queued)
    assert [math.copysign(1.0, p) for p in outcome.priority.values()] == [
        math.copysign(1.0, p) for p in oracle.priority.values()
    ]


# --- random slots, with ties ------------------------------------------------------------------


@st.composite
def tied_slots(draw, max_candidates: int = 40) -> SlotData:
    """Slots whose gains, uploads and delays come from a few values, so that lines coincide,
    run parallel and cross at the same price."""
    n = draw(st.integers(1, max_candidates))

    def column(values):
        return tuple(draw(st.lists(st.sampled_from(values), min_size=n, max_size=n)))

    return SlotData(
        ids=tuple(f"u{i}" for i in range(n)),
        eligible=column((True, True, True, False)),
        upload=column((0.5, 1.0, 2.0, 4.0)),
        gain=column((-0.1, 0.0, 0.05, 0.1, 0.2, 0.4)),
        queue_delay_ms=column((0.0, 0.0, 1.0, 2.5)),
        free_slots=draw(st.integers(0, 6)),
        bandwidth_mhz=draw(st.sampled_from((0.5, 1.0, 4.0, 40.0))),
        reference_bandwidth_mhz=draw(st.sampled_from((1.0, 40.0))),
        beta_per_ms=draw(st.sampled_from((0.0, 0.002, 0.02, 0.2))),
        shared=draw(st.booleans()),
    )


def arbitrary_slot(document: dict) -> SlotData:
    return SlotData.from_instance(parse_instance(document))


slots = tied_slots() | admission_documents(max_candidates=30, delay="given").map(arbitrary_slot)
prices = st.sampled_from((0.0, 1e-6, 1e-3, 0.02, 0.25, 1.0, 7.0)) | st.floats(0.0, 10.0)


@settings(max_examples=400, deadline=None)
@given(slots, prices, st.sampled_from(CASES), st.sampled_from(READINGS))
def test_rules_at_a_price_match_the_loops(data, mu, case, variant):
    same(rules_at(data, case, mu, variant), loop_rules_at(data, case, mu, variant))
    for i in data.candidates:  # eqs. (31) and (32) one candidate at a time, as published
        assert gain_now(data, i, mu) == loop_gain_now(data, i, mu)
        assert queue_margin(data, i, mu, variant) == loop_queue_margin(data, i, mu, variant)


@st.composite
def lines_and_price(draw):
    """Lines ``a - b r`` (0 first) and a price r in (0, 1), many of them through a few points
    above r (``a = v + b r``, exact in binary): ties in the order at r that the slopes break."""
    r = draw(st.sampled_from((0.125, 0.25, 0.5)) | st.floats(1e-6, 1.0))
    free = st.tuples(st.floats(-2.0, 2.0), st.floats(0.0, 5.0))
    slope = st.sampled_from((0.0, 1.0, 2.0, 4.0))
    through = st.tuples(st.sampled_from((0.0, 0.0625, 0.25)), slope).map(
        lambda vb: (vb[0] + vb[1] * r, vb[1])
    )
    return [(0.0, 0.0), *draw(st.lists(through | free, min_size=1, max_size=60))], r


@settings(max_examples=300, deadline=None)
@given(lines_and_price())
@example(([(0.0, 0.0), (0.05, 0.0), (0.25, 1.0), (0.5, 2.0)], 0.25))  # steeper first at a tie
def test_piece_around_matches_the_loop(drawn):
    lines, r = drawn
    a, b = (np.array(column, dtype=float) for column in zip(*lines))
    assert piece_around((a, b), r, 1.0) == loop_piece_around(lines, r, 1.0)


@settings(max_examples=200, deadline=None)
@given(slots, st.sampled_from(READINGS))
def test_the_search_decides_as_on_the_loops(data, variant):
    fast = threshold_rules(data, variant)
    with as_loops():
        oracle = threshold_rules(data, variant)
    same(fast, oracle)
