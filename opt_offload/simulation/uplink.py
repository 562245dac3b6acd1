"""The uplink band B and the uploads in flight that hold shares of it (PRADA eqs. 4-5, 28).

An upload given B_i at its slot keeps B_i until its bits are through, c_i / B_i later, which
may be several slots on (a slow channel, a small share). A slot's uploads share what the
uploads still in flight leave, ``B - uplink_busy``, so the band in use never exceeds B.
"""

from __future__ import annotations

import heapq


class Uplink:
    def __init__(self, bandwidth_mhz: float) -> None:
        self.bandwidth_mhz = bandwidth_mhz  # B
        self.in_flight: list[tuple[float, float]] = []  # a heap of (end_s, B_i in MHz)
        self.busy_mhz = 0.0  # the band the uploads in flight hold

    def release(self, now: float) -> None:
        """The uploads whose bits are through by ``now`` give their band back."""
        in_flight = self.in_flight
        if in_flight and in_flight[0][0] <= now:
            while in_flight and in_flight[0][0] <= now:
                heapq.heappop(in_flight)
            # summed afresh rather than decremented, so that no rounding accrues over a run
            self.busy_mhz = sum(band for _, band in in_flight)

    def hold(self, end_s: float, band_mhz: float) -> None:
        heapq.heappush(self.in_flight, (end_s, band_mhz))
        self.busy_mhz += band_mhz

    @property
    def free_mhz(self) -> float:
        """B - uplink_busy: the band this slot's uploads share."""
        return self.bandwidth_mhz - self.busy_mhz
