"""Flight controller settings: gains, limits, geofence, mission and failsafe parameters.

Every setting has a flat dotted name ("gains.velocity_xy.kp"), which is also its ROS parameter
name: a YAML file's nested `ros__parameters` map to these names. PARAMETERS lists each with its
default and a description; ControllerConfig.from_parameters builds and checks the whole set.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from mmchat_ros.vehicle_model import GRAVITY_MPS2


class ConfigError(ValueError):
    """Settings that are missing, of the wrong type, or unsafe together."""


def _pid(prefix: str, kp: float, ki: float, kd: float, limit: float, unit: str) -> dict:
    return {f'{prefix}.kp': (kp, f'proportional gain ({unit})'),
            f'{prefix}.ki': (ki, f'integral gain ({unit} per s)'),
            f'{prefix}.kd': (kd, f'derivative gain ({unit} s), on the measurement'),
            f'{prefix}.limit': (limit, 'output and integrator magnitude limit')}


#: name -> (default, description). Defaults fly the 1 kg quadrotor of sim/vehicles/quadrotor.yaml.
PARAMETERS: dict[str, tuple[Any, str]] = {
    'require_authorised_operator': (True, 'commands not from the API need an authorised operator'),
    'rates.position_hz': (100.0, 'outer (position/velocity) loop rate, Hz; the attitude loop runs '
                                 'at the IMU rate'),
    'gains.position.xy_kp': (1.5, 'position -> velocity, horizontal (1/s)'),
    'gains.position.z_kp': (1.5, 'position -> velocity, vertical (1/s)'),
    **_pid('gains.velocity_xy', 4.0, 1.5, 0.05, 6.0, 'm/s2 per m/s'),
    **_pid('gains.velocity_z', 4.0, 2.0, 0.0, 5.0, 'm/s2 per m/s'),
    'gains.attitude.roll_pitch_kp': (11.0, 'tilt error -> body rate (rad/s per rad)'),
    'gains.attitude.yaw_kp': (3.0, 'heading error -> yaw rate (rad/s per rad)'),
    **_pid('gains.rate_roll_pitch', 0.22, 0.02, 0.0, 1.0, 'N.m per rad/s'),
    **_pid('gains.rate_yaw', 0.15, 0.02, 0.0, 0.15, 'N.m per rad/s'),
    'limits.max_horizontal_speed_mps': (3.0, 'fastest horizontal speed a command may ask for'),
    'limits.max_vertical_speed_mps': (1.5, 'fastest climb or descent'),
    'limits.max_acceleration_mps2': (3.0, 'largest acceleration the controller commands'),
    'limits.max_tilt_deg': (30.0, 'largest tilt the controller commands'),
    'limits.max_yaw_rate_dps': (90.0, 'fastest yaw rate a command may ask for'),
    'limits.max_roll_pitch_rate_dps': (220.0, 'largest roll/pitch rate setpoint'),
    'geofence.shape': ('box', "'box' (min/max x and y) or 'cylinder' (center and radius)"),
    'geofence.min_x_m': (-10.0, 'box: west edge (world frame)'),
    'geofence.max_x_m': (10.0, 'box: east edge'),
    'geofence.min_y_m': (-10.0, 'box: south edge'),
    'geofence.max_y_m': (10.0, 'box: north edge'),
    'geofence.center_x_m': (0.0, 'cylinder: centre x'),
    'geofence.center_y_m': (0.0, 'cylinder: centre y'),
    'geofence.radius_m': (10.0, 'cylinder: radius'),
    'geofence.min_altitude_m': (0.3, 'lowest goal z (world frame; landing excepted)'),
    'geofence.max_altitude_m': (5.0, 'highest goal z'),
    'mission.default_speed_mps': (1.0, 'cruise speed when a command gives speed 0'),
    'mission.acceleration_mps2': (1.5, 'acceleration of the setpoint trajectory'),
    'mission.yaw_rate_dps': (60.0, 'yaw rate of the setpoint trajectory'),
    'mission.yaw_acceleration_dps2': (180.0, 'yaw acceleration of the setpoint trajectory'),
    'mission.takeoff_speed_mps': (0.8, 'climb speed of a takeoff'),
    'mission.land_speed_mps': (0.5, 'descent speed of a landing'),
    'mission.arrival_radius_m': (0.15, 'a goal is reached within this distance...'),
    'mission.arrival_speed_mps': (0.2, '...below this speed...'),
    'mission.arrival_yaw_deg': (5.0, '...and within this heading error'),
    'mission.timeout_margin_s': (10.0,
                                 'a command fails when it takes this much longer than planned'),
    'mission.return_altitude_m': (2.0, 'return_home flies at least this high above home'),
    'mission.min_standoff_m': (1.0, 'closest a follow may keep to its target'),
    'mission.max_standoff_m': (10.0, 'farthest follow standoff'),
    'mission.follow_timeout_s': (2.0, 'a followed track unseen this long stops the follow'),
    'mission.disarm_after_landing_s': (3.0, 'disarm this long after touchdown (0: stay armed)'),
    'failsafe.command_timeout_s': (60.0, 'flying idle this long without a command -> hover, '
                                         'then land (0: off)'),
    'failsafe.heartbeat_timeout_s': (0.0, 'operator heartbeat silent this long while flying -> '
                                          'hover, then land (0: off)'),
    'failsafe.land_delay_s': (5.0, 'hover this long after a timeout before landing'),
    'failsafe.state_timeout_s': (0.25, 'a state estimate older than this is stale'),
    'failsafe.stale_hover_s': (2.0, 'stale estimate: hover level this long, then land blind'),
    'failsafe.blind_descent_mps': (0.3, 'descent speed of a blind (attitude-only) landing'),
    'failsafe.low_battery_fraction': (0.25, 'below this: return home and land'),
    'failsafe.critical_battery_fraction': (0.12, 'below this: land where it is'),
    'failsafe.geofence_margin_m': (0.5, 'outside the geofence by more than this: land'),
    'failsafe.arm_timeout_s': (10.0, 'a takeoff fails when the vehicle is not ready this soon'),
}


@dataclass(frozen=True)
class PidGains:
    """One PID: gains and the magnitude limit of its output (also its anti-windup bound)."""

    kp: float
    ki: float
    kd: float
    limit: float


@dataclass(frozen=True)
class CascadeGains:
    """Gains of every loop of the cascade."""

    position_xy_kp: float
    position_z_kp: float
    velocity_xy: PidGains
    velocity_z: PidGains
    attitude_roll_pitch_kp: float
    attitude_yaw_kp: float
    rate_roll_pitch: PidGains
    rate_yaw: PidGains


@dataclass(frozen=True)
class Limits:
    """Hard limits: commands beyond them are rejected; the controller never exceeds them."""

    max_horizontal_speed_mps: float
    max_vertical_speed_mps: float
    max_acceleration_mps2: float
    max_tilt_rad: float
    max_yaw_rate_rps: float
    max_roll_pitch_rate_rps: float


@dataclass(frozen=True)
class Geofence:
    """A box or an upright cylinder in the world frame, between two altitudes (world z)."""

    shape: str
    min_x_m: float
    max_x_m: float
    min_y_m: float
    max_y_m: float
    center_x_m: float
    center_y_m: float
    radius_m: float
    min_altitude_m: float
    max_altitude_m: float

    def horizontal_violation(self, x: float, y: float, margin_m: float = 0.0) -> str | None:
        """Why (x, y) is outside the fence grown by `margin_m`, or None when it is inside."""
        if self.shape == 'cylinder':
            distance = math.hypot(x - self.center_x_m, y - self.center_y_m)
            if distance > self.radius_m + margin_m:
                return (f'({x:.2f}, {y:.2f}) is {distance:.2f} m from the geofence centre, '
                        f'radius {self.radius_m:g} m')
            return None
        if not (self.min_x_m - margin_m <= x <= self.max_x_m + margin_m
                and self.min_y_m - margin_m <= y <= self.max_y_m + margin_m):
            return (f'({x:.2f}, {y:.2f}) is outside the geofence box x [{self.min_x_m:g}, '
                    f'{self.max_x_m:g}] y [{self.min_y_m:g}, {self.max_y_m:g}]')
        return None

    def violation(self, position: np.ndarray, margin_m: float = 0.0,
                  check_floor: bool = True) -> str | None:
        """Why `position` is outside the fence (grown by `margin_m`), or None when inside."""
        x, y, z = (float(v) for v in position)
        horizontal = self.horizontal_violation(x, y, margin_m)
        if horizontal:
            return horizontal
        if z > self.max_altitude_m + margin_m:
            return f'z {z:.2f} m is above the geofence ceiling {self.max_altitude_m:g} m'
        if check_floor and z < self.min_altitude_m - margin_m:
            return f'z {z:.2f} m is below the geofence floor {self.min_altitude_m:g} m'
        return None


@dataclass(frozen=True)
class MissionSettings:
    """How commands are flown."""

    default_speed_mps: float
    acceleration_mps2: float
    yaw_rate_rps: float
    yaw_acceleration_rps2: float
    takeoff_speed_mps: float
    land_speed_mps: float
    arrival_radius_m: float
    arrival_speed_mps: float
    arrival_yaw_rad: float
    timeout_margin_s: float
    return_altitude_m: float
    min_standoff_m: float
    max_standoff_m: float
    follow_timeout_s: float
    disarm_after_landing_s: float


@dataclass(frozen=True)
class FailsafeSettings:
    """When and how the controller protects the vehicle on its own."""

    command_timeout_s: float
    heartbeat_timeout_s: float
    land_delay_s: float
    state_timeout_s: float
    stale_hover_s: float
    blind_descent_mps: float
    low_battery_fraction: float
    critical_battery_fraction: float
    geofence_margin_m: float
    arm_timeout_s: float


@dataclass(frozen=True)
class ControllerConfig:
    """All flight controller settings (see PARAMETERS)."""

    require_authorised_operator: bool
    position_rate_hz: float
    gains: CascadeGains
    limits: Limits
    geofence: Geofence
    mission: MissionSettings
    failsafe: FailsafeSettings

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any] | None = None) -> 'ControllerConfig':
        """Settings from flat parameter values (missing ones take their defaults), checked."""
        values = dict(values or {})
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f"unknown controller parameter(s): {', '.join(unknown)}")
        p = {name: values.get(name, default) for name, (default, _) in PARAMETERS.items()}
        problems = [f'{name} must be a number, got {p[name]!r}' for name, (default, _)
                    in PARAMETERS.items() if isinstance(default, float)
                    and (isinstance(p[name], bool) or not isinstance(p[name], (int, float)))]
        if problems:
            raise ConfigError('; '.join(problems))

        def pid(prefix: str) -> PidGains:
            return PidGains(*(float(p[f'{prefix}.{k}']) for k in ('kp', 'ki', 'kd', 'limit')))

        rad = math.radians
        config = cls(
            require_authorised_operator=bool(p['require_authorised_operator']),
            position_rate_hz=float(p['rates.position_hz']),
            gains=CascadeGains(float(p['gains.position.xy_kp']), float(p['gains.position.z_kp']),
                               pid('gains.velocity_xy'), pid('gains.velocity_z'),
                               float(p['gains.attitude.roll_pitch_kp']),
                               float(p['gains.attitude.yaw_kp']),
                               pid('gains.rate_roll_pitch'), pid('gains.rate_yaw')),
            limits=Limits(float(p['limits.max_horizontal_speed_mps']),
                          float(p['limits.max_vertical_speed_mps']),
                          float(p['limits.max_acceleration_mps2']),
                          rad(float(p['limits.max_tilt_deg'])),
                          rad(float(p['limits.max_yaw_rate_dps'])),
                          rad(float(p['limits.max_roll_pitch_rate_dps']))),
            geofence=Geofence(str(p['geofence.shape']), *(float(p[f'geofence.{k}']) for k in (
                'min_x_m', 'max_x_m', 'min_y_m', 'max_y_m', 'center_x_m', 'center_y_m',
                'radius_m', 'min_altitude_m', 'max_altitude_m'))),
            mission=MissionSettings(
                float(p['mission.default_speed_mps']), float(p['mission.acceleration_mps2']),
                rad(float(p['mission.yaw_rate_dps'])),
                rad(float(p['mission.yaw_acceleration_dps2'])),
                float(p['mission.takeoff_speed_mps']), float(p['mission.land_speed_mps']),
                float(p['mission.arrival_radius_m']), float(p['mission.arrival_speed_mps']),
                rad(float(p['mission.arrival_yaw_deg'])), float(p['mission.timeout_margin_s']),
                float(p['mission.return_altitude_m']), float(p['mission.min_standoff_m']),
                float(p['mission.max_standoff_m']), float(p['mission.follow_timeout_s']),
                float(p['mission.disarm_after_landing_s'])),
            failsafe=FailsafeSettings(*(float(p[f'failsafe.{k}']) for k in (
                'command_timeout_s', 'heartbeat_timeout_s', 'land_delay_s', 'state_timeout_s',
                'stale_hover_s', 'blind_descent_mps', 'low_battery_fraction',
                'critical_battery_fraction', 'geofence_margin_m', 'arm_timeout_s'))))
        config.check()
        return config

    @classmethod
    def from_yaml(cls, path: str | Path,
                  node_name: str = 'flight_controller') -> 'ControllerConfig':
        """Settings from a ROS parameter file's `<node_name>: ros__parameters:` section.

        Parameters of the node that are not controller settings (topics, interface) are ignored.
        """
        try:
            doc = yaml.safe_load(Path(path).read_text())
            section = doc[node_name]['ros__parameters']
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ConfigError(f'cannot read {node_name} parameters from {path}: {exc!r}') from exc
        flat = flatten(section)
        return cls.from_parameters({k: v for k, v in flat.items() if k in PARAMETERS})

    def check(self) -> None:
        """Raise ConfigError listing every unsafe or inconsistent setting."""
        problems = []
        numbers = {**vars(self.limits), **vars(self.mission), **vars(self.failsafe),
                   'rates.position_hz': self.position_rate_hz}
        problems += [f'{k} is not finite' for k, v in numbers.items() if not math.isfinite(v)]
        for name, gains in vars(self.gains).items():
            values = vars(gains).values() if isinstance(gains, PidGains) else [gains]
            if any(not math.isfinite(v) or v < 0 for v in values):
                problems.append(f'gains.{name} must be finite and >= 0')
        if problems:
            raise ConfigError('; '.join(problems))
        zero_allowed = {'command_timeout_s', 'heartbeat_timeout_s', 'disarm_after_landing_s',
                        'low_battery_fraction', 'critical_battery_fraction', 'geofence_margin_m'}
        positive = {k: v for k, v in numbers.items() if k not in zero_allowed}
        problems += [f'{k} must be positive, got {v}' for k, v in positive.items() if v <= 0]
        problems += [f'{k} must be >= 0, got {v}' for k, v in numbers.items() if v < 0]
        lim, mis, fen = self.limits, self.mission, self.geofence
        if not 0 < lim.max_tilt_rad < math.radians(60):
            problems.append('limits.max_tilt_deg must be in (0, 60)')
        elif lim.max_acceleration_mps2 > GRAVITY_MPS2 * math.tan(lim.max_tilt_rad):
            problems.append(f'limits.max_acceleration_mps2 {lim.max_acceleration_mps2:g} '
                            f'needs more tilt than limits.max_tilt_deg allows '
                            f'(g*tan(tilt) = {GRAVITY_MPS2 * math.tan(lim.max_tilt_rad):.2f})')
        for name, value, limit in (
                ('mission.acceleration_mps2', mis.acceleration_mps2, lim.max_acceleration_mps2),
                ('mission.default_speed_mps', mis.default_speed_mps, lim.max_horizontal_speed_mps),
                ('mission.takeoff_speed_mps', mis.takeoff_speed_mps, lim.max_vertical_speed_mps),
                ('mission.land_speed_mps', mis.land_speed_mps, lim.max_vertical_speed_mps),
                ('failsafe.blind_descent_mps', self.failsafe.blind_descent_mps,
                 lim.max_vertical_speed_mps),
                ('mission.yaw_rate_dps', mis.yaw_rate_rps, lim.max_yaw_rate_rps)):
            if value > limit + 1e-9:
                problems.append(f'{name} exceeds its limit ({value:g} > {limit:g})')
        if fen.shape not in ('box', 'cylinder'):
            problems.append(f"geofence.shape must be 'box' or 'cylinder', got '{fen.shape}'")
        if fen.min_x_m >= fen.max_x_m or fen.min_y_m >= fen.max_y_m:
            problems.append('geofence: min_x/min_y must be below max_x/max_y')
        if fen.radius_m <= 0:
            problems.append('geofence.radius_m must be positive')
        if fen.min_altitude_m >= fen.max_altitude_m:
            problems.append('geofence.min_altitude_m must be below max_altitude_m')
        if mis.min_standoff_m > mis.max_standoff_m:
            problems.append('mission.min_standoff_m must not exceed mission.max_standoff_m')
        if self.failsafe.critical_battery_fraction > self.failsafe.low_battery_fraction:
            problems.append('failsafe.critical_battery_fraction must not exceed '
                            'low_battery_fraction')
        if problems:
            raise ConfigError('; '.join(problems))


def flatten(tree: Mapping[str, Any], prefix: str = '') -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}, as ROS flattens nested parameters."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f'{prefix}{key}'
        if isinstance(value, Mapping):
            flat.update(flatten(value, f'{name}.'))
        else:
            flat[name] = value
    return flat
