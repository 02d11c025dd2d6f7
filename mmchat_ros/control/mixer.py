"""Motor mixer: [collective thrust, torque x, torque y, torque z] -> per-rotor thrusts.

The pseudo-inverse of the vehicle's allocation matrix distributes the wrench over the rotors. When
the rotors saturate, authority is given up in this order: yaw torque first, then collective thrust,
and roll/pitch torque last (scaled down only when even zero yaw and any thrust cannot realise it),
so the vehicle stays level rather than holding its heading or altitude.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmchat_ros.vehicle_model import VehicleModel


@dataclass(frozen=True)
class MixerOutput:
    """Rotor thrusts and the wrench they really produce (after saturation)."""

    thrusts_n: np.ndarray
    achieved: np.ndarray            # [thrust, tau_x, tau_y, tau_z] of thrusts_n
    saturated: bool


class Mixer:
    """Maps a desired wrench to rotor thrusts within [min_thrust_n, max_thrust_n]."""

    def __init__(self, vehicle: VehicleModel, min_thrust_n: float = 0.0) -> None:
        self._allocation = vehicle.allocation_matrix()
        self._inverse = np.linalg.pinv(self._allocation)
        self._collective = self._inverse[:, 0]          # rotor pattern of 1 N collective
        self._roll_pitch = self._inverse[:, 1:3]
        self._yaw = self._inverse[:, 3]
        self._low = float(min_thrust_n)
        self._high = float(vehicle.max_thrust_n)
        if not 0.0 <= self._low < self._high:
            raise ValueError(f'min_thrust_n must be in [0, {self._high}), got {min_thrust_n}')
        if np.any(self._collective <= 0):
            raise ValueError('rotor layout: collective thrust must raise every rotor')

    @property
    def rotor_count(self) -> int:
        """Number of rotors (length of the thrust vector)."""
        return self._inverse.shape[0]

    def mix(self, thrust_n: float, torque_nm: np.ndarray) -> MixerOutput:
        """Rotor thrusts for a collective thrust (N) and body torques (N.m, FLU)."""
        low, high = self._low, self._high
        roll_pitch = self._roll_pitch @ np.asarray(torque_nm[:2], dtype=float)
        spread = roll_pitch.max() - roll_pitch.min()
        saturated = False
        if spread > high - low:                       # roll/pitch alone exceed the motors' range
            roll_pitch *= (high - low) / spread
            saturated = True
        # Collective: as close to the request as keeps every rotor in range with this roll/pitch.
        k_min = float(np.max((low - roll_pitch) / self._collective))
        k_max = float(np.min((high - roll_pitch) / self._collective))
        k = min(max(thrust_n, k_min), k_max)
        saturated |= k != thrust_n
        thrusts = roll_pitch + k * self._collective
        # Yaw: the largest share of the request that fits in what is left.
        yaw = self._yaw * float(torque_nm[2])
        scale = 1.0
        for t, y in zip(thrusts, yaw):
            if y > 1e-12:
                scale = min(scale, (high - t) / y)
            elif y < -1e-12:
                scale = min(scale, (low - t) / y)
        scale = max(scale, 0.0)
        saturated |= scale < 1.0
        thrusts = np.clip(thrusts + scale * yaw, low, high)
        return MixerOutput(thrusts, self._allocation @ thrusts, saturated)
