"""The motor-level control loop: the flight manager and the cascade, driven by IMU samples.

One call per IMU sample returns the rotor thrusts answering it. The manager and the outer loop run
at the position rate (every few IMU samples, decided on the sample stamps); the attitude and rate
loops run on every sample. Used by the flight_controller node for the built-in simulator and, with
no ROS at all, by closed-loop tests and benchmarks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmchat_ros.control.cascade import CascadeController, TrackingSetpoint
from mmchat_ros.control.commands import OutputKind, Setpoint
from mmchat_ros.control.manager import FlightManager

#: dt assumed for the first sample, and the largest dt a PID is given (a stalled stream must not
#: kick the derivative or integrator).
DEFAULT_DT_S = 0.005
MAX_DT_S = 0.05


@dataclass(frozen=True)
class MotorOutput:
    """Thrusts for one IMU sample."""

    armed: bool
    thrusts_n: np.ndarray


class MotorLoop:
    """Manager + cascade at the rates of the module docstring."""

    def __init__(self, manager: FlightManager, cascade: CascadeController,
                 position_rate_hz: float) -> None:
        self.manager = manager
        self.cascade = cascade
        self._outer_period_s = 1.0 / position_rate_hz
        self._last_imu_s: float | None = None
        self.last_outer_s: float | None = None          # stamp of the last outer-loop run
        self.setpoint: Setpoint | None = None

    def on_imu(self, t: float, orientation: np.ndarray, angular_velocity: np.ndarray,
               specific_force: np.ndarray) -> MotorOutput:
        """Run the loops for the IMU sample stamped `t` (seconds)."""
        dt = DEFAULT_DT_S if self._last_imu_s is None else t - self._last_imu_s
        self._last_imu_s = t
        dt = min(dt, MAX_DT_S)
        if dt <= 0.0:                                   # repeated stamp: answer as before
            return self._output()
        self.cascade.integrate_imu(orientation, specific_force, dt)
        if self.last_outer_s is None or t - self.last_outer_s >= self._outer_period_s - 1e-9:
            outer_dt = DEFAULT_DT_S if self.last_outer_s is None else t - self.last_outer_s
            self.last_outer_s = t
            self._outer(t, orientation, min(outer_dt, MAX_DT_S))
        if self.setpoint.kind == OutputKind.MOTORS_OFF:
            return self._output()
        self.cascade.update_inner(orientation, angular_velocity, dt)
        return self._output()

    def _outer(self, t: float, orientation: np.ndarray, dt: float) -> None:
        m = self.manager
        m.update_inertial_vertical_speed(self.cascade.inertial_vertical_speed)
        self.setpoint = s = m.step(t)
        if s.kind == OutputKind.MOTORS_OFF:
            self.cascade.reset()
        elif s.kind == OutputKind.ATTITUDE_ONLY:
            self.cascade.yaw_target = s.yaw
            self.cascade.update_attitude_only(s.vertical_speed, orientation, dt)
        else:
            self.cascade.update_outer(TrackingSetpoint(s.position, s.velocity, s.acceleration,
                                                       s.yaw, s.yaw_rate), m.estimate, dt)

    def _output(self) -> MotorOutput:
        last = self.cascade.last_output
        if self.setpoint is None or self.setpoint.kind == OutputKind.MOTORS_OFF or last is None:
            return MotorOutput(self.manager.armed, np.zeros(self.cascade.mixer.rotor_count))
        return MotorOutput(True, last.thrusts_n.copy())
