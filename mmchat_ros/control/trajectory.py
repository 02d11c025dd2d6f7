"""Smooth setpoints: a reference that moves toward a goal within speed and acceleration limits.

The reference (position, velocity, acceleration, yaw, yaw rate) is what the controller tracks; it
is integrated every control step with an explicit dt. Toward a fixed goal from rest it moves on a
straight line with a trapezoidal speed profile (accelerate at the limit, cruise, brake at
BRAKING_SHARE of it) and
comes to rest at the goal without overshoot. A moving goal (follow) adds its velocity as
feedforward. A new goal mid-flight is joined smoothly: the velocity never jumps.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from mmchat_ros.geometry import wrap_pi

#: Below this distance the reference closes in exponentially (time constant SETTLE_S) instead of
#: braking on the square-root profile, which would chatter at the goal with a discrete step.
SETTLE_S = 0.25
#: The braking profile plans with this share of the acceleration limit, so that a discrete step
#: can always follow it (no overshoot at the goal).
BRAKING_SHARE = 0.9


@dataclass(frozen=True)
class MotionLimits:
    """Speed and acceleration bounds of the reference."""

    horizontal_speed_mps: float
    vertical_speed_mps: float
    acceleration_mps2: float
    yaw_rate_rps: float
    yaw_acceleration_rps2: float


def _approach_speed(distance: float, acceleration: float) -> float:
    """The speed from which braking (at BRAKING_SHARE of `acceleration`) stops after `distance`."""
    return min(math.sqrt(2.0 * BRAKING_SHARE * acceleration * distance), distance / SETTLE_S)


class ReferenceGenerator:
    """Position and yaw reference following a goal; see the module docstring."""

    def __init__(self, limits: MotionLimits) -> None:
        self.limits = limits
        self.position = np.zeros(3)
        self.velocity = np.zeros(3)
        self.acceleration = np.zeros(3)
        self.yaw = 0.0                          # unwrapped: multi-turn yaw_by works
        self.yaw_rate = 0.0
        self.goal = np.zeros(3)
        self.goal_velocity = np.zeros(3)
        self.goal_yaw = 0.0
        self._speed = limits.horizontal_speed_mps

    def reset(self, position: np.ndarray, yaw: float,
              velocity: np.ndarray | None = None) -> None:
        """Start from `position`, `yaw` (and `velocity`), with the goal right there."""
        self.position = np.array(position, dtype=float)
        self.velocity = np.zeros(3) if velocity is None else np.array(velocity, dtype=float)
        self.acceleration = np.zeros(3)
        self.yaw, self.yaw_rate = float(yaw), 0.0
        self.goal, self.goal_velocity, self.goal_yaw = self.position.copy(), np.zeros(3), self.yaw
        self._speed = self.limits.horizontal_speed_mps

    def set_goal(self, position: np.ndarray, speed_mps: float | None = None,
                 velocity: np.ndarray | None = None) -> None:
        """Move toward `position` at up to `speed_mps` (default: the limits).

        The goal moves at `velocity` (default: still).
        The speed applies along the (3D) path; its horizontal and vertical parts also stay within
        the limits. Callers check `speed_mps` against the limits before (a request above them is
        an error, not something to clamp).
        """
        self.goal = np.array(position, dtype=float)
        self.goal_velocity = np.zeros(3) if velocity is None else np.array(velocity, dtype=float)
        self._speed = self.limits.horizontal_speed_mps if speed_mps is None else speed_mps

    def set_yaw_goal(self, yaw: float, relative: bool = False) -> None:
        """Turn to heading `yaw` the short way round, or by `yaw` radians from now when relative."""
        if relative:
            self.goal_yaw = self.yaw + yaw
        else:
            self.goal_yaw = self.yaw + wrap_pi(yaw - self.yaw)

    def stopping_point(self) -> np.ndarray:
        """Where the reference comes to rest if it brakes now (as the approach profile does)."""
        speed = float(np.linalg.norm(self.velocity))
        if speed < 1e-9:
            return self.position.copy()
        return self.position + self.velocity * (
            speed / (2.0 * BRAKING_SHARE * self.limits.acceleration_mps2))

    def hold(self) -> None:
        """Brake to a stop and hold there (heading kept)."""
        self.set_goal(self.stopping_point())
        self.goal_yaw = self.yaw + self.yaw_rate * abs(self.yaw_rate) / (
            2.0 * BRAKING_SHARE * self.limits.yaw_acceleration_rps2)

    def position_at(self, ahead_s: float) -> np.ndarray:
        """Where the reference is `ahead_s` seconds after its last step (at constant velocity)."""
        return self.position + self.velocity * ahead_s

    @property
    def distance_to_goal(self) -> float:
        """Metres from the reference to the goal."""
        return float(np.linalg.norm(self.goal - self.position))

    @property
    def settled(self) -> bool:
        """True when the reference rests at a fixed goal (within 1 cm, 1 cm/s, 0.01 rad)."""
        return (self.distance_to_goal < 0.01 and float(np.linalg.norm(self.velocity)) < 0.01
                and not np.any(self.goal_velocity) and abs(self.goal_yaw - self.yaw) < 0.01
                and abs(self.yaw_rate) < 0.01)

    def step(self, dt: float) -> None:
        """Advance the reference by `dt` seconds."""
        if dt <= 0.0:
            return
        a_max = self.limits.acceleration_mps2
        offset = self.goal - self.position
        distance = float(np.linalg.norm(offset))
        desired = self.goal_velocity.copy()
        if distance > 1e-9:
            desired += offset * (_approach_speed(distance, a_max) / distance)
        lim = self.limits
        horizontal = math.hypot(desired[0], desired[1])
        scale = min(1.0, self._speed / max(float(np.linalg.norm(desired)), 1e-12),
                    lim.horizontal_speed_mps / max(horizontal, 1e-12),
                    lim.vertical_speed_mps / max(abs(desired[2]), 1e-12))
        desired *= scale
        change = desired - self.velocity
        change_norm = float(np.linalg.norm(change))
        if change_norm > a_max * dt:
            change *= a_max * dt / change_norm
        self.acceleration = change / dt
        self.position = self.position + (self.velocity + 0.5 * change) * dt
        self.velocity = self.velocity + change
        self._step_yaw(dt)

    def _step_yaw(self, dt: float) -> None:
        rate_max, acc_max = self.limits.yaw_rate_rps, self.limits.yaw_acceleration_rps2
        offset = self.goal_yaw - self.yaw
        desired = math.copysign(min(rate_max, _approach_speed(abs(offset), acc_max)), offset)
        change = max(-acc_max * dt, min(acc_max * dt, desired - self.yaw_rate))
        self.yaw += (self.yaw_rate + 0.5 * change) * dt
        self.yaw_rate += change
