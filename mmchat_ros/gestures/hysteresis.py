"""Hold-time hysteresis: a gesture counts once it has been held, and only once per hold.

A gesture starts when it is first seen and counts (fires) when it has been seen for `hold_s`. A
different gesture restarts the hold at once, so a flicker between gestures never fires. A brief
loss (no hand, or nothing confident) of up to `max_gap_s` keeps the hold; a longer one ends it.
A gesture fires once; it can fire again only after it ended.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Candidate:
    """What one frame shows."""

    label: str
    kind: str           # 'static' or 'dynamic'
    confidence: float


@dataclass(frozen=True)
class HoldState:
    """The filter's view after a frame."""

    label: str | None
    kind: str
    held_s: float
    triggered: bool     # held long enough (stays true while the gesture lasts)
    fired: bool         # became triggered with this frame: act now


_NOTHING = HoldState(None, '', 0.0, False, False)


class HoldFilter:
    """Turns per-frame candidates into held gestures (see the module docstring)."""

    def __init__(self, hold_s: Callable[[str], float], max_gap_s: float) -> None:
        """hold_s(kind) gives the hold time of a kind of gesture."""
        self._hold_s = hold_s
        self._max_gap_s = max_gap_s
        self.reset()

    def reset(self) -> None:
        """Forget the current gesture."""
        self._current: Candidate | None = None
        self._start = self._last_seen = 0.0
        self._triggered = False

    def update(self, t: float, candidate: Candidate | None) -> HoldState:
        """Feed the candidate of the frame at time `t` (seconds, non-decreasing)."""
        if self._current is not None and t - self._last_seen > self._max_gap_s:
            self.reset()
        current = self._current
        if candidate is None:
            return _NOTHING if current is None else self._state(fired=False)
        if current is None or candidate.label != current.label:
            self._current, self._start, self._triggered = candidate, t, False
        self._last_seen = t
        fired = not self._triggered and t - self._start >= self._hold_s(candidate.kind)
        self._triggered = self._triggered or fired
        return self._state(fired)

    def _state(self, fired: bool) -> HoldState:
        return HoldState(self._current.label, self._current.kind, self._last_seen - self._start,
                         self._triggered, fired)
