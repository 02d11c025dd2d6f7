"""The operator session: who is authorised, until when, and what ends it.

A session starts after a positive decision, lasts `length_s`, and can be renewed (a fresh positive
decision for the same operator) while it is active. It ends on expiry, when another enrolled
person's face or voice is recognised, or when the operator's face has been out of view for longer
than `face_absence_s`.
"""
from __future__ import annotations

from dataclasses import dataclass
import time
from typing import Callable


@dataclass(frozen=True)
class SessionState:
    """A snapshot: active or not, whose, how long it has left, and the reason for the state."""

    active: bool
    operator: str | None
    remaining_s: float
    reason: str


class Session:
    """At most one operator at a time; every method takes an optional time (clock() if None)."""

    def __init__(self, length_s: float = 300.0, face_absence_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if length_s <= 0 or face_absence_s <= 0:
            raise ValueError('session length and face absence limit must be positive')
        self.length_s, self.face_absence_s = length_s, face_absence_s
        self._clock = clock
        self._operator: str | None = None
        self._expires_at = 0.0
        self._face_seen_at = 0.0
        self._reason = 'no session yet'

    def start(self, operator: str, now: float | None = None) -> SessionState:
        """Begin a session for `operator` (replacing any other one)."""
        now = self._now(now)
        self._operator, self._expires_at, self._face_seen_at = operator, now + self.length_s, now
        self._reason = 'authorised'
        return self.state(now)

    def renew(self, operator: str, now: float | None = None) -> SessionState:
        """Extend the active session of the same operator by a full length; anyone else: no."""
        now = self._now(now)
        if not self.state(now).active:
            return self.state(now)
        if operator != self._operator:
            return self.end(f'renewal by another operator ({operator})', now)
        self._expires_at, self._reason = now + self.length_s, 'renewed'
        return self.state(now)

    def observe_face(self, operator: str | None, now: float | None = None) -> SessionState:
        """A camera frame's verdict: the operator, another enrolled person, or None.

        None: no face of an enrolled operator in view.
        """
        now = self._now(now)
        if not self.state(now).active:
            return self.state(now)
        if operator is not None and operator != self._operator:
            return self.end(f'operator changed: face of {operator}', now)
        if operator is not None:
            self._face_seen_at = now
        return self.state(now)

    def observe_voice(self, operator: str | None, now: float | None = None) -> SessionState:
        """A voiceprint verdict on an utterance: another enrolled speaker ends the session."""
        now = self._now(now)
        if self.state(now).active and operator is not None and operator != self._operator:
            return self.end(f'operator changed: voice of {operator}', now)
        return self.state(now)

    def end(self, reason: str, now: float | None = None) -> SessionState:
        """End the session now."""
        if self._operator is not None:
            self._expires_at = min(self._expires_at, self._now(now))
            self._reason = reason
        return self.state(now)

    def state(self, now: float | None = None) -> SessionState:
        """The state at `now`; expiry and face absence are applied here."""
        now = self._now(now)
        if self._operator is None:
            return SessionState(False, None, 0.0, self._reason)
        if now >= self._expires_at:
            if self._reason in ('authorised', 'renewed'):
                self._reason = 'session expired'
            return SessionState(False, self._operator, 0.0, self._reason)
        if now - self._face_seen_at > self.face_absence_s:
            self._expires_at, self._reason = now, 'operator face out of view too long'
            return SessionState(False, self._operator, 0.0, self._reason)
        return SessionState(True, self._operator, self._expires_at - now, self._reason)

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now
