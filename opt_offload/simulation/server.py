"""The server LLM: at most M requests in service, and a FIFO queue (PRADA Sec. 2.2.2).

Times are absolute seconds. A server slot is held

- by an immediate admission (alpha = 2) from the slot of the decision: it counts in |M_t| at
  once, then uploads for TC_i = c_i / B_i and computes for TL_i;
- by a queued request (alpha = 1) from the moment it starts: it uploads at B_ref (without
  taking a slot), waits until a slot frees, and computes for TL_i.

The queue is served first come, first served in the order uploads complete (ties in the order
of queueing), each request taking the slot that frees first (non-preemptive list scheduling,
as :func:`opt_offload.queueing.list_schedule_waits`). Queued requests that can start by the
beginning of a slot do so before that slot's decisions, so a slot that frees while a queued
request waits goes to the queue, not to a new admission.
"""

from __future__ import annotations

import bisect
import heapq
import itertools


class Server:
    def __init__(self, capacity: int) -> None:
        self.free_at = [0.0] * capacity  # a heap: when each slot frees (<= now: free)
        self.queue: list[tuple] = []  # (ready_s, order, service_s, task), sorted
        self.order = itertools.count()
        self.busy_s = 0.0  # slot-seconds held, for the utilisation

    def free_slots(self, now: float) -> int:
        """M - |M_t|."""
        return sum(1 for t in self.free_at if t <= now)

    def admit(self, now: float, hold_s: float) -> None:
        """An immediate admission takes a free slot now and holds it for TC + TL."""
        if self.free_at[0] > now:
            raise RuntimeError("a scheduler admitted more requests than there are free slots")
        heapq.heapreplace(self.free_at, now + hold_s)
        self.busy_s += hold_s

    def enqueue(self, ready_s: float, service_s: float, task) -> None:
        bisect.insort(self.queue, (ready_s, next(self.order), service_s, task))

    def start_due(self, now: float) -> list[tuple]:
        """Start every queued request that can start by ``now``: ``(task, start_s, wait_s)``."""
        started = []
        queue, free_at = self.queue, self.free_at
        while queue and queue[0][0] <= now and free_at[0] <= now:
            ready, _, service, task = queue.pop(0)
            start = max(free_at[0], ready)
            heapq.heapreplace(free_at, start + service)
            self.busy_s += service
            started.append((task, start, start - ready))
        return started

    def queue_waits(self, readies: list[float]) -> list[float]:
        """TQ_i a request ready at each of ``readies`` would wait if queued now: behind the
        queued requests ready before it, on the slots as they are now (this slot's other
        decisions are not known yet)."""
        if not self.queue:
            first_free = self.free_at[0]
            return [max(0.0, first_free - ready) for ready in readies]
        free_at = list(self.free_at)
        waits = [0.0] * len(readies)
        ahead = iter(self.queue)
        entry = next(ahead, None)
        for i in sorted(range(len(readies)), key=readies.__getitem__):
            while entry is not None and entry[0] <= readies[i]:
                heapq.heapreplace(free_at, max(free_at[0], entry[0]) + entry[2])
                entry = next(ahead, None)
            waits[i] = max(0.0, free_at[0] - readies[i])
        return waits
