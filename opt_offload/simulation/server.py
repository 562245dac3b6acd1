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

The wait a request queued now would get (:meth:`Server.queue_waits`) is read off a projection:
the list schedule of the queue on the slots as they are, kept as the time the first slot frees
after each queued request starts, and the slots' release times after the last one projected.
Starting a queued request applies the very step the projection made for it, so the projection
stays valid as requests start; a request queued behind every projected one extends it by one
step; one queued ahead of a projected request (its upload ends earlier), or an immediate
admission (which changes the slots), sets it back to the start. At PRADA's Table 3 a queued
upload lasts a small fraction of a slot, so new requests queue behind the old ones and a slot
replays only the requests queued since the last, not the whole queue.
"""

from __future__ import annotations

import bisect


def take_first(release: list[float], until_s: float) -> None:
    """The slot that frees first (``release`` sorted ascending) is held until ``until_s``."""
    del release[0]
    bisect.insort(release, until_s)


class Server:
    def __init__(self, capacity: int) -> None:
        self.free_at = [0.0] * capacity  # when each slot frees (<= now: free), sorted
        self.queue: list[tuple] = []  # (ready_s, service_s, task) by ready_s, FIFO on ties
        self.readies: list[float] = []  # the queue's ready_s, for bisection
        self.first_free: list[float] = []  # projection: free_at[0] after each request starts
        self.release: list[float] = []  # projection: free_at after the last one projected
        self.busy_s = 0.0  # slot-seconds held, for the utilisation

    def free_slots(self, now: float) -> int:
        """M - |M_t|."""
        return bisect.bisect_right(self.free_at, now)

    def admit(self, now: float, hold_s: float) -> None:
        """An immediate admission takes a free slot now and holds it for TC + TL."""
        if self.free_at[0] > now:
            raise RuntimeError("a scheduler admitted more requests than there are free slots")
        take_first(self.free_at, now + hold_s)
        self.busy_s += hold_s
        self.first_free.clear()

    def enqueue(self, ready_s: float, service_s: float, task) -> None:
        place = bisect.bisect_right(self.readies, ready_s)  # after equal readies: FIFO ties
        self.queue.insert(place, (ready_s, service_s, task))
        self.readies.insert(place, ready_s)
        if place < len(self.first_free):
            self.first_free.clear()

    def start_due(self, now: float) -> list[tuple]:
        """Start every queued request that can start by ``now``: ``(task, start_s, wait_s)``."""
        started = []
        queue, free_at = self.queue, self.free_at
        while queue and queue[0][0] <= now and free_at[0] <= now:
            ready, service, task = queue.pop(0)
            start = max(free_at[0], ready)
            take_first(free_at, start + service)
            self.busy_s += service
            started.append((task, start, start - ready))
        if started:
            del self.readies[: len(started)]
            del self.first_free[: len(started)]
        return started

    def project(self) -> None:
        """Extend the projection to the whole queue."""
        first_free = self.first_free
        if not first_free:
            self.release = list(self.free_at)
        release = self.release
        for ready, service, _ in self.queue[len(first_free) :]:
            take_first(release, max(release[0], ready) + service)
            first_free.append(release[0])

    def queue_waits(self, readies: list[float]) -> list[float]:
        """TQ_i a request ready at each of ``readies`` would wait if queued now: behind the
        queued requests ready before it (or at the same time), on the slots as they are now
        (this slot's other decisions are not known yet)."""
        if not self.queue:
            first = self.free_at[0]
            return [max(0.0, first - ready) for ready in readies]
        if len(self.first_free) < len(self.queue):
            self.project()
        if min(readies) >= self.readies[-1]:  # behind the whole queue
            first = self.first_free[-1]
            return [max(0.0, first - ready) for ready in readies]
        waits = []
        for ready in readies:
            ahead = bisect.bisect_right(self.readies, ready)
            first = self.first_free[ahead - 1] if ahead else self.free_at[0]
            waits.append(max(0.0, first - ready))
        return waits
