"""The multirotor simulator: MuJoCo physics, rotor lag, wind, sensor noise, battery, cameras.

ROS-free. Time advances only through `step()`, so it runs as fast as the CPU allows or paced by a
caller. Offscreen rendering needs MUJOCO_GL=egl (or osmesa); it is set to egl when unset.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

os.environ.setdefault('MUJOCO_GL', 'egl')
import mujoco  # noqa: E402  (reads MUJOCO_GL at import)

from mmchat_ros.geometry import (quat_from_yaw, quaternion_from_rotation_vector,  # noqa: E402
                                 quaternion_multiply, quaternion_wxyz, quaternion_xyzw)
from mmchat_ros.simulation import mjcf  # noqa: E402
from mmchat_ros.simulation.world import World  # noqa: E402
from mmchat_ros.vehicle_model import VehicleModel  # noqa: E402


@dataclass(frozen=True)
class Disturbances:
    """Wind, sensor noise and model error applied by the simulator (all zero: an ideal world)."""

    wind_mps: tuple[float, float, float] = (0.0, 0.0, 0.0)   # mean wind velocity, world frame
    gust_std_mps: float = 0.0             # Ornstein-Uhlenbeck gusts around the mean
    gust_time_constant_s: float = 2.0
    gyro_noise_rps: float = 0.0           # white noise std of the IMU
    accel_noise_mps2: float = 0.0
    orientation_noise_rad: float = 0.0
    position_noise_m: float = 0.0         # noise of the published state estimate
    velocity_noise_mps: float = 0.0
    mass_error_fraction: float = 0.0      # true mass = nominal * (1 + this); the controller knows
                                          # nominal
    image_noise_std: float = 0.0          # pixel noise of rendered images (0-255 scale)
    motion_blur_px: int = 0               # horizontal blur kernel length of rendered images


@dataclass(frozen=True)
class VehicleTruth:
    """Exact vehicle state: ENU world position/velocity, body FLU orientation and rates."""

    position_m: np.ndarray
    quaternion_xyzw: np.ndarray
    velocity_mps: np.ndarray
    angular_velocity_rps: np.ndarray


@dataclass(frozen=True)
class ImuSample:
    """What the IMU measures (with noise): orientation, body rates, body specific force."""

    orientation_xyzw: np.ndarray
    angular_velocity_rps: np.ndarray
    linear_acceleration_mps2: np.ndarray


@dataclass(frozen=True)
class BatteryReading:
    """Remaining charge (0..1) and terminal voltage."""

    fraction: float
    voltage_v: float


@dataclass(frozen=True)
class TargetTruth:
    """Where a scripted target is: ENU position of its base, heading and velocity."""

    target_id: int
    kind: str
    position_m: np.ndarray
    yaw_rad: float
    velocity_mps: np.ndarray


class Simulator:
    """One multirotor in one world."""

    def __init__(self, world: World, vehicle: VehicleModel,
                 disturbances: Disturbances = Disturbances(), seed: int = 0,
                 physics_dt_s: float = 0.001, camera_aspect: float = 0.75) -> None:
        self.world = world
        self.vehicle = vehicle
        self.disturbances = disturbances
        xml, assets = mjcf.build(world, vehicle, physics_dt_s, seed, camera_aspect)
        self.model = mujoco.MjModel.from_xml_string(xml, assets)
        self.data = mujoco.MjData(self.model)
        self._body = self.model.body(mjcf.VEHICLE_BODY).id
        scale = 1.0 + disturbances.mass_error_fraction
        self.model.body_mass[self._body] *= scale
        self.model.body_inertia[self._body] *= scale
        self._target_bodies = [self.model.body(f'target_{t.target_id}').mocapid[0]
                               for t in world.targets]
        self._rng = np.random.default_rng(seed)
        self._commanded = np.zeros(len(vehicle.rotors))
        self._armed = False
        self._gust = np.zeros(3)
        self._energy_wh = 0.0
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        mujoco.mj_forward(self.model, self.data)
        self._move_targets()

    @classmethod
    def from_files(cls, world_path: str | Path, vehicle_path: str | Path, **kwargs) -> 'Simulator':
        """Build from a world file and a vehicle file."""
        return cls(World.from_yaml(world_path), VehicleModel.from_yaml(vehicle_path), **kwargs)

    @property
    def time_s(self) -> float:
        """Simulated time since start."""
        return float(self.data.time)

    @property
    def physics_dt_s(self) -> float:
        """The physics time step."""
        return float(self.model.opt.timestep)

    def set_thrusts(self, thrusts_n: Sequence[float], armed: bool) -> None:
        """Command each rotor's thrust (N, clamped to [0, max]); disarmed means every rotor off."""
        thrusts = np.asarray(thrusts_n, dtype=float)
        if thrusts.shape != self._commanded.shape:
            raise ValueError(f'expected {self._commanded.size} rotor thrusts, got {thrusts.size}')
        if not np.all(np.isfinite(thrusts)):
            raise ValueError('rotor thrusts must be finite')
        self._armed = bool(armed)
        self._commanded = (np.clip(thrusts, 0.0, self.vehicle.max_thrust_n) if armed
                           else thrusts * 0.0)

    def step(self, duration_s: float) -> None:
        """Advance the simulation by `duration_s` (rounded to whole physics steps)."""
        dt = self.physics_dt_s
        lag = 1.0 - math.exp(-dt / self.vehicle.motor_time_constant_s)
        d = self.disturbances
        for _ in range(max(1, round(duration_s / dt))):
            self.data.ctrl[:] += lag * (self._commanded - self.data.ctrl)
            if d.gust_std_mps > 0:
                decay = dt / d.gust_time_constant_s
                self._gust += -decay * self._gust + d.gust_std_mps * math.sqrt(2 * decay) * \
                    self._rng.standard_normal(3)
            air = np.asarray(d.wind_mps) + self._gust - self.data.qvel[:3]
            self.data.xfrc_applied[self._body, :3] = self.vehicle.linear_drag_n_per_mps * air
            mujoco.mj_step(self.model, self.data)
            self._drain_battery(dt)
        self._move_targets()

    def _drain_battery(self, dt: float) -> None:
        b = self.vehicle.battery
        power = b.idle_power_w + b.power_per_thrust_w_per_n * float(np.sum(self.data.ctrl))
        self._energy_wh += power * dt / 3600.0

    def _move_targets(self) -> None:
        for target, mocap in zip(self.world.targets, self._target_bodies):
            (x, y), yaw, _ = target.path.pose(self.time_s)
            self.data.mocap_pos[mocap] = (x, y, 0.0)
            self.data.mocap_quat[mocap] = quaternion_wxyz(quat_from_yaw(yaw))

    def truth(self) -> VehicleTruth:
        """The exact state of the vehicle."""
        return VehicleTruth(position_m=self.data.qpos[:3].copy(),
                            quaternion_xyzw=quaternion_xyzw(self.data.qpos[3:7]),
                            velocity_mps=self.data.qvel[:3].copy(),
                            angular_velocity_rps=self.data.qvel[3:6].copy())

    def imu(self) -> ImuSample:
        """An IMU sample with the configured noise (specific force: about +9.81 z when level)."""
        d = self.disturbances
        accel = (self.data.sensor('accelerometer').data
                 + d.accel_noise_mps2 * self._rng.standard_normal(3))
        gyro = self.data.sensor('gyro').data + d.gyro_noise_rps * self._rng.standard_normal(3)
        q = self.truth().quaternion_xyzw
        if d.orientation_noise_rad > 0:
            noise = quaternion_from_rotation_vector(
                d.orientation_noise_rad * self._rng.standard_normal(3))
            q = quaternion_multiply(q, noise)
        return ImuSample(orientation_xyzw=q, angular_velocity_rps=gyro.copy(),
                         linear_acceleration_mps2=accel.copy())

    def estimate(self) -> VehicleTruth:
        """The truth plus position and velocity noise: what a good state estimator would report."""
        truth = self.truth()
        d = self.disturbances
        return VehicleTruth(position_m=(truth.position_m
                                        + d.position_noise_m * self._rng.standard_normal(3)),
                            quaternion_xyzw=truth.quaternion_xyzw,
                            velocity_mps=(truth.velocity_mps
                                          + d.velocity_noise_mps * self._rng.standard_normal(3)),
                            angular_velocity_rps=truth.angular_velocity_rps)

    def battery(self) -> BatteryReading:
        """Remaining charge and voltage."""
        b = self.vehicle.battery
        fraction = max(0.0, 1.0 - self._energy_wh / b.capacity_wh)
        return BatteryReading(fraction, b.voltage_empty_v
                              + fraction * (b.voltage_full_v - b.voltage_empty_v))

    def drain_battery_to(self, fraction: float) -> None:
        """Set the remaining charge (for failsafe tests and scenarios)."""
        self._energy_wh = (1.0 - fraction) * self.vehicle.battery.capacity_wh

    def targets(self) -> list[TargetTruth]:
        """Ground truth of the scripted targets (for evaluation only)."""
        truths = []
        for target in self.world.targets:
            (x, y), yaw, velocity = target.path.pose(self.time_s)
            truths.append(TargetTruth(target.target_id, target.kind, np.array([x, y, 0.0]), yaw,
                                      np.array([velocity[0], velocity[1], 0.0])))
        return truths

    def render(self, camera: str = 'forward', width: int = 320, height: int = 240) -> np.ndarray:
        """A BGR uint8 image from a vehicle camera, with the configured noise and blur."""
        renderer = self._renderers.get((width, height))
        if renderer is None:
            renderer = self._renderers[(width, height)] = mujoco.Renderer(self.model, height, width)
        renderer.update_scene(self.data, camera=camera)
        image = renderer.render()[:, :, ::-1]
        d = self.disturbances
        if d.motion_blur_px > 1:
            import cv2
            kernel = np.full((1, d.motion_blur_px), 1.0 / d.motion_blur_px, np.float32)
            image = cv2.filter2D(image, -1, kernel)
        if d.image_noise_std > 0:
            noisy = image + d.image_noise_std * self._rng.standard_normal(image.shape)
            image = np.clip(noisy, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(image)

    def camera_names(self) -> list[str]:
        """The vehicle's cameras."""
        return list(self.vehicle.cameras)

    def close(self) -> None:
        """Free the renderers' GL contexts."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

