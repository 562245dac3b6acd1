"""``threshold``: the threshold rules of PRADA's Theorem 2 (design §4).

For a bandwidth price mu (eqs. 30-32, in model units MHz and ms):

    B_i*(mu) = sqrt(beta c_i / mu)                                      (30)
    w_i      = g_i - beta c_i / B_i* - mu B_i* = g_i - 2 sqrt(beta c_i mu)  (31)
    wbar_i   = beta TQ_i - mu B_i* = beta TQ_i - sqrt(beta c_i mu)       (32)

Eq. (32) cancels the upload time of a queued request against that of an immediate one, as if a
queued request later uploaded at B_i* too. design §4 prices a queued upload at B_ref (Remark 2's
reference band), so with the default ``queue_upload = reference`` Appendix B's comparison of
alpha = 2 with alpha = 1 is redone with that price:

    wbar_i   = beta (c_i / B_ref + TQ_i) - beta c_i / B_i* - mu B_i*
             = beta (c_i / B_ref + TQ_i) - 2 sqrt(beta c_i mu)               (32, B_ref)

and the queue test ``w_i >= wbar_i`` becomes ``g_i - beta (c_i / B_ref + TQ_i) >= 0``, which is
Remark 2's rule ``w0_i >= beta TQ_i``: the three cases then agree with one another and with the
evaluator. ``queue_upload = paper`` keeps eq. (32) as printed.

The case is set by the candidates that can upload (those in outage stay local and do not
compete for slots), with K = M minus the requests in flight (M_t) free slots:

- server full (K = 0), Remark 2: queue if the zero-price gain ``w0_i = g_i - beta c_i / B_ref``
  is at least ``beta TQ_i``, else local (B_ref is Remark 2's fixed reference band; it is B
  unless the instance sets ``reference_bandwidth_hz``);
- abundant (at most K candidates): lambda_s = 0; immediate if ``w_i >= 0``, else local;
- competitive: immediate if ``min(wbar_i, w_i) >= lambda_s``; queue if ``wbar_i < lambda_s``
  and ``w_i >= wbar_i``; else local. lambda_s is the smallest price that admits at most K:
  the (K+1)-th largest ``min(wbar_i, w_i)`` (0 if that is negative or there are at most K).

The multiplier search finds the clearing price mu*, the smallest at which the admitted set's
``sum B_i*`` fits in B, exactly: every quantity above is a line in r = sqrt(mu)
(``w_i = g_i - 2 s_i r`` with ``s_i = sqrt(beta c_i)``), so the admitted set only changes
where two of those lines cross, and a binary search over the pieces between crossings finds
the first that fits (:func:`clearing_price`). It replaces a bisection of mu on
[0, beta (sum_i sqrt c_i)^2 / B^2] with K_max = 80 steps, which aimed at the same mu* and
spent about 1 ms a slot in Python; on 2,000 generated slots (n = 1..16, both readings of
eq. 32, with and without the zero-price check) the two return the same decisions
(tests/test_simulation_threshold.py). The admitted bandwidths are then scaled to use exactly
B, which is the closed-form split ``B_i ~ sqrt(c_i)``.

Tie-breaks (each one a choice the paper leaves open):

- Theorem 2's inequalities are taken as printed: ``>=`` admits (immediate on ``w_i = 0`` or
  ``min(wbar_i, w_i) = lambda_s``; queue on ``w_i = wbar_i``; Remark 2 queues on equality).
- At the clearing price the admitted set jumps (a candidate's w_i crosses 0 or lambda_s). The
  rules are applied at mu* with those ``>=`` ties, i.e. the set admitted just below mu*
  (read off at a relative 1e-9 below it), and scaled down to B; if every price fits (nothing
  is worth admitting), the set of the lowest prices is used.
- When more than K candidates tie at lambda_s, the K first in the order (``min(wbar_i, w_i)``
  descending, then ``w_i`` descending, then file order) are admitted; a candidate refused a slot
  by this tie-break is treated as ``wbar_i < lambda_s`` (queue if ``w_i >= wbar_i``).
- beta = 0: bandwidth costs nothing, mu = 0 and ``B_i*`` is not defined; the band is split by
  the same closed form.
- Zero-price check (option ``zero_price_check``, default on; off = Theorem 2 verbatim): after
  the scaling, bandwidth is no longer priced (as in Remark 2), so an immediate admission whose
  value at its share, ``g_i - beta c_i / B_i``, is below its best alternative (queue at
  ``g_i - beta (c_i / B_ref + TQ_i)``, or local at 0) falls back to that alternative, the worst
  first, and the band is re-split; the dropped candidates then leave the competition and the
  multiplier search runs again on the others (a dropped candidate may have set the price that
  kept the others out). Without the check the rules are not exact even for one candidate: mu*
  is where its ``w = g - 2 sqrt(beta c mu)`` crosses 0, the set just below mu* admits it, and
  scaled to B it is worth ``g - beta c / B``, negative when ``g < beta c / B`` (the set just
  above mu* would instead refuse it whenever ``g < 2 beta c / B``). Theorem 2 states
  first-order conditions of a non-convex problem; its Lagrangian has a duality gap even for
  n = 1.

Reading ``queue.upload = shared`` (a queued request uploads now and shares the band; derived
in docs/prada-physics.md as Appendix B does): the price mu applies to every upload in the band,
so a queued request takes ``B_i*(mu)`` too and is worth ``g_i - beta TQ_i - 2 sqrt(beta c_i mu)
= w_i - beta TQ_i``; immediate minus queued is ``wbar_i = beta TQ_i`` (no mu term), and the
three cases keep Theorem 2's form with that wbar_i. The server-full case becomes "queue if
``w_i >= beta TQ_i``" at the clearing price, the demand is summed over the immediate and the
queued, and the zero-price check re-tests every upload at its share against local.

Queue delays in mode ``estimate`` (Sec. 4.2.5): the candidates are ordered by priority,
``min(wbar_i, w_i)`` descending (first pass: Remark 2's ``w0_i`` descending), and list-scheduled
on the M slots in that order: slots free at the in-flight Gamma_j, at ``TC_i + d_i`` for this
slot's immediate admissions and at 0 otherwise; a queued request is ready when its upload at
B_ref completes, and a candidate that is not queued is priced by the wait it would get at its
place in the order. The rules are re-run with those TQ_i until the order and the decisions
repeat (at most K_max passes). The evaluator then judges the decisions with its own FCFS
list scheduling.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from opt_offload.models.admission import SlotData, split_bandwidth
from opt_offload.registry import Option, SolverResult, register
from opt_offload.schemas import AdmissionInstance, Status

from .common import (
    K_MAX,
    Decision,
    SlotScheduler,
    as_plain,
    best_alternative,
    decisions_of,
    past,
)

# Relative distance below a price at which "the set just below it" is read off.
BELOW = 1e-9
# Up to this many lines the crossings are all listed (n^2 / 2 of them, cheap for small n);
# beyond, the pieces are found around each probe of a bisection (n log n a probe).
LISTED_LINES = 128


@dataclass(frozen=True)
class Variant:
    """The reading of the rules: K_max (queue-delay passes), the zero-price check, the queued
    upload's price."""

    kmax: int = K_MAX
    zero_price_check: bool = True
    queue_upload: str = "reference"
    listed_lines: int = LISTED_LINES


@dataclass(frozen=True)
class Outcome:
    """What the rules decided at the final prices, and each candidate's priority."""

    case: str
    mu: float
    lam: float
    immediate: frozenset[int]
    queued: frozenset[int]
    priority: dict[int, float] = field(default_factory=dict)
    # the search stopped at its deadline: a price that fits, above the clearing one, or the
    # zero-price rounds not finished; the decisions are feasible, not the rules' own
    stopped: bool = False


@dataclass(frozen=True)
class Competitors:
    """The candidates that may upload, as arrays in file order (positions ascending): the
    terms of eqs. (30)-(32) that do not depend on the price, so that the rules at one price
    are a few array operations (the kinetic search evaluates them at every probe)."""

    data: SlotData
    position: np.ndarray  # int: the candidate's position in the instance
    gain: np.ndarray  # g_i
    beta_upload: np.ndarray  # beta c_i: mu B_i*(mu) = sqrt(beta c_i mu) (eq. 30)
    queue_wait: np.ndarray  # beta TQ_i
    queue_value: np.ndarray  # SlotData.queue_value
    queue_cost: np.ndarray  # SlotData.queue_cost: g_i less the value of queueing

    @classmethod
    def of(cls, data: SlotData) -> Competitors:
        position = np.array(data.candidates, dtype=np.int64)
        gain = np.array(data.gain, dtype=float)[position]
        upload = np.array(data.upload, dtype=float)[position]
        delay = np.array(data.queue_delay_ms, dtype=float)[position]
        queue_value = data.queue_value_at(gain, upload, delay)
        return cls(
            data,
            position,
            gain,
            data.beta_per_ms * upload,
            data.beta_per_ms * delay,
            queue_value,
            gain - queue_value,
        )

    def items(self, values: np.ndarray) -> dict[int, float]:
        """``values`` (one per competitor) by candidate position."""
        return dict(zip(self.position.tolist(), values.tolist()))

    def gains_now(self, mu: float) -> np.ndarray:
        """[competitor]: w_i (:func:`gain_now`)."""
        return priced_gain(self.gain, self.beta_upload, mu)

    def queue_margins(self, mu: float, variant: Variant) -> np.ndarray:
        """[competitor]: wbar_i (:func:`queue_margin`)."""
        shared = self.data.shared
        return priced_margin(
            self.queue_cost, self.queue_wait, self.beta_upload, mu, shared, variant
        )


def root(value):
    """sqrt of a number or, element by element, of an array: math.sqrt for a number, where
    np.sqrt's fixed cost would be most of a per-candidate call (both round correctly, so the
    two agree to the last bit)."""
    return math.sqrt(value) if isinstance(value, float) else np.sqrt(value)


def priced_gain(gain, beta_upload, mu: float):
    """w = g - 2 sqrt(beta c mu), eq. (31) at B*(mu) of eq. (30), from g and beta c (numbers or
    arrays, element by element)."""
    return gain - 2.0 * root(beta_upload * mu)


def priced_margin(queue_cost, queue_wait, beta_upload, mu: float, shared: bool, variant: Variant):
    """wbar of eq. (32) at B*(mu) from the cost of queueing, beta TQ and beta c (numbers or
    arrays): the queued upload priced as ``variant`` says; with shared uploads both actions pay
    ``2 sqrt(beta c mu)`` and wbar = beta TQ."""
    if shared:
        return queue_cost
    price_term = root(beta_upload * mu)  # mu B* = beta c / B*
    if variant.queue_upload == "paper":
        return queue_wait - price_term
    return queue_cost - 2.0 * price_term


def gain_now(data: SlotData, i: int, mu: float) -> float:
    """w_i of eq. (31) at B_i*(mu) of eq. (30)."""
    return float(priced_gain(data.gain[i], data.beta_per_ms * data.upload[i], mu))


def queue_margin(data: SlotData, i: int, mu: float, variant: Variant) -> float:
    """wbar_i of eq. (32) at B_i*(mu), the queued upload priced as ``variant`` says; with
    shared uploads both actions pay ``2 sqrt(beta c_i mu)`` and wbar_i = beta TQ_i."""
    wait = data.beta_per_ms * data.queue_delay_ms[i]
    beta_upload = data.beta_per_ms * data.upload[i]
    margin = priced_margin(data.queue_cost(i), wait, beta_upload, mu, data.shared, variant)
    return float(margin)


def lower(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``min(first, second)`` element by element, as Python's min picks: ``first`` unless
    ``second`` is strictly below (which of -0.0 and 0.0 is kept)."""
    return np.where(second < first, second, first)


def zero_price_gain(data: SlotData, i: int) -> float:
    """Remark 2: w0_i = g_i - beta TC_i at the reference band."""
    return data.gain[i] - data.beta_per_ms * data.upload[i] / data.reference_bandwidth_mhz


def banded(data: SlotData, outcome: Outcome) -> set[int]:
    """The candidates whose uploads take band: the immediate (and the queued, shared)."""
    return data.uploading(outcome.immediate, outcome.queued)


def demand(data: SlotData, uploading: set[int], mu: float) -> float:
    """sum_{i uploading} B_i*(mu), MHz."""
    if not uploading:
        return 0.0
    if mu <= 0.0:
        return math.inf
    return math.sqrt(data.beta_per_ms / mu) * sum(math.sqrt(data.upload[i]) for i in uploading)


def case_of(data: SlotData) -> str:
    if data.free_slots == 0:
        return "server-full"
    return "abundant" if len(data.candidates) <= data.free_slots else "competitive"


def positions(competitors: Competitors, chosen: np.ndarray) -> frozenset[int]:
    """The positions of the competitors ``chosen`` (a mask, or indices in the order the set
    is built in, which fixes its iteration order and so the sums over it)."""
    return frozenset(competitors.position[chosen].tolist())


def server_full_rules(data: SlotData, variant: Variant) -> Outcome:
    """Remark 2 at a full server: queue when w0_i = g_i - beta TC_i (reference band) reaches
    beta TQ_i. One evaluation, no price search, on the few candidates of a slot (the
    simulator's commonest call): per candidate, where numpy's fixed cost per array operation
    would dominate."""
    queued = frozenset(
        i
        for i in data.candidates
        if zero_price_gain(data, i) >= data.beta_per_ms * data.queue_delay_ms[i]
    )
    priority = {
        i: min(queue_margin(data, i, 0.0, variant), gain_now(data, i, 0.0)) for i in data.candidates
    }
    return Outcome("server-full", 0.0, 0.0, frozenset(), queued, priority)


def rules_at(data: SlotData, case: str, mu: float, variant: Variant) -> Outcome:
    """Theorem 2's actions at bandwidth price mu (lambda_s set by the rule of the case)."""
    return rules_of(Competitors.of(data), case, mu, variant)


def rules_of(competitors: Competitors, case: str, mu: float, variant: Variant) -> Outcome:
    """:func:`rules_at` on the competitors' arrays."""
    w = competitors.gains_now(mu)
    wbar = competitors.queue_margins(mu, variant)
    priority = lower(wbar, w)
    if case == "server-full":  # shared uploads: no slot, so queue when worth it at mu
        queued = positions(competitors, w >= wbar)
        return Outcome(case, mu, 0.0, frozenset(), queued, competitors.items(priority))
    if case == "abundant":
        immediate = positions(competitors, w >= 0.0)
        return Outcome(case, mu, 0.0, immediate, frozenset(), competitors.items(priority))
    k = competitors.data.free_slots
    ranked = leading(priority, w, k + 1)
    lam = max(0.0, float(priority[ranked[k]])) if len(ranked) > k else 0.0
    admitted = ranked[:k][priority[ranked[:k]] >= lam]
    immediate = positions(competitors, admitted)
    queue = ((wbar < lam) | (priority >= lam)) & (w >= wbar)
    queue[admitted] = False  # admitted now
    queued = positions(competitors, queue)
    return Outcome(case, mu, lam, immediate, queued, competitors.items(priority))


def leading(priority: np.ndarray, w: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` competitors (indices) in the order ``priority`` descending, then
    ``w`` descending, then file order; all of them if there are fewer. Only those whose
    priority reaches the count-th largest are sorted: they are a prefix of the order."""
    if len(priority) <= count:
        return np.lexsort((-w, -priority))  # stable: file order last
    kth = np.partition(priority, len(priority) - count)[len(priority) - count]
    (contenders,) = np.nonzero(priority >= kth)
    order = np.lexsort((-w[contenders], -priority[contenders]))
    return contenders[order[:count]]


Lines = tuple[np.ndarray, np.ndarray]  # (a, b) of the lines a - b r


def ranked_lines(competitors: Competitors, case: str, variant: Variant) -> Lines:
    """What decides the admitted set, as lines ``a - b r`` in r = sqrt(mu) (eqs. 30-32), the
    first one 0: abundant, w_i against 0; competitive, the priorities ``min(wbar_i, w_i)``
    against each other and 0, i.e. the lines p_i (queued uploads at B_ref: w_i and wbar_i are
    parallel) or w_i and wbar_i (eq. 32 as printed)."""
    data = competitors.data
    slope = np.sqrt(competitors.beta_upload)  # mu B_i*(mu) = slope * r
    gain = competitors.gain
    if case == "abundant":
        a, b = gain, 2.0 * slope
    elif case == "server-full":  # shared: w_i - beta TQ_i against 0
        a, b = competitors.queue_value, 2.0 * slope
    elif data.shared:
        a = interleaved(gain, competitors.queue_cost)
        b = interleaved(2.0 * slope, np.zeros_like(slope))
    elif variant.queue_upload == "paper":
        a = interleaved(gain, competitors.queue_wait)
        b = interleaved(2.0 * slope, slope)
    else:
        a, b = lower(gain, competitors.queue_cost), 2.0 * slope
    return np.concatenate([[0.0], a]), np.concatenate([[0.0], b])


def interleaved(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """first[0], second[0], first[1], second[1], ...: two lines per candidate."""
    return np.stack([first, second], axis=1).ravel()


def breakpoints(lines: Lines, case: str, r_max: float) -> list[float]:
    """Sorted prices r in (0, r_max) where the admitted set may change: where a line meets 0
    (abundant) or two lines cross (competitive). Between two of them every comparison that
    decides the set keeps its sign."""
    listed = list(zip(lines[0].tolist(), lines[1].tolist()))
    pairs = (
        ((listed[0], line) for line in listed[1:])
        if case in ("abundant", "server-full")
        else itertools.combinations(listed, 2)
    )
    cuts = {(a1 - a2) / (b1 - b2) for (a1, b1), (a2, b2) in pairs if b1 != b2}
    return sorted(r for r in cuts if 0.0 < r < r_max)


def just_below(r: float, left: float) -> float:
    """A price just below r inside the piece (left, r]: the set the rules give at r^- ."""
    return max(r * (1.0 - BELOW), 0.5 * (left + r))


def clearing_price(
    data: SlotData, case: str, variant: Variant, deadline: float | None = None
) -> Outcome:
    """The rules at the clearing price mu*, the smallest price whose admitted set fits in B,
    with Theorem 2's ``>=`` ties (the set just below mu*; module docstring).

    The admitted set is piecewise constant in r = sqrt(mu), changing only at the
    :func:`breakpoints` of the lines that decide it, so the search runs over those pieces: on
    piece j with set A_j the demand ``sum_{A_j} B_i* = sum_{A_j} sqrt(beta c_i) / r`` fits
    from ``r = sum_{A_j} sqrt(beta c_i) / B`` on. With queued uploads priced at B_ref the
    demand falls as r rises (in the abundant case every w_i falls; in the competitive case
    A(r) is the K largest lines ``p_i = min(g_i, c_i/B_ref + TQ_i) - 2 sqrt(beta c_i) r``
    that are >= 0, and a line that overtakes another has the smaller slope, i.e. the smaller
    sqrt(c_i)), so the pieces that fit are a suffix and a binary search finds the first. With
    eq. (32) as printed (``queue_upload = paper``) slopes of 1 and 2 sqrt(beta c_i) mix, the
    demand need not be monotone, and the search returns one switch from "over" to "fits",
    as the bisection this replaced did, not necessarily the same one.

    Past ``deadline`` (perf_counter) the kinetic search stops at the fitting piece it holds.
    """
    competitors = Competitors.of(data)
    if data.beta_per_ms == 0.0:
        return rules_of(competitors, case, 0.0, variant)
    lines = ranked_lines(competitors, case, variant)
    # summed one by one in file order, as the price bracket has always been
    r_max = sum(np.sqrt(competitors.beta_upload).tolist())
    r_max /= data.bandwidth_mhz  # at this price every set fits
    kinetic = case == "competitive" and not data.shared and variant.queue_upload != "paper"
    if kinetic and len(lines[0]) > variant.listed_lines:
        left, end, before, outcome = kinetic_fitting_piece(
            competitors, case, variant, lines, r_max, deadline
        )
    else:
        left, end, before, outcome = listed_fitting_piece(competitors, case, variant, lines, r_max)
    r_fit = math.sqrt(data.beta_per_ms) * sum(
        math.sqrt(data.upload[i]) for i in banded(data, outcome)
    )
    r_fit /= data.bandwidth_mhz
    if r_fit > left:  # mu* inside the piece
        r = just_below(r_fit, left)
    elif before is not None:  # mu* where the set changes: the set of the piece before
        r = just_below(left, before)
    else:  # every price fits (nothing is worth admitting)
        r = 0.5 * end
    return replace(rules_of(competitors, case, r * r, variant), stopped=outcome.stopped)


Piece = tuple[float, float, float | None, Outcome]  # (left, end], left of the one before, rules


def fits(data: SlotData, outcome: Outcome, end: float) -> bool:
    return demand(data, banded(data, outcome), end**2) <= data.bandwidth_mhz


def listed_fitting_piece(
    competitors: Competitors, case: str, variant: Variant, lines: Lines, r_max: float
) -> Piece:
    """The first piece that fits at its right end, by binary search over the listed pieces
    (every pairwise crossing: O(n^2) of them)."""
    ends = breakpoints(lines, case, r_max) + [r_max]  # piece ends
    lefts = [0.0] + ends[:-1]
    pieces = {}

    def on_piece(j: int) -> Outcome:
        if j not in pieces:
            r = 0.5 * (lefts[j] + ends[j])
            pieces[j] = rules_of(competitors, case, r * r, variant)
        return pieces[j]

    first, last = 0, len(ends) - 1
    while first < last:
        j = (first + last) // 2
        if fits(competitors.data, on_piece(j), ends[j]):
            last = j
        else:
            first = j + 1
    before = lefts[first - 1] if first > 0 else None
    return lefts[first], ends[first], before, on_piece(first)


def piece_around(lines: Lines, r: float, r_max: float) -> tuple[float, float]:
    """(left, end] of the piece holding r, from the lines' order just below r: the crossings
    next to r are between lines adjacent in that order (two lines that cross first have no
    line between them), so n - 1 neighbours replace the n^2 / 2 pairs. A crossing is computed
    as :func:`breakpoints` does, so the pieces are the same."""
    a, b = lines
    # descending in the value at r, then in b: just below r a steeper line (larger b in
    # a - b r) is the higher of two equal at r; equal lines keep their order (stable sort)
    order = np.lexsort((-b, -(a - b * r)))
    a, b = a[order], b[order]
    crossing = b[:-1] != b[1:]
    with np.errstate(over="ignore", invalid="ignore"):
        cut = (a[:-1][crossing] - a[1:][crossing]) / (b[:-1][crossing] - b[1:][crossing])
    below = cut[(0.0 < cut) & (cut < r)]
    above = cut[(r <= cut) & (cut < r_max)]
    left = max(0.0, float(below.max())) if below.size else 0.0
    end = min(r_max, float(above.min())) if above.size else r_max
    return left, end


def kinetic_fitting_piece(
    competitors: Competitors,
    case: str,
    variant: Variant,
    lines: Lines,
    r_max: float,
    deadline: float | None = None,
) -> Piece:
    """The first piece that fits at its right end, by bisection in r over pieces found around
    each probe (:func:`piece_around`, O(n log n) a probe): a piece that fits moves the upper
    end of the search to its left end, one that does not moves the lower end to its right
    end, so the probes halve the interval. The pieces that fit are a suffix (queued uploads
    priced at B_ref, :func:`clearing_price`), so this is the piece the listed search finds.
    Past ``deadline`` it returns the fitting piece it holds (its outcome marked stopped)."""
    lo, hi = 0.0, r_max
    found = None
    while lo < hi:
        if found is not None and past(deadline):
            found = (found[0], found[1], replace(found[2], stopped=True))
            break
        r = 0.5 * (lo + hi)
        if r <= lo:  # the interval is one float wide
            r = hi
        left, end = piece_around(lines, r, r_max)
        mid = 0.5 * (left + end)
        outcome = rules_of(competitors, case, mid * mid, variant)
        if fits(competitors.data, outcome, end):
            found, hi = (left, end, outcome), left
        else:
            lo = end
    if found is None:  # rounding left no piece that fits; the listed search decides
        return listed_fitting_piece(competitors, case, variant, lines, r_max)
    left, end, outcome = found
    before = piece_around(lines, left, r_max)[0] if left > 0.0 else None
    return left, end, before, outcome


def zero_price_margin(data: SlotData, i: int, queued: bool, share: float) -> float:
    """An upload's value at its share less its best alternative: priced, an immediate
    admission against queue or local; shared, any upload against local."""
    value = data.gain[i] - data.beta_per_ms * data.upload[i] / share
    if data.shared:
        return value - data.queue_cost(i) if queued else value
    return value - best_alternative(data, i)[0]


def check_at_zero_price(data: SlotData, outcome: Outcome) -> frozenset[int]:
    """The uploads kept after dropping, worst first, those worth less at their share than
    their alternative; re-split after each drop (module docstring)."""
    kept = frozenset(banded(data, outcome))
    while kept:
        share = split_bandwidth(data, kept)
        margin = {i: zero_price_margin(data, i, i in outcome.queued, share[i]) for i in kept}
        worst = min(kept, key=lambda i: (margin[i], i))
        if margin[worst] >= 0.0:
            break
        kept = kept - {worst}
    return kept


def without(data: SlotData, dropped: frozenset[int]) -> SlotData:
    """The slot with the dropped candidates out of the competition (they keep their alternative)."""
    eligible = tuple(ok and i not in dropped for i, ok in enumerate(data.eligible))
    return dataclasses.replace(data, eligible=eligible)


def threshold_rules(
    data: SlotData, variant: Variant = Variant(), deadline: float | None = None
) -> Outcome:
    """Theorem 2 with the multiplier search, for fixed queue delays.

    With the zero-price check, the candidates it drops leave the competition and the search
    runs again on the others (a dropped candidate set the price, and others may enter at a
    lower one); each round drops at least one, so at most n rounds. Past ``deadline``
    (perf_counter) the search keeps the fitting price it holds and the rounds stop: the
    outcome is feasible and marked ``stopped``.
    """
    case = case_of(data)
    if not data.candidates or (case == "server-full" and not data.shared):
        return server_full_rules(data, variant)
    first = outcome = clearing_price(data, case, variant, deadline)
    if not variant.zero_price_check:
        return outcome
    dropped = frozenset()
    stopped = outcome.stopped
    while True:
        uploads = banded(data, outcome)
        kept = check_at_zero_price(data, outcome)
        stopped = stopped or (kept != uploads and past(deadline))
        if kept == uploads or stopped:
            break
        dropped |= uploads - kept
        active = without(data, dropped)
        outcome = (
            clearing_price(active, case_of(active), variant, deadline)
            if active.candidates
            else Outcome(case, 0.0, 0.0, frozenset(), frozenset(), outcome.priority)
        )
    alternative = frozenset() if data.shared else dropped
    queued = outcome.queued | {i for i in alternative if best_alternative(data, i)[1]}
    priority = {**first.priority, **outcome.priority}  # the dropped keep their first priority
    stopped = stopped or outcome.stopped
    return Outcome(case, outcome.mu, outcome.lam, outcome.immediate, queued, priority, stopped)


# --- queue delays in mode "estimate" (Sec. 4.2.5) --------------------------------------------


def priority_waits(
    instance: AdmissionInstance, data: SlotData, order: list[int], outcome: Outcome | None
) -> dict[str, float]:
    """TQ_i (seconds) by list scheduling in priority order (module docstring)."""
    candidates = instance.candidates
    slots = list(instance.server.busy_remaining_s)
    share = split_bandwidth(data, banded(data, outcome)) if outcome is not None else {}
    if outcome is not None and outcome.immediate:
        slots += [
            data.upload[i] / share[i] / 1e3 + candidates[i].server_time_s for i in outcome.immediate
        ]
    slots += [0.0] * (instance.server.capacity - len(slots))
    heapq.heapify(slots)
    queued = outcome.queued if outcome is not None else frozenset()
    waits = {}
    for i in order:
        band = instance.reference_bandwidth_hz  # priced, or shared and not uploading yet
        if data.shared:
            band = 1e6 * share[i] if i in share else instance.available_bandwidth_hz
        ready = instance.upload_coefficient(candidates[i]) / band
        start = max(slots[0], ready)
        waits[candidates[i].id] = start - ready
        if i in queued:
            heapq.heapreplace(slots, start + candidates[i].server_time_s)
    return waits


def estimate_rules(
    instance: AdmissionInstance, variant: Variant, deadline: float | None = None
) -> tuple[Outcome, SlotData, str]:
    """The queue-delay loop; stops after the pass that crosses ``deadline`` (perf_counter)."""
    data = SlotData.from_instance(instance)
    order = sorted(data.candidates, key=lambda i: (-zero_price_gain(data, i), i))
    outcome = None
    for k in range(1, variant.kmax + 1):
        data = SlotData.from_instance(instance, priority_waits(instance, data, order, outcome))
        new = threshold_rules(data, variant, deadline)
        new_order = sorted(data.candidates, key=lambda i: (-new.priority[i], i))
        stable = (
            outcome is not None
            and new_order == order
            and (new.immediate, new.queued) == (outcome.immediate, outcome.queued)
        )
        outcome, order = new, new_order
        if stable:
            return outcome, data, f"queue-delay loop: order stable after {k} passes"
        if past(deadline):
            return outcome, data, f"{TIME_LIMIT_NOTE} after {k} passes"
    return outcome, data, f"queue-delay loop: order not stable after K_max = {variant.kmax} passes"


TIME_LIMIT_NOTE = "queue-delay loop: time limit"
STOPPED_NOTE = "time limit: the price search stopped at a fitting price, not the clearing one"


def threshold_per_slot(
    *, kmax: int, zero_price_check: bool, queue_upload: str, listed_lines: int
) -> SlotScheduler:
    """The rules on one slot of the simulator (queue delays given: kmax is not used)."""
    variant = Variant(kmax, zero_price_check, queue_upload, listed_lines)

    def schedule(data: SlotData, rng) -> Decision:
        outcome = threshold_rules(data, variant)
        return outcome.immediate, outcome.queued

    return schedule


@register(
    "admission",
    "threshold",
    exact=False,
    description="PRADA Theorem 2: the clearing bandwidth price mu found exactly, lambda_s "
    "for the free slots, the three cases, Remark 2 when the server is full, the admitted "
    "bandwidths scaled to B; a zero-price check (option) re-tests each admission at its "
    "share; queue delays in mode 'estimate' by list scheduling in priority order",
    options=(
        Option("kmax", int, K_MAX, "K_max: most queue-delay passes (mode 'estimate')"),
        Option(
            "zero_price_check",
            bool,
            True,
            "after scaling, demote admissions worth less at their share than their "
            "alternative (false: Theorem 2 verbatim)",
        ),
        Option(
            "queue_upload",
            str,
            "reference",
            "price of a queued upload in eq. (32): at B_ref as the evaluator does, or at "
            "B_i* as eq. (32) is printed",
            choices=("reference", "paper"),
        ),
        Option(
            "listed_lines",
            int,
            LISTED_LINES,
            "up to this many lines every crossing is listed; beyond, the kinetic piece search "
            "(same decisions, n log n a probe)",
        ),
    ),
    per_slot=threshold_per_slot,
)
def threshold(
    instance: AdmissionInstance,
    *,
    time_limit: float | None = None,
    kmax: int = K_MAX,
    zero_price_check: bool = True,
    queue_upload: str = "reference",
    listed_lines: int = LISTED_LINES,
) -> SolverResult:
    variant = Variant(kmax, zero_price_check, queue_upload, listed_lines)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    if instance.queue.delay == "given":
        data = SlotData.from_instance(instance)
        outcome = threshold_rules(data, variant, deadline)
        note = f"; {STOPPED_NOTE}" if outcome.stopped else ""
    else:
        outcome, data, note = estimate_rules(instance, variant, deadline)
        note = "; " + note
    message = f"case {outcome.case}, mu = {outcome.mu:.6g} /MHz, lambda_s = {outcome.lam:.6g}"
    return SolverResult(
        Status.TIME_LIMIT if TIME_LIMIT_NOTE in note or outcome.stopped else Status.FEASIBLE,
        as_plain(decisions_of(data, outcome.immediate, outcome.queued)),
        message=message + note,
    )
