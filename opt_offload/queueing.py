"""Queue delays on the M server slots by list scheduling (design §4, PRADA Sec. 4.2.5).

Shared by the admission evaluator (mode ``estimate``) and by the solvers that iterate the
paper's fixed point, so that both price a queued request the same way.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence


def list_schedule_waits(
    slot_free_s: Sequence[float],
    queued: Iterable[tuple[str, float, float]],
) -> dict[str, float]:
    """Waiting time of each queued request under non-preemptive list scheduling.

    ``slot_free_s`` holds one release time per server slot (in-flight Gamma_j, this slot's
    immediate admissions' TC_i + d_i, and 0 for idle slots). ``queued`` yields
    ``(id, ready_s, service_s)`` in service order; each request takes the slot that frees
    first, starts at ``max(free, ready)`` and waits ``start - ready``.
    """
    slots = list(slot_free_s)
    if not slots:
        raise ValueError("list scheduling needs at least one server slot")
    heapq.heapify(slots)
    waits = {}
    for ident, ready, service in queued:
        free = heapq.heappop(slots)
        start = max(free, ready)
        waits[ident] = start - ready
        heapq.heappush(slots, start + service)
    return waits
