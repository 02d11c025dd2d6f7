"""The multirotor description shared by the simulator (physics) and the flight controller (mixer).

ROS-free. Body frame FLU (REP-103). Rotor i produces thrust T_i along body +z at position p_i and a
reaction torque about +z of sign_i * k * T_i.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

import numpy as np
import yaml

GRAVITY_MPS2 = 9.80665


class VehicleModelError(ValueError):
    """A vehicle file that is missing, malformed or physically impossible."""


@dataclass(frozen=True)
class Rotor:
    """One rotor: where it is and which way its reaction torque turns the body."""

    name: str
    position_m: tuple[float, float, float]
    yaw_torque_sign: int


@dataclass(frozen=True)
class Battery:
    """A simple energy model: power drawn grows with total thrust; voltage falls linearly."""

    capacity_wh: float
    voltage_full_v: float
    voltage_empty_v: float
    power_per_thrust_w_per_n: float
    idle_power_w: float


@dataclass(frozen=True)
class CameraMount:
    """A camera rigidly mounted on the body, pitched down by pitch_deg."""

    position_m: tuple[float, float, float]
    pitch_deg: float
    horizontal_fov_deg: float


@dataclass(frozen=True)
class VehicleModel:
    """Mass properties, rotor geometry, limits, battery and cameras of a multirotor."""

    name: str
    mass_kg: float
    inertia_kg_m2: tuple[float, float, float]
    max_thrust_n: float
    yaw_torque_per_thrust_m: float
    motor_time_constant_s: float
    linear_drag_n_per_mps: float
    rotors: tuple[Rotor, ...]
    battery: Battery
    cameras: dict[str, CameraMount]

    @classmethod
    def from_yaml(cls, path: str | Path) -> 'VehicleModel':
        """Read a vehicle file (see sim/vehicles/quadrotor.yaml)."""
        try:
            doc = yaml.safe_load(Path(path).read_text())
            model = cls(
                name=str(doc['name']), mass_kg=float(doc['mass_kg']),
                inertia_kg_m2=tuple(float(v) for v in doc['inertia_kg_m2']),
                max_thrust_n=float(doc['max_thrust_n']),
                yaw_torque_per_thrust_m=float(doc['yaw_torque_per_thrust_m']),
                motor_time_constant_s=float(doc['motor_time_constant_s']),
                linear_drag_n_per_mps=float(doc.get('linear_drag_n_per_mps', 0.0)),
                rotors=tuple(Rotor(str(r['name']), tuple(float(v) for v in r['position_m']),
                                   int(r['yaw_torque_sign'])) for r in doc['rotors']),
                battery=Battery(**{k: float(v) for k, v in doc['battery'].items()}),
                cameras={name: CameraMount(tuple(float(v) for v in c['position_m']),
                                           float(c['pitch_deg']), float(c['horizontal_fov_deg']))
                         for name, c in (doc.get('cameras') or {}).items()})
        except OSError as exc:
            raise VehicleModelError(f'cannot read vehicle file {path}: {exc.strerror}') from exc
        except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
            raise VehicleModelError(f'vehicle file {path} is malformed: {exc!r}') from exc
        model.check()
        return model

    def check(self) -> None:
        """Raise VehicleModelError unless the vehicle can fly and its mixer is invertible."""
        if self.mass_kg <= 0 or min(self.inertia_kg_m2) <= 0 or len(self.inertia_kg_m2) != 3:
            raise VehicleModelError('mass and the three inertia moments must be positive')
        if len(self.rotors) < 4 or any(abs(r.yaw_torque_sign) != 1 for r in self.rotors):
            raise VehicleModelError('need at least 4 rotors with yaw_torque_sign +1 or -1')
        if self.max_thrust_n * len(self.rotors) <= self.mass_kg * GRAVITY_MPS2:
            raise VehicleModelError('total thrust cannot lift the vehicle')
        if np.linalg.matrix_rank(self.allocation_matrix()) < 4:
            raise VehicleModelError('rotor layout cannot control roll, pitch, yaw and thrust')
        if not all(math.isfinite(v) for v in (self.max_thrust_n, self.yaw_torque_per_thrust_m)):
            raise VehicleModelError('non-finite rotor constants')

    def allocation_matrix(self) -> np.ndarray:
        """A (4, n) matrix mapping rotor thrusts to [total thrust, torque x, torque y, torque z]."""
        columns = [[1.0, r.position_m[1], -r.position_m[0],
                    r.yaw_torque_sign * self.yaw_torque_per_thrust_m] for r in self.rotors]
        return np.array(columns).T

    @property
    def hover_thrust_n(self) -> float:
        """Total thrust that balances gravity."""
        return self.mass_kg * GRAVITY_MPS2
