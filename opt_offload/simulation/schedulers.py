"""Stage 2, centralised scheduling (PRADA Sec. 4.2): the admission solvers, one slot at a time.

Each entry maps a slot's :class:`~opt_offload.models.admission.SlotData` (queue delays given)
to the positions admitted now and the positions queued; every other candidate runs locally.
The entries call the very functions the registered admission solvers run (design §4), without
building an AdmissionInstance per slot:

- ``threshold``: PRADA's Theorem 2 with the multiplier search,
  :func:`~opt_offload.solvers.admission.threshold.threshold_rules` with the registered
  solver's default reading (zero-price check on, queued uploads priced at B_ref);
- ``exact``: the fast exact solver,
  :func:`~opt_offload.solvers.admission.branch_and_bound.solve_closed_form`;
- ``greedy``: :func:`~opt_offload.solvers.admission.baselines.greedy_by_zero_price_gain`;
- ``random``: the random scheduler of Sec. 5.3,
  :func:`~opt_offload.solvers.admission.baselines.random_actions`;
- ``all-local``: nothing offloaded;
- ``all-server``: every candidate offloaded whatever it is worth, admitted now (in the order
  they became active) while a server slot is free, queued otherwise.

The immediate admissions share B by the closed-form split of design §4 (B_i ~ sqrt(c_i)),
as the registered solvers' decisions do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection

from ..errors import lookup
from ..models.admission import SlotData
from ..solvers.admission.baselines import greedy_by_zero_price_gain, random_actions
from ..solvers.admission.branch_and_bound import solve_closed_form
from ..solvers.admission.threshold import Variant, threshold_rules

Decision = tuple[Collection[int], Collection[int]]  # (immediate, queued) positions
Scheduler = Callable[[SlotData, random.Random], Decision]

THRESHOLD_READING = Variant()  # the registered `threshold` solver's defaults


def threshold(data: SlotData, rng: random.Random) -> Decision:
    outcome = threshold_rules(data, THRESHOLD_READING)
    return outcome.immediate, outcome.queued


def exact(data: SlotData, rng: random.Random) -> Decision:
    answer = solve_closed_form(data)
    return answer.immediate, answer.queued


def greedy(data: SlotData, rng: random.Random) -> Decision:
    answer = greedy_by_zero_price_gain(data)
    return answer.immediate, answer.queued


def random_scheduler(data: SlotData, rng: random.Random) -> Decision:
    return random_actions(data, rng)


def all_local(data: SlotData, rng: random.Random) -> Decision:
    return (), ()


def all_server(data: SlotData, rng: random.Random) -> Decision:
    candidates = data.candidates
    return candidates[: data.free_slots], candidates[data.free_slots :]


SCHEDULERS: dict[str, Scheduler] = {
    "threshold": threshold,
    "exact": exact,
    "greedy": greedy,
    "random": random_scheduler,
    "all-local": all_local,
    "all-server": all_server,
}


def stage2_scheduler(name: str) -> Scheduler:
    return lookup(SCHEDULERS, name, "--scheduler: scheduler")
