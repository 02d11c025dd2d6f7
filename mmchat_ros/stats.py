"""Rate and latency statistics over a sliding window (ROS-free)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowSummary:
    """Rate and latency percentiles of the events in a window."""

    count: int
    rate_hz: float
    latency_p50_s: float
    latency_p99_s: float
    latency_max_s: float


class RateLatencyStats:
    """Keeps the last `window` events (arrival time, latency) and summarises them."""

    def __init__(self, window: int = 300) -> None:
        self._arrivals: deque[float] = deque(maxlen=window)
        self._latencies: deque[float] = deque(maxlen=window)
        self.total = 0

    def record(self, arrival_s: float, latency_s: float | None = None) -> None:
        """Count one event at `arrival_s` (seconds); `latency_s` is optional."""
        self._arrivals.append(arrival_s)
        if latency_s is not None:
            self._latencies.append(latency_s)
        self.total += 1

    def summary(self) -> WindowSummary:
        """Rate from the arrival span, latency percentiles (NaN when none were recorded)."""
        span = self._arrivals[-1] - self._arrivals[0] if len(self._arrivals) > 1 else 0.0
        rate = (len(self._arrivals) - 1) / span if span > 0 else 0.0
        if self._latencies:
            lat = np.fromiter(self._latencies, dtype=float)
            p50, p99 = np.percentile(lat, [50, 99])
            worst = float(lat.max())
        else:
            p50 = p99 = worst = float('nan')
        return WindowSummary(len(self._arrivals), rate, float(p50), float(p99), worst)
