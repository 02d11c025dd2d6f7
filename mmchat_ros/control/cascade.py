"""The motor-level cascade, from position down to rotor thrusts.

Position -> velocity -> acceleration -> attitude + thrust -> rates -> torques -> rotor thrusts.
Every PID is a simple_pid.PID called with an explicit dt (sample_time=None).

Outer loop (`update_outer`, at the position rate): position P plus velocity feedforward gives a
velocity command; a velocity PID plus acceleration feedforward gives an acceleration; the
acceleration, limited in tilt, becomes a desired body z axis and a collective thrust.
Inner loop (`update_inner`, at the IMU rate): the tilt and heading errors give body-rate setpoints
(P), rate PIDs on the gyro give torques, and the mixer gives rotor thrusts.
With no usable state estimate (`update_attitude_only`), the outer loop keeps the tilt the velocity
integrators had learnt (wind, trim; level when none) and tracks a climb rate measured by
integrating the IMU from the last good velocity.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from simple_pid import PID

from mmchat_ros.control.config import CascadeGains, Limits, PidGains
from mmchat_ros.control.mixer import Mixer, MixerOutput
from mmchat_ros.geometry import quat_between, rotation_matrix, rotation_vector, wrap_pi, yaw_of
from mmchat_ros.vehicle_model import GRAVITY_MPS2, VehicleModel

UP = np.array([0.0, 0.0, 1.0])
#: Collective thrust stays within this share of the motors' total, leaving room for torque.
THRUST_HEADROOM = 0.9
#: The collective never drops below this share of hover thrust in flight (keeps attitude authority).
MIN_THRUST_SHARE = 0.1


def make_pid(gains: PidGains) -> PID:
    """A simple_pid PID for `gains` that takes its dt from the caller (sample_time=None)."""
    return PID(gains.kp, gains.ki, gains.kd, setpoint=0.0, sample_time=None,
               output_limits=(-gains.limit, gains.limit))


@dataclass(frozen=True)
class StateEstimate:
    """Where the vehicle is: world ENU position/velocity, FLU->world attitude, body rates."""

    stamp_s: float
    position: np.ndarray
    velocity: np.ndarray
    orientation: np.ndarray          # (x, y, z, w)
    angular_velocity: np.ndarray     # body FLU, rad/s

    @property
    def yaw(self) -> float:
        """Heading, REP-103 (counter-clockwise from world +x)."""
        return yaw_of(self.orientation)


@dataclass(frozen=True)
class TrackingSetpoint:
    """Reference the outer loop tracks (world frame)."""

    position: np.ndarray
    velocity: np.ndarray
    acceleration: np.ndarray
    yaw: float
    yaw_rate: float


class CascadeController:
    """See the module docstring. Not thread-safe; call from one control loop."""

    def __init__(self, gains: CascadeGains, limits: Limits, vehicle: VehicleModel) -> None:
        self.gains = gains
        self.limits = limits
        self.vehicle = vehicle
        self.mixer = Mixer(vehicle)
        self._mass = vehicle.mass_kg
        self._max_collective = THRUST_HEADROOM * vehicle.max_thrust_n * self.mixer.rotor_count
        self._velocity_pids = [make_pid(gains.velocity_xy), make_pid(gains.velocity_xy),
                               make_pid(gains.velocity_z)]
        self._rate_pids = [make_pid(gains.rate_roll_pitch), make_pid(gains.rate_roll_pitch),
                           make_pid(gains.rate_yaw)]
        self.reset()

    def reset(self) -> None:
        """Forget integrators and targets (motors off, on the ground)."""
        for pid in (*self._velocity_pids, *self._rate_pids):
            pid.reset()
        self.body_z_target = UP.copy()
        self.yaw_target = 0.0
        self.yaw_rate_feedforward = 0.0
        self.collective_n = 0.0
        self.inertial_vertical_speed = 0.0
        self.last_output: MixerOutput | None = None

    @property
    def velocity_integrators(self) -> np.ndarray:
        """The velocity PIDs' integral terms (m/s2): what the vehicle needs beyond the model."""
        return np.array([pid.components[1] for pid in self._velocity_pids])

    def update_outer(self, setpoint: TrackingSetpoint, state: StateEstimate, dt: float) -> None:
        """Position and velocity loops: set the body z axis, heading and thrust targets."""
        g = self.gains
        error = setpoint.position - state.position
        velocity_command = setpoint.velocity + np.array(
            [g.position_xy_kp * error[0], g.position_xy_kp * error[1], g.position_z_kp * error[2]])
        horizontal = math.hypot(velocity_command[0], velocity_command[1])
        if horizontal > self.limits.max_horizontal_speed_mps:
            velocity_command[:2] *= self.limits.max_horizontal_speed_mps / horizontal
        velocity_command[2] = max(-self.limits.max_vertical_speed_mps,
                                  min(self.limits.max_vertical_speed_mps, velocity_command[2]))
        acceleration = setpoint.acceleration.copy()
        for axis, pid in enumerate(self._velocity_pids):
            pid.setpoint = float(velocity_command[axis])
            acceleration[axis] += pid(float(state.velocity[axis]), dt=dt)
        self._set_thrust_vector(acceleration, state.orientation)
        self.yaw_target = setpoint.yaw
        self.yaw_rate_feedforward = setpoint.yaw_rate
        self.inertial_vertical_speed = float(state.velocity[2])

    def update_attitude_only(self, vertical_speed: float, orientation: np.ndarray,
                             dt: float) -> None:
        """Control without a position: climb rate tracked on the IMU estimate, heading held.

        The tilt that the horizontal velocity integrators last learnt (wind, trim) is kept,
        otherwise level.
        """
        pid = self._velocity_pids[2]
        pid.setpoint = vertical_speed
        horizontal = self.velocity_integrators[:2]
        acceleration = np.array([horizontal[0], horizontal[1],
                                 pid(self.inertial_vertical_speed, dt=dt)])
        self._set_thrust_vector(acceleration, orientation)
        self.yaw_rate_feedforward = 0.0

    def integrate_imu(self, orientation: np.ndarray, specific_force: np.ndarray, dt: float) -> None:
        """Dead-reckon the climb rate from the accelerometer (used when the estimate is stale)."""
        world_acceleration = rotation_matrix(orientation) @ specific_force
        self.inertial_vertical_speed += (world_acceleration[2] - GRAVITY_MPS2) * dt

    def _set_thrust_vector(self, acceleration: np.ndarray, orientation: np.ndarray) -> None:
        """Acceleration (world) -> body z target and collective thrust, within the tilt limit."""
        vertical = max(acceleration[2] + GRAVITY_MPS2, MIN_THRUST_SHARE * GRAVITY_MPS2)
        horizontal = acceleration[:2]
        reach = vertical * math.tan(self.limits.max_tilt_rad)
        norm = math.hypot(horizontal[0], horizontal[1])
        if norm > reach:
            horizontal = horizontal * (reach / norm)
        force = self._mass * np.array([horizontal[0], horizontal[1], vertical])
        self.body_z_target = force / np.linalg.norm(force)
        body_z = rotation_matrix(orientation)[:, 2]
        along_body_z = float(force @ body_z)
        self.collective_n = min(max(along_body_z, MIN_THRUST_SHARE * self._mass * GRAVITY_MPS2),
                                self._max_collective)

    def update_inner(self, orientation: np.ndarray, angular_velocity: np.ndarray,
                     dt: float) -> MixerOutput:
        """Attitude and rate loops on one IMU sample: rotor thrusts."""
        g = self.gains
        rotation = rotation_matrix(orientation)
        target_in_body = rotation.T @ self.body_z_target
        tilt_error = rotation_vector(quat_between(UP, target_in_body))
        yaw_error = wrap_pi(self.yaw_target - yaw_of(orientation))
        max_rp, max_yaw = self.limits.max_roll_pitch_rate_rps, self.limits.max_yaw_rate_rps
        rates = (
            max(-max_rp, min(max_rp, g.attitude_roll_pitch_kp * tilt_error[0])),
            max(-max_rp, min(max_rp, g.attitude_roll_pitch_kp * tilt_error[1])),
            max(-max_yaw, min(max_yaw, g.attitude_yaw_kp * yaw_error + self.yaw_rate_feedforward)))
        torque = np.empty(3)
        for axis, pid in enumerate(self._rate_pids):
            pid.setpoint = rates[axis]
            torque[axis] = pid(float(angular_velocity[axis]), dt=dt)
        self.last_output = self.mixer.mix(self.collective_n, torque)
        return self.last_output
