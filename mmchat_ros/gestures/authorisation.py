"""Whether the latest operator authorisation permits a command now (ROS-free AuthState view)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Authorisation:
    """The fields of the latest AuthState that matter here."""

    operator_id: str
    authorised: bool
    expires_s: float        # AuthState.expires in seconds; 0 means never set

    def refusal(self, now_s: float) -> str | None:
        """Why a command must not be sent at `now_s`, or None when it may."""
        if not self.authorised:
            return f"operator '{self.operator_id}' is not authorised" if self.operator_id \
                else 'nobody is authorised'
        if not self.operator_id:
            return 'the authorisation names no operator'
        if now_s >= self.expires_s:
            late = now_s - self.expires_s
            return f"authorisation of '{self.operator_id}' expired {late:.1f} s ago"
        return None


def refusal(latest: Authorisation | None, now_s: float, required: bool) -> str | None:
    """Why a gesture command must not be sent: no or a failing authorisation, when `required`."""
    if not required:
        return None
    if latest is None:
        return 'no AuthState received yet'
    return latest.refusal(now_s)
