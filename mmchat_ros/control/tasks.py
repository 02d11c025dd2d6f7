"""Mission tasks: what the vehicle flies for one accepted command (or a failsafe's manoeuvre).

A task steers the manager's reference generator (that is its job) and reads the flight state; it
never writes that state. Each step returns a `Transition`: the outcome when the task ends, and the
state changes the manager applies (mode, home, touchdown).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Protocol

import numpy as np

from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import Mode, Outcome
from mmchat_ros.control.config import ControllerConfig
from mmchat_ros.control.trajectory import ReferenceGenerator
from mmchat_ros.geometry import wrap_pi

#: Touchdown: descending no faster than this (m/s) while the setpoint is below...
TOUCHDOWN_SPEED_MPS = 0.1
#: ...the vehicle by at least this (m), for TOUCHDOWN_HOLD_S seconds.
TOUCHDOWN_SETPOINT_LEAD_M = 0.15
TOUCHDOWN_HOLD_S = 0.5
#: Landing aims this far below home (the ground height is not known); deeper if needed.
LAND_GOAL_BELOW_M = 1.0

#: A tracked target: (time seen in seconds, position, smoothed velocity), world frame.
Target = tuple[float, np.ndarray, np.ndarray]


class Flight(Protocol):
    """What a task reads of the flight (the FlightManager); `ref` is the reference it steers."""

    config: ControllerConfig
    ref: ReferenceGenerator
    estimate: StateEstimate | None
    home: np.ndarray | None
    vehicle_ready: bool
    targets: dict[int, Target]

    def arrived(self, goal: np.ndarray, yaw: float) -> bool:
        """The vehicle is at `goal`, slow and on heading."""


@dataclass(frozen=True)
class Transition:
    """What one task step asks of the manager; all empty: keep going."""

    outcome: Outcome | None = None          # the task ended (request_id '' for a failsafe's)
    mode: Mode | None = None                # switch the state machine to this mode
    home: np.ndarray | None = None          # the new home position
    touchdown: bool = False                 # the vehicle is on the ground: motors to idle


CONTINUE = Transition()


def ended(outcome: Outcome | None) -> Transition:
    """The task ends with `outcome` (None: it goes on)."""
    return CONTINUE if outcome is None else Transition(outcome=outcome)


class Task:
    """One accepted command being flown (or a failsafe's own manoeuvre, request_id '')."""

    mode = Mode.FLYING

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.deadline_s = math.inf

    def start(self, flight: Flight, t: float) -> None:
        """Set the reference going."""

    def step(self, flight: Flight, t: float) -> Transition:
        """Check progress; a Transition with an outcome ends the task."""
        return CONTINUE

    def distance(self, flight: Flight) -> float:
        """Metres left to fly (0 when not meaningful)."""
        return 0.0

    def _plan_deadline(self, flight: Flight, t: float, distance: float, speed: float) -> None:
        mission = flight.config.mission
        self.deadline_s = (t + distance / speed + 2.0 * speed / mission.acceleration_mps2
                           + mission.timeout_margin_s)

    def _timed_out(self, flight: Flight, t: float, what: str) -> Outcome | None:
        if t <= self.deadline_s:
            return None
        flight.ref.hold()
        heading = abs(math.degrees(wrap_pi(flight.ref.goal_yaw - flight.estimate.yaw)))
        return Outcome(self.request_id, False,
                       f'{what} not reached in time ({self.distance(flight):.2f} m, '
                       f'{heading:.0f} deg left); holding position')


class GotoTask(Task):
    """Fly to a position and heading (GOTO, MOVE_BY, YAW_BY, HOVER)."""

    def __init__(self, request_id: str, goal: np.ndarray, speed: float, yaw: float | None,
                 yaw_relative: bool = False, label: str = 'goal') -> None:
        super().__init__(request_id)
        self.goal, self.speed, self.yaw, self.yaw_relative = goal, speed, yaw, yaw_relative
        self.label = label

    def start(self, flight: Flight, t: float) -> None:
        flight.ref.set_goal(self.goal, self.speed)
        if self.yaw is not None:
            flight.ref.set_yaw_goal(self.yaw, relative=self.yaw_relative)
        turn = abs(flight.ref.goal_yaw - flight.ref.yaw) / flight.config.mission.yaw_rate_rps
        self._plan_deadline(flight, t + turn, flight.ref.distance_to_goal, self.speed)

    def step(self, flight: Flight, t: float) -> Transition:
        if flight.ref.settled and flight.arrived(self.goal, flight.ref.goal_yaw):
            x, y, z = flight.estimate.position
            return ended(Outcome(self.request_id, True,
                                 f'reached {self.label} ({x:.2f}, {y:.2f}, {z:.2f})'))
        return ended(self._timed_out(flight, t, self.label))

    def distance(self, flight: Flight) -> float:
        if flight.estimate is None:
            return 0.0
        return float(np.linalg.norm(self.goal - flight.estimate.position))


class HoverTask(GotoTask):
    """Brake at the acceleration limit and hold where the vehicle stops."""

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id, np.zeros(3), 1.0, None, label='hover point')

    def start(self, flight: Flight, t: float) -> None:
        flight.ref.hold()
        self.goal = flight.ref.goal.copy()
        self._plan_deadline(flight, t, flight.ref.distance_to_goal, 1.0)


class TakeoffTask(Task):
    """Arm if needed, wait for the vehicle to be ready, climb to the target height."""

    mode = Mode.TAKING_OFF

    def __init__(self, request_id: str, target_z: float) -> None:
        super().__init__(request_id)
        self.target_z = target_z
        self.goal = np.zeros(3)
        self._climbing = False
        self._ready_deadline_s = math.inf

    def start(self, flight: Flight, t: float) -> None:
        self._ready_deadline_s = t + flight.config.failsafe.arm_timeout_s
        self._hold_ground(flight)

    def _hold_ground(self, flight: Flight) -> None:
        estimate = flight.estimate
        flight.ref.reset(estimate.position, estimate.yaw)
        self.goal = np.array([estimate.position[0], estimate.position[1], self.target_z])

    def step(self, flight: Flight, t: float) -> Transition:
        home = None
        if not self._climbing:
            if not flight.vehicle_ready:
                if t > self._ready_deadline_s:
                    timeout = flight.config.failsafe.arm_timeout_s
                    return Transition(Outcome(self.request_id, False,
                                              f'vehicle not ready (armed, offboard) within '
                                              f'{timeout:g} s'), mode=Mode.LANDED)
                self._hold_ground(flight)
                return CONTINUE
            self._climbing = True
            home = flight.estimate.position.copy()
            speed = flight.config.mission.takeoff_speed_mps
            flight.ref.set_goal(self.goal, speed)
            self._plan_deadline(flight, t, abs(self.target_z - flight.estimate.position[2]), speed)
        if flight.ref.settled and flight.arrived(self.goal, flight.ref.goal_yaw):
            return Transition(Outcome(self.request_id, True,
                                      f'took off to z {flight.estimate.position[2]:.2f} m'),
                              mode=Mode.FLYING, home=home)
        outcome = self._timed_out(flight, t, f'takeoff altitude {self.target_z:.2f} m')
        return Transition(outcome, mode=None if outcome is None else Mode.FLYING, home=home)

    def distance(self, flight: Flight) -> float:
        if flight.estimate is None:
            return 0.0
        return abs(self.target_z - flight.estimate.position[2])


class LandTask(Task):
    """Descend at the landing speed until touchdown is detected, then stop the motors."""

    mode = Mode.LANDING

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id)
        self._touching_since: float | None = None

    def start(self, flight: Flight, t: float) -> None:
        self._aim(flight, flight.estimate.position[2])

    def _aim(self, flight: Flight, from_z: float) -> None:
        home_z = flight.home[2] if flight.home is not None else from_z
        ground = min(home_z, from_z) - LAND_GOAL_BELOW_M
        goal = np.array([flight.ref.position[0], flight.ref.position[1], ground])
        flight.ref.set_goal(goal, flight.config.mission.land_speed_mps)

    def step(self, flight: Flight, t: float) -> Transition:
        estimate = flight.estimate
        if flight.ref.settled:                         # the ground is lower than expected
            self._aim(flight, estimate.position[2])
        if (estimate.velocity[2] > -TOUCHDOWN_SPEED_MPS
                and flight.ref.position[2] < estimate.position[2] - TOUCHDOWN_SETPOINT_LEAD_M):
            if self._touching_since is None:
                self._touching_since = t
            if t - self._touching_since >= TOUCHDOWN_HOLD_S:
                x, y, z = estimate.position
                return Transition(Outcome(self.request_id, True,
                                          f'landed at ({x:.2f}, {y:.2f}, {z:.2f})'),
                                  touchdown=True)
        else:
            self._touching_since = None
        return CONTINUE

    def distance(self, flight: Flight) -> float:
        if flight.estimate is None or flight.home is None:
            return 0.0
        return max(0.0, float(flight.estimate.position[2] - flight.home[2]))


class ReturnHomeTask(Task):
    """Climb to the return altitude if lower, fly above home, land."""

    def __init__(self, request_id: str, cruise_z: float, speed: float) -> None:
        super().__init__(request_id)
        self.cruise_z, self.speed = cruise_z, speed
        self._phase: Task | None = None

    def start(self, flight: Flight, t: float) -> None:
        x, y, z = flight.estimate.position
        if z < self.cruise_z - flight.config.mission.arrival_radius_m:
            self._phase = GotoTask('', np.array([x, y, self.cruise_z]), self.speed, None,
                                   label='return altitude')
        else:
            self._phase = self._cruise(flight)
        self._phase.start(flight, t)

    def _cruise(self, flight: Flight) -> Task:
        return GotoTask('', np.array([flight.home[0], flight.home[1], self.cruise_z]), self.speed,
                        None, label='home')

    def step(self, flight: Flight, t: float) -> Transition:
        change = self._phase.step(flight, t)
        outcome = change.outcome
        if outcome is None:
            return change
        if not outcome.success or isinstance(self._phase, LandTask):
            return replace(change, outcome=Outcome(self.request_id, outcome.success,
                                                   f'return home: {outcome.reason}'))
        climbed = self._phase.label == 'return altitude'
        self._phase = self._cruise(flight) if climbed else LandTask('')
        self._phase.start(flight, t)
        return Transition(mode=self._phase.mode)

    def distance(self, flight: Flight) -> float:
        if flight.estimate is None:
            return 0.0
        x, y, z = flight.estimate.position
        home = flight.home
        return math.hypot(x - home[0], y - home[1]) + max(0.0, z - home[2])


class FollowTask(Task):
    """Keep `standoff` metres (horizontally) from a moving track, facing it, at a fixed height."""

    def __init__(self, request_id: str, track_id: int, standoff: float) -> None:
        super().__init__(request_id)
        self.track_id, self.standoff = track_id, standoff
        self.height = 0.0
        self._started_s = 0.0

    def start(self, flight: Flight, t: float) -> None:
        self.height = float(flight.ref.goal[2])
        self._started_s = t
        flight.ref.hold()

    def step(self, flight: Flight, t: float) -> Transition:
        timeout = flight.config.mission.follow_timeout_s
        target = flight.targets.get(self.track_id)
        if target is None or t - target[0] > timeout:
            if target is None and t - self._started_s <= timeout:
                return CONTINUE
            flight.ref.hold()
            return ended(Outcome(self.request_id, False, f'track {self.track_id} not seen for '
                                                         f'{timeout:g} s; holding position'))
        _, position, velocity = target
        away = flight.estimate.position[:2] - position[:2]
        distance = float(np.linalg.norm(away))
        yaw = flight.estimate.yaw
        direction = away / distance if distance > 1e-3 else np.array(
            [-math.cos(yaw), -math.sin(yaw)])
        goal = np.array([*(position[:2] + self.standoff * direction), self.height])
        problem = flight.config.geofence.violation(goal)
        if problem:
            flight.ref.hold()
            return ended(Outcome(self.request_id, False,
                                 f'follow stopped: standoff point {problem}'))
        flight.ref.set_goal(goal, velocity=np.array([velocity[0], velocity[1], 0.0]))
        if distance > 0.5 * self.standoff:
            flight.ref.set_yaw_goal(math.atan2(-direction[1], -direction[0]))
        return CONTINUE

    def distance(self, flight: Flight) -> float:
        target = flight.targets.get(self.track_id)
        if target is None or flight.estimate is None:
            return 0.0
        offset = flight.estimate.position[:2] - target[1][:2]
        return abs(float(np.linalg.norm(offset)) - self.standoff)
