"""Velocity-level output for vehicles driven by a body-frame Twist (ground robots, Tello-likes).

The manager's reference is turned into a velocity: its velocity feedforward plus a P correction
toward its position, capped at the speed limits, rotated into the body heading frame (FLU,
levelled); the yaw rate is the reference's plus a P correction on heading. Motors off, a stale
estimate or no estimate: zero velocity (stop).
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import OutputKind, Setpoint
from mmchat_ros.control.config import Limits
from mmchat_ros.geometry import wrap_pi, yaw_rotation


@dataclass(frozen=True)
class VelocityCommand:
    """Body-frame (FLU, levelled by heading) linear velocity, m/s, and yaw rate, rad/s."""

    linear: np.ndarray
    yaw_rate: float

    @classmethod
    def stop(cls) -> 'VelocityCommand':
        """Zero velocity."""
        return cls(np.zeros(3), 0.0)


class VelocityOutput:
    """Setpoint + estimate -> VelocityCommand."""

    def __init__(self, limits: Limits, position_kp: float, yaw_kp: float) -> None:
        self.limits = limits
        self.position_kp = position_kp
        self.yaw_kp = yaw_kp

    def command(self, setpoint: Setpoint, estimate: StateEstimate | None) -> VelocityCommand:
        """The velocity that tracks `setpoint` from `estimate`."""
        if setpoint.kind != OutputKind.TRACK or estimate is None:
            return VelocityCommand.stop()
        world = setpoint.velocity + self.position_kp * (setpoint.position - estimate.position)
        horizontal = math.hypot(world[0], world[1])
        if horizontal > self.limits.max_horizontal_speed_mps:
            world[:2] *= self.limits.max_horizontal_speed_mps / horizontal
        world[2] = max(-self.limits.max_vertical_speed_mps,
                       min(self.limits.max_vertical_speed_mps, world[2]))
        yaw = estimate.yaw
        yaw_rate = setpoint.yaw_rate + self.yaw_kp * wrap_pi(setpoint.yaw - yaw)
        yaw_rate = max(-self.limits.max_yaw_rate_rps, min(self.limits.max_yaw_rate_rps, yaw_rate))
        return VelocityCommand(yaw_rotation(yaw).T @ world, yaw_rate)


class VirtualAltitude:
    """A height for vehicles that have none (ground robots).

    It is integrated from the commanded climb rate and stopped at the ground (z = 0), so takeoff
    and landing keep their meaning (start and stop driving) and the same state machine runs
    unchanged.
    """

    def __init__(self) -> None:
        self.z = 0.0
        self.vz = 0.0

    def update(self, commanded_vz: float, dt: float) -> None:
        """Integrate `commanded_vz` (m/s) for `dt` seconds."""
        self.z = max(0.0, self.z + commanded_vz * dt)
        self.vz = commanded_vz if self.z > 0.0 else 0.0

    def apply(self, estimate: StateEstimate) -> StateEstimate:
        """`estimate` with its height and climb rate replaced by the virtual ones."""
        position = estimate.position.copy()
        velocity = estimate.velocity.copy()
        position[2], velocity[2] = self.z, self.vz
        return StateEstimate(estimate.stamp_s, position, velocity, estimate.orientation,
                             estimate.angular_velocity)
