"""Plain data the flight manager exchanges with its callers: commands, decisions, modes, outcomes.

The numbers of Verb, Source, Mode and Failsafe are those of msg/Command.msg and
msg/VehicleState.msg.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum, IntEnum
import math

import numpy as np


class Verb(IntEnum):
    """What a command asks for."""

    TAKEOFF = 1
    LAND = 2
    HOVER = 3
    GOTO = 4
    MOVE_BY = 5
    YAW_BY = 6
    FOLLOW_TRACK = 7
    RETURN_HOME = 8
    EMERGENCY_STOP = 9
    ARM = 10
    DISARM = 11


class Source(IntEnum):
    """Where a command came from."""

    API = 0
    VOICE = 1
    GESTURE = 2
    LLM = 3


class Mode(IntEnum):
    """The vehicle state machine."""

    DISARMED = 0
    LANDED = 1
    TAKING_OFF = 2
    FLYING = 3
    LANDING = 4
    EMERGENCY = 5


AIRBORNE = (Mode.TAKING_OFF, Mode.FLYING, Mode.LANDING)


class Failsafe(IntEnum):
    """Why the controller took over."""

    NONE = 0
    COMMAND_TIMEOUT = 1
    STATE_STALE = 2
    LOW_BATTERY = 3
    GEOFENCE = 4
    EMERGENCY_STOP = 5


class OutputKind(Enum):
    """What the vehicle interface must do this step."""

    MOTORS_OFF = 'motors_off'          # disarmed, landed or emergency
    TRACK = 'track'                    # follow the reference (position, velocity, acceleration)
    ATTITUDE_ONLY = 'attitude_only'    # no usable state: level, heading held, climb rate only


@dataclass(frozen=True)
class CommandRequest:
    """One command (the fields of mmchat_ros/Command, frames as strings)."""

    request_id: str
    verb: int
    frame_id: str = ''
    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 0.0
    yaw_rad: float = 0.0
    altitude_m: float = 0.0
    speed_mps: float = 0.0
    track_id: int = -1
    standoff_m: float = 0.0
    source: int = Source.API
    operator_id: str = ''

    def non_finite_fields(self) -> list[str]:
        """Names of numeric fields that are NaN or infinite."""
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), float)
                and not math.isfinite(getattr(self, f.name))]

    @property
    def verb_name(self) -> str:
        """'GOTO', or 'verb 42' for an unknown number."""
        try:
            return Verb(self.verb).name
        except ValueError:
            return f'verb {self.verb}'


@dataclass(frozen=True)
class Decision:
    """The answer to a command: accepted or rejected, and why."""

    accepted: bool
    reason: str


@dataclass(frozen=True)
class Outcome:
    """How an accepted command ended."""

    request_id: str
    success: bool
    reason: str


@dataclass(frozen=True)
class Setpoint:
    """What the manager asks of the vehicle interface for one step."""

    kind: OutputKind
    position: np.ndarray
    velocity: np.ndarray
    acceleration: np.ndarray
    yaw: float
    yaw_rate: float
    vertical_speed: float = 0.0        # ATTITUDE_ONLY: climb rate, m/s (negative descends)
