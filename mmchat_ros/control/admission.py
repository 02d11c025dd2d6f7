"""Admission of commands: one check per verb (the ADMISSION table), and what an accepted one starts.

A check reads the flight state and decides; it changes nothing. The FlightManager applies the
`Admission` it returns (start the task, switch the mode, clear a failsafe). EMERGENCY_STOP is not
in the table: the manager accepts it whatever the message holds.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import TYPE_CHECKING, Callable

import numpy as np

from mmchat_ros.control.commands import AIRBORNE, CommandRequest, Decision, Mode, Verb
from mmchat_ros.control.tasks import (FollowTask, GotoTask, HoverTask, LandTask, ReturnHomeTask,
                                      TakeoffTask, Task)
from mmchat_ros.geometry import yaw_rotation

if TYPE_CHECKING:
    from mmchat_ros.control.manager import FlightManager


@dataclass(frozen=True)
class Admission:
    """A check's answer; when accepted, what the manager does about it."""

    accepted: bool
    reason: str
    task: Task | None = None            # fly this (preempting the running command)
    mode: Mode | None = None            # or switch to this mode at once; the command ends there
    clears_failsafe: bool = False
    land_blind_now: bool = False        # LAND during a stale estimate: descend blind at once

    @property
    def decision(self) -> Decision:
        """The answer for the caller."""
        return Decision(self.accepted, self.reason)


def reject(reason: str) -> Admission:
    """A refusal with its reason."""
    return Admission(False, reason)


def start(task: Task, reason: str, clears_failsafe: bool = False) -> Admission:
    """Accepted: fly `task`."""
    return Admission(True, reason, task=task, clears_failsafe=clears_failsafe)


# ------------------------------------------------------------------------------ shared checks
def flight_problem(flight: FlightManager, t: float) -> str | None:
    """Why the vehicle cannot take an in-flight command now."""
    if flight.mode not in AIRBORNE:
        return f'vehicle is {flight.mode.name}: take off first'
    if not flight.estimate_fresh(t):
        return 'state estimate is stale'
    if not flight.vehicle_ready:
        return 'vehicle not ready yet (arming, offboard)'
    return None


def ground_problem(flight: FlightManager, t: float) -> str | None:
    """Why the vehicle must not arm or take off now."""
    settings = flight.config.failsafe
    if not flight.estimate_fresh(t):
        return f'no fresh state estimate ({flight.estimate_problem})'
    problem = flight.config.geofence.violation(flight.estimate.position, check_floor=False)
    if problem:
        return f'vehicle is outside the geofence: {problem}'
    battery = flight.battery_fraction
    if math.isfinite(battery) and battery < settings.low_battery_fraction:
        return (f'battery {battery:.0%} is below the low-battery threshold '
                f'{settings.low_battery_fraction:.0%}')
    if flight.failsafes.heartbeat_lost(settings.heartbeat_timeout_s, t):
        return f'no operator heartbeat in the last {settings.heartbeat_timeout_s:g} s'
    return None


def speed_problem(flight: FlightManager, speed: float) -> tuple[float, str | None]:
    """The speed to fly (0 asks for the default) or why `speed` is refused."""
    limit = flight.config.limits.max_horizontal_speed_mps
    if speed < 0:
        return 0.0, f'speed_mps {speed:g} is negative'
    if speed > limit:
        return 0.0, f'speed_mps {speed:g} exceeds the limit {limit:g} m/s'
    return (speed or flight.config.mission.default_speed_mps), None


def frame_problem(frame_id: str, allowed: tuple[str, ...]) -> str | None:
    """Why `frame_id` is refused ('' means the verb's default frame)."""
    if frame_id and frame_id not in allowed:
        return f"frame '{frame_id}' not supported here (use {' or '.join(allowed)})"
    return None


def return_home_task(flight: FlightManager, request_id: str) -> tuple[Task | None, str | None]:
    """The flight back above home at the return altitude, or why there is none."""
    if flight.home is None:
        return None, 'no home position (set at takeoff)'
    cruise_z = max(float(flight.estimate.position[2]),
                   float(flight.home[2]) + flight.config.mission.return_altitude_m)
    problem = flight.config.geofence.violation(np.array([*flight.home[:2], cruise_z]))
    if problem:
        return None, f'return altitude: {problem}'
    return ReturnHomeTask(request_id, cruise_z, flight.config.mission.default_speed_mps), None


def _fly_to(flight: FlightManager, command: CommandRequest, goal: np.ndarray, yaw: float,
            relative: bool) -> Admission:
    speed, problem = speed_problem(flight, command.speed_mps)
    problem = problem or flight.config.geofence.violation(goal)
    if problem:
        return reject(problem)
    return start(GotoTask(command.request_id, goal, speed, yaw, relative),
                 f'flying to ({goal[0]:.2f}, {goal[1]:.2f}, {goal[2]:.2f}) at {speed:g} m/s')


# ------------------------------------------------------------------------------ one per verb
def admit_arm(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Motors armed, on the ground."""
    if flight.mode != Mode.DISARMED:
        return reject(f'vehicle is {flight.mode.name}, not DISARMED')
    problem = ground_problem(flight, t)
    if problem:
        return reject(problem)
    return Admission(True, 'armed', mode=Mode.LANDED, clears_failsafe=True)


def admit_disarm(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Motors off (also clears an emergency stop)."""
    if flight.mode in AIRBORNE:
        return reject(f'vehicle is {flight.mode.name}: land or use EMERGENCY_STOP')
    return Admission(True, 'disarmed', mode=Mode.DISARMED, clears_failsafe=True)


def admit_takeoff(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Climb `altitude_m` above the ground position."""
    if flight.mode not in (Mode.DISARMED, Mode.LANDED):
        return reject(f'vehicle is {flight.mode.name}: takeoff needs it on the ground')
    if command.altitude_m <= 0:
        return reject(f'altitude_m {command.altitude_m:g} must be positive')
    problem = ground_problem(flight, t)
    if problem:
        return reject(problem)
    position = flight.estimate.position
    target_z = float(position[2]) + command.altitude_m
    problem = flight.config.geofence.violation(np.array([*position[:2], target_z]))
    if problem:
        return reject(f'takeoff altitude {command.altitude_m:g} m: {problem}')
    return start(TakeoffTask(command.request_id, target_z), f'taking off to z {target_z:.2f} m',
                 clears_failsafe=True)


def admit_land(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Land where the vehicle is (blind, at once, when the estimate is stale)."""
    if flight.mode not in AIRBORNE:
        return reject(f'vehicle is {flight.mode.name}: already on the ground')
    if flight.failsafes.blind:
        return Admission(True, 'landing blind (state estimate stale)', land_blind_now=True)
    return start(LandTask(command.request_id), 'landing')


def admit_hover(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Brake and hold."""
    problem = flight_problem(flight, t)
    if problem:
        return reject(problem)
    return start(HoverTask(command.request_id), 'holding position')


def admit_goto(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Fly to a point of a world frame."""
    problem = flight_problem(flight, t) or frame_problem(command.frame_id, flight.world_frames)
    if problem:
        return reject(problem)
    goal = np.array([command.x_m, command.y_m, command.z_m])
    return _fly_to(flight, command, goal, command.yaw_rad, False)


def admit_move_by(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Fly by an offset: body frame (FLU, levelled by heading) or a world frame."""
    problem = flight_problem(flight, t) or frame_problem(
        command.frame_id, flight.body_frames + flight.world_frames)
    if problem:
        return reject(problem)
    offset = np.array([command.x_m, command.y_m, command.z_m])
    if not command.frame_id or command.frame_id in flight.body_frames:
        offset = yaw_rotation(flight.estimate.yaw) @ offset
    return _fly_to(flight, command, flight.ref.position + offset, 0.0, True)


def admit_yaw_by(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Turn by `yaw_rad` where the vehicle stops."""
    problem = flight_problem(flight, t)
    if problem:
        return reject(problem)
    task = GotoTask(command.request_id, flight.ref.stopping_point(),
                    flight.config.mission.default_speed_mps, command.yaw_rad, yaw_relative=True,
                    label='heading')
    return start(task, f'turning by {math.degrees(command.yaw_rad):.1f} deg')


def admit_follow_track(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Follow a track at a standoff within the mission limits."""
    problem = flight_problem(flight, t)
    if problem:
        return reject(problem)
    mission = flight.config.mission
    if command.track_id < 0:
        return reject(f'track_id {command.track_id} is not a track')
    if not mission.min_standoff_m <= command.standoff_m <= mission.max_standoff_m:
        return reject(f'standoff_m {command.standoff_m:g} is outside '
                      f'[{mission.min_standoff_m:g}, {mission.max_standoff_m:g}] m')
    return start(FollowTask(command.request_id, command.track_id, command.standoff_m),
                 f'following track {command.track_id} at {command.standoff_m:g} m')


def admit_return_home(flight: FlightManager, command: CommandRequest, t: float) -> Admission:
    """Fly back above home and land."""
    problem = flight_problem(flight, t)
    if problem:
        return reject(problem)
    task, problem = return_home_task(flight, command.request_id)
    if problem:
        return reject(problem)
    return start(task, f'returning home to ({flight.home[0]:.2f}, {flight.home[1]:.2f})')


Check = Callable[['FlightManager', CommandRequest, float], Admission]

#: The check of every verb but EMERGENCY_STOP.
ADMISSION: dict[Verb, Check] = {
    Verb.TAKEOFF: admit_takeoff,
    Verb.LAND: admit_land,
    Verb.HOVER: admit_hover,
    Verb.GOTO: admit_goto,
    Verb.MOVE_BY: admit_move_by,
    Verb.YAW_BY: admit_yaw_by,
    Verb.FOLLOW_TRACK: admit_follow_track,
    Verb.RETURN_HOME: admit_return_home,
    Verb.ARM: admit_arm,
    Verb.DISARM: admit_disarm,
}
