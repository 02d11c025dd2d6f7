"""The operator authorisation rule: may a command from an operator go ahead now? ROS-free.

One rule for every consumer: the flight manager (commands from voice, gestures, an LLM) and the
gesture node (whether to send a command at all). `Authorisation` holds the fields of the latest
mmchat_ros/AuthState that matter.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Authorisation:
    """The latest operator authentication state (mmchat_ros/AuthState)."""

    operator_id: str
    authorised: bool
    expires_s: float        # AuthState.expires in seconds; 0 means never set

    def refusal(self, now_s: float, operator_id: str | None = None) -> str | None:
        """Why a command must not go ahead at `now_s`, or None when it may.

        `operator_id`: who sends the command (None: whoever is authorised).
        """
        if not self.authorised:
            return (f"operator '{self.operator_id}' is not authenticated" if self.operator_id
                    else 'nobody is authenticated')
        if not self.operator_id:
            return 'the authentication state names no operator'
        if operator_id is not None and operator_id != self.operator_id:
            who = f"operator '{operator_id}'" if operator_id else 'no operator_id given'
            return f"{who} is not the authenticated operator '{self.operator_id}'"
        if now_s >= self.expires_s:
            return f"authorisation expired {now_s - self.expires_s:.1f} s ago " \
                   f"(operator '{self.operator_id}')"
        return None


def refusal(latest: Authorisation | None, now_s: float, required: bool = True,
            operator_id: str | None = None) -> str | None:
    """Why a command must not go ahead: no or a failing `latest` authorisation, when `required`."""
    if not required:
        return None
    if latest is None:
        return 'no authentication state received yet'
    return latest.refusal(now_s, operator_id)
