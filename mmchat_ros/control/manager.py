"""The flight manager: vehicle state machine, command checks, mission tasks and failsafes.

ROS-free and interface-free: it takes state estimates, battery readings, operator authorisation and
heartbeats, commands and follow targets, each with a time in seconds, and every control step
returns a Setpoint for the vehicle interface (motor cascade, MAVLink offboard, or cmd_vel).

Rules (each one is tested):
- Every command is checked before anything acts on it: known verb, finite numbers, an authorised
  operator for sources other than the API, speeds within the limits, goals inside the geofence, a
  mode in which the verb makes sense, a fresh state estimate. A command that fails any check is
  rejected with the reason; nothing is clamped into something else.
- EMERGENCY_STOP is always accepted and always wins: motors off, mode EMERGENCY (DISARM clears it).
- A newer accepted command preempts the running one, whose outcome says so.
- Failsafes (while airborne), highest priority first: stale or NaN state estimate -> hover on
  attitude alone (last trim, climb rate from the IMU), then a blind landing; geofence breach -> land; critical battery -> land; low
  battery -> return home and land; operator heartbeat lost or flying idle too long -> hover, then
  land after a delay. Each is logged and reported with its reason.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import (AIRBORNE, Authorisation, CommandRequest, Decision, Failsafe,
                                         Mode, Outcome, OutputKind, Setpoint, Source, Verb)
from mmchat_ros.control.config import ControllerConfig
from mmchat_ros.control.geometry import finite, wrap_pi, yaw_rotation
from mmchat_ros.control.trajectory import MotionLimits, ReferenceGenerator

#: Touchdown: descending no faster than this (m/s) while the setpoint is below...
TOUCHDOWN_SPEED_MPS = 0.1
#: ...the vehicle by at least this (m), for TOUCHDOWN_HOLD_S seconds.
TOUCHDOWN_SETPOINT_LEAD_M = 0.15
TOUCHDOWN_HOLD_S = 0.5
#: A blind landing counts as touched down after this long not descending (IMU climb rate).
BLIND_TOUCHDOWN_HOLD_S = 1.0
#: Landing aims this far below home (the ground height is not known); deeper if needed.
LAND_GOAL_BELOW_M = 1.0
#: Largest step the reference integrates at once (a stalled caller must not make it jump).
MAX_STEP_S = 0.1
#: Follow: low-pass factor of the target velocity estimate (per update).
TARGET_VELOCITY_SMOOTHING = 0.3
#: Tracks unseen this long are forgotten.
TARGET_MEMORY_S = 60.0

Log = Callable[[str, str], None]         # (level: 'info' | 'warn' | 'error', message)


class Task:
    """One accepted command being flown (or a failsafe's own manoeuvre, request_id '')."""

    mode = Mode.FLYING

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.deadline_s = math.inf

    def start(self, m: 'FlightManager', t: float) -> None:
        """Set the reference going."""

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        """Check progress; an Outcome ends the task."""
        return None

    def distance(self, m: 'FlightManager') -> float:
        """Metres left to fly (0 when not meaningful)."""
        return 0.0

    def _plan_deadline(self, m: 'FlightManager', t: float, distance: float, speed: float) -> None:
        mission = m.config.mission
        self.deadline_s = (t + distance / speed + 2.0 * speed / mission.acceleration_mps2
                           + mission.timeout_margin_s)

    def _timed_out(self, m: 'FlightManager', t: float, what: str) -> Outcome | None:
        if t <= self.deadline_s:
            return None
        m.ref.hold()
        heading = abs(math.degrees(wrap_pi(m.ref.goal_yaw - m.estimate.yaw)))
        return Outcome(self.request_id, False, f'{what} not reached in time ({self.distance(m):.2f} '
                                               f'm, {heading:.0f} deg left); holding position')


class GotoTask(Task):
    """Fly to a position and heading (GOTO, MOVE_BY, YAW_BY, HOVER)."""

    def __init__(self, request_id: str, goal: np.ndarray, speed: float, yaw: float | None,
                 yaw_relative: bool = False, label: str = 'goal') -> None:
        super().__init__(request_id)
        self.goal, self.speed, self.yaw, self.yaw_relative = goal, speed, yaw, yaw_relative
        self.label = label

    def start(self, m: 'FlightManager', t: float) -> None:
        m.ref.set_goal(self.goal, self.speed)
        if self.yaw is not None:
            m.ref.set_yaw_goal(self.yaw, relative=self.yaw_relative)
        turn = abs(m.ref.goal_yaw - m.ref.yaw) / m.config.mission.yaw_rate_rps
        self._plan_deadline(m, t + turn, m.ref.distance_to_goal, self.speed)

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        if m.ref.settled and m.arrived(self.goal, m.ref.goal_yaw):
            p = m.estimate.position
            return Outcome(self.request_id, True,
                           f'reached {self.label} ({p[0]:.2f}, {p[1]:.2f}, {p[2]:.2f})')
        return self._timed_out(m, t, self.label)

    def distance(self, m: 'FlightManager') -> float:
        return float(np.linalg.norm(self.goal - m.estimate.position)) if m.estimate else 0.0


class HoverTask(GotoTask):
    """Brake at the acceleration limit and hold where the vehicle stops."""

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id, np.zeros(3), 1.0, None, label='hover point')

    def start(self, m: 'FlightManager', t: float) -> None:
        m.ref.hold()
        self.goal = m.ref.goal.copy()
        self._plan_deadline(m, t, m.ref.distance_to_goal, 1.0)


class TakeoffTask(Task):
    """Arm if needed, wait for the vehicle to be ready, climb to the target height."""

    mode = Mode.TAKING_OFF

    def __init__(self, request_id: str, target_z: float) -> None:
        super().__init__(request_id)
        self.target_z = target_z
        self.goal = np.zeros(3)
        self._climbing = False
        self._ready_deadline_s = math.inf

    def start(self, m: 'FlightManager', t: float) -> None:
        self._ready_deadline_s = t + m.config.failsafe.arm_timeout_s
        self._hold_ground(m)

    def _hold_ground(self, m: 'FlightManager') -> None:
        e = m.estimate
        m.ref.reset(e.position, e.yaw)
        self.goal = np.array([e.position[0], e.position[1], self.target_z])

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        if not self._climbing:
            if not m.vehicle_ready:
                if t > self._ready_deadline_s:
                    m.mode, m.landed_since_s = Mode.LANDED, t
                    return Outcome(self.request_id, False,
                                   f'vehicle not ready (armed, offboard) within '
                                   f'{m.config.failsafe.arm_timeout_s:g} s')
                self._hold_ground(m)
                return None
            self._climbing = True
            m.home = m.estimate.position.copy()
            speed = m.config.mission.takeoff_speed_mps
            m.ref.set_goal(self.goal, speed)
            self._plan_deadline(m, t, abs(self.target_z - m.estimate.position[2]), speed)
        if m.ref.settled and m.arrived(self.goal, m.ref.goal_yaw):
            m.mode = Mode.FLYING
            return Outcome(self.request_id, True, f'took off to z {m.estimate.position[2]:.2f} m')
        outcome = self._timed_out(m, t, f'takeoff altitude {self.target_z:.2f} m')
        if outcome is not None:
            m.mode = Mode.FLYING
        return outcome

    def distance(self, m: 'FlightManager') -> float:
        return abs(self.target_z - m.estimate.position[2]) if m.estimate else 0.0


class LandTask(Task):
    """Descend at the landing speed until touchdown is detected, then stop the motors."""

    mode = Mode.LANDING

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id)
        self._touching_since: float | None = None

    def start(self, m: 'FlightManager', t: float) -> None:
        self._aim(m, m.estimate.position[2])

    def _aim(self, m: 'FlightManager', from_z: float) -> None:
        ground = min(m.home[2] if m.home is not None else from_z, from_z) - LAND_GOAL_BELOW_M
        goal = np.array([m.ref.position[0], m.ref.position[1], ground])
        speed = m.config.mission.land_speed_mps
        m.ref.set_goal(goal, speed)

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        e = m.estimate
        if m.ref.settled:                         # the ground is lower than expected
            self._aim(m, e.position[2])
        if (e.velocity[2] > -TOUCHDOWN_SPEED_MPS
                and m.ref.position[2] < e.position[2] - TOUCHDOWN_SETPOINT_LEAD_M):
            self._touching_since = t if self._touching_since is None else self._touching_since
            if t - self._touching_since >= TOUCHDOWN_HOLD_S:
                m.touchdown(t)
                return Outcome(self.request_id, True, f'landed at ({e.position[0]:.2f}, '
                                                      f'{e.position[1]:.2f}, {e.position[2]:.2f})')
        else:
            self._touching_since = None
        return None

    def distance(self, m: 'FlightManager') -> float:
        if m.estimate is None or m.home is None:
            return 0.0
        return max(0.0, float(m.estimate.position[2] - m.home[2]))


class ReturnHomeTask(Task):
    """Climb to the return altitude if lower, fly above home, land."""

    def __init__(self, request_id: str, cruise_z: float, speed: float) -> None:
        super().__init__(request_id)
        self.cruise_z, self.speed = cruise_z, speed
        self._phase: Task | None = None

    def start(self, m: 'FlightManager', t: float) -> None:
        p = m.estimate.position
        if p[2] < self.cruise_z - m.config.mission.arrival_radius_m:
            self._phase = GotoTask('', np.array([p[0], p[1], self.cruise_z]), self.speed, None,
                                   label='return altitude')
        else:
            self._phase = self._cruise(m)
        self._phase.start(m, t)

    def _cruise(self, m: 'FlightManager') -> Task:
        return GotoTask('', np.array([m.home[0], m.home[1], self.cruise_z]), self.speed, None,
                        label='home')

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        outcome = self._phase.step(m, t)
        if outcome is None:
            return None
        if not outcome.success or isinstance(self._phase, LandTask):
            return Outcome(self.request_id, outcome.success, f'return home: {outcome.reason}')
        self._phase = self._cruise(m) if self._phase.label == 'return altitude' else LandTask('')
        m.mode = self._phase.mode
        self._phase.start(m, t)
        return None

    def distance(self, m: 'FlightManager') -> float:
        if m.estimate is None:
            return 0.0
        p = m.estimate.position
        return math.hypot(p[0] - m.home[0], p[1] - m.home[1]) + max(0.0, p[2] - m.home[2])


class FollowTask(Task):
    """Keep `standoff` metres (horizontally) from a moving track, facing it, at a fixed height."""

    def __init__(self, request_id: str, track_id: int, standoff: float) -> None:
        super().__init__(request_id)
        self.track_id, self.standoff = track_id, standoff
        self.height = 0.0
        self._started_s = 0.0

    def start(self, m: 'FlightManager', t: float) -> None:
        self.height = float(m.ref.goal[2])
        self._started_s = t
        m.ref.hold()

    def step(self, m: 'FlightManager', t: float) -> Outcome | None:
        timeout = m.config.mission.follow_timeout_s
        target = m.targets.get(self.track_id)
        if target is None or t - target[0] > timeout:
            if target is None and t - self._started_s <= timeout:
                return None
            m.ref.hold()
            return Outcome(self.request_id, False, f'track {self.track_id} not seen for '
                                                   f'{timeout:g} s; holding position')
        _, position, velocity = target
        here = m.estimate.position
        away = here[:2] - position[:2]
        distance = float(np.linalg.norm(away))
        direction = away / distance if distance > 1e-3 else np.array(
            [-math.cos(m.estimate.yaw), -math.sin(m.estimate.yaw)])
        goal = np.array([*(position[:2] + self.standoff * direction), self.height])
        problem = m.config.geofence.violation(goal)
        if problem:
            m.ref.hold()
            return Outcome(self.request_id, False, f'follow stopped: standoff point {problem}')
        m.ref.set_goal(goal, velocity=np.array([velocity[0], velocity[1], 0.0]))
        if distance > 0.5 * self.standoff:
            m.ref.set_yaw_goal(math.atan2(-direction[1], -direction[0]))
        return None

    def distance(self, m: 'FlightManager') -> float:
        target = m.targets.get(self.track_id)
        if target is None or m.estimate is None:
            return 0.0
        return abs(float(np.linalg.norm(m.estimate.position[:2] - target[1][:2])) - self.standoff)


class FlightManager:
    """See the module docstring. Call `step` at the position-loop rate."""

    def __init__(self, config: ControllerConfig, world_frames: tuple[str, ...] = ('odom',),
                 body_frames: tuple[str, ...] = ('base_link',), log: Log | None = None) -> None:
        self.config = config
        self.world_frames = tuple(world_frames)
        self.body_frames = tuple(body_frames)
        self._log = log or (lambda level, message: None)
        mission, limits = config.mission, config.limits
        self.ref = ReferenceGenerator(MotionLimits(
            limits.max_horizontal_speed_mps, limits.max_vertical_speed_mps,
            mission.acceleration_mps2, mission.yaw_rate_rps, mission.yaw_acceleration_rps2))
        self.mode = Mode.DISARMED
        self.failsafe = Failsafe.NONE
        self.failsafe_reason = ''
        self.estimate: StateEstimate | None = None
        self.home: np.ndarray | None = None
        self.battery_fraction = math.nan
        self.battery_voltage = math.nan
        self.vehicle_ready = True
        self.targets: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
        self._estimate_problem = 'no state estimate received yet'
        self._authorisation: Authorisation | None = None
        self._last_heartbeat_s: float | None = None
        self._last_activity_s = 0.0
        self._task: Task | None = None
        self._outcomes: list[Outcome] = []
        self._last_step_s: float | None = None
        self.landed_since_s = 0.0
        self._land_at_s: float | None = None          # timeout failsafe: when the hover ends
        self._heartbeat_failsafe = False
        self._blind_since_s: float | None = None       # stale estimate: attitude-only flight
        self._blind_still_since_s: float | None = None
        self._inertial_vertical_speed = 0.0

    # ----------------------------------------------------------------------------------- inputs
    def update_estimate(self, estimate: StateEstimate) -> bool:
        """Take a new state estimate; one with NaN/inf is refused (the last good one ages)."""
        if not finite(estimate.stamp_s, estimate.position, estimate.velocity,
                      estimate.orientation, estimate.angular_velocity):
            self._estimate_problem = 'the latest estimate had NaN or infinite values'
            return False
        self.estimate = estimate
        self._estimate_problem = 'no newer estimate arrived'
        return True

    def update_battery(self, fraction: float, voltage: float = math.nan) -> None:
        """Remaining charge 0..1 (NaN: unknown) and voltage."""
        self.battery_fraction, self.battery_voltage = float(fraction), float(voltage)

    def update_authorisation(self, authorisation: Authorisation) -> None:
        """The latest AuthState."""
        self._authorisation = authorisation

    def heartbeat(self, t: float) -> None:
        """The operator is there."""
        self._last_heartbeat_s = t

    def update_target(self, track_id: int, position: np.ndarray, stamp_s: float) -> None:
        """A position (world frame) of a tracked target, for FOLLOW_TRACK."""
        position = np.asarray(position, dtype=float)
        if not finite(position, stamp_s):
            return
        velocity = np.zeros(3)
        previous = self.targets.get(track_id)
        if previous is not None and stamp_s > previous[0]:
            measured = (position - previous[1]) / (stamp_s - previous[0])
            velocity = previous[2] + TARGET_VELOCITY_SMOOTHING * (measured - previous[2])
        elif previous is not None:
            return
        self.targets[track_id] = (stamp_s, position, velocity)
        forget = stamp_s - TARGET_MEMORY_S
        for stale in [k for k, (seen, _, _) in self.targets.items() if seen < forget]:
            del self.targets[stale]

    def update_inertial_vertical_speed(self, vertical_speed: float) -> None:
        """Climb rate integrated from the IMU: the only vertical cue during a blind landing."""
        self._inertial_vertical_speed = vertical_speed

    def set_vehicle_ready(self, ready: bool) -> None:
        """Whether the vehicle accepts setpoints (armed and in offboard/guided); sim: always."""
        self.vehicle_ready = ready

    def vehicle_disarmed(self, t: float, reason: str) -> None:
        """The vehicle disarmed itself (autopilot, RC): follow it to DISARMED."""
        if self.mode == Mode.DISARMED:
            return
        self._end_task(False, f'vehicle disarmed: {reason}')
        self._log('warn', f'vehicle disarmed by itself: {reason}')
        self.mode = Mode.DISARMED

    # --------------------------------------------------------------------------------- outputs
    @property
    def armed(self) -> bool:
        """Motors may spin."""
        return self.mode not in (Mode.DISARMED, Mode.EMERGENCY)

    @property
    def active_request_id(self) -> str:
        """The command being flown, '' when none (or a failsafe manoeuvre)."""
        return self._task.request_id if self._task else ''

    @property
    def distance_remaining(self) -> float:
        """Metres left for the running command."""
        return self._task.distance(self) if self._task else 0.0

    def pop_outcomes(self) -> list[Outcome]:
        """Outcomes of commands that ended since the last call."""
        outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def estimate_fresh(self, t: float) -> bool:
        """A state estimate no older than failsafe.state_timeout_s."""
        return (self.estimate is not None
                and t - self.estimate.stamp_s <= self.config.failsafe.state_timeout_s)

    def arrived(self, goal: np.ndarray, yaw: float) -> bool:
        """The vehicle is at `goal`, slow and on heading (mission.arrival_*)."""
        m, e = self.config.mission, self.estimate
        return (float(np.linalg.norm(e.position - goal)) <= m.arrival_radius_m
                and float(np.linalg.norm(e.velocity)) <= m.arrival_speed_mps
                and abs(wrap_pi(e.yaw - yaw)) <= m.arrival_yaw_rad)

    # -------------------------------------------------------------------------------- commands
    def submit(self, command: CommandRequest, t: float) -> Decision:
        """Check a command and, when it passes, start it. Every rejection is logged."""
        decision = self._decide(command, t)
        if decision.accepted:
            self._log('info', f'{command.verb_name} {command.request_id} accepted: {decision.reason}')
        else:
            self._log('warn', f'{command.verb_name} {command.request_id or "(no id)"} rejected: '
                              f'{decision.reason}')
        return decision

    def cancel(self, request_id: str, t: float) -> bool:
        """Stop the running command `request_id` and hold position; False if it is not running."""
        if not request_id or self.active_request_id != request_id:
            return False
        self._end_task(False, 'canceled; holding position')
        if self.mode in AIRBORNE:
            self.mode = Mode.FLYING
            self.ref.hold()
        self._last_activity_s = t
        return True

    def _decide(self, c: CommandRequest, t: float) -> Decision:
        try:
            verb = Verb(c.verb)
        except ValueError:
            return Decision(False, f'unknown verb {c.verb} (known: '
                                   f"{', '.join(f'{v.name}={v.value}' for v in Verb)})")
        if verb == Verb.EMERGENCY_STOP:           # whatever else the message holds
            self._emergency_stop(t, f"emergency stop by {c.request_id or '(no id)'}")
            if c.request_id:
                self._outcomes.append(Outcome(c.request_id, True, 'motors stopped'))
            return Decision(True, 'motors stopped')
        if not c.request_id:
            return Decision(False, 'request_id is empty')
        bad = c.non_finite_fields()
        if bad:
            return Decision(False, f"non-finite argument(s): {', '.join(bad)}")
        problem = self._authorisation_problem(c, t)
        if problem:
            return Decision(False, problem)
        problem = self._failsafe_problem(verb)
        if problem:
            return Decision(False, problem)
        return getattr(self, f'_accept_{verb.name.lower()}')(c, t)

    def _authorisation_problem(self, c: CommandRequest, t: float) -> str | None:
        if c.source == Source.API:
            return None
        if c.source not in tuple(Source):
            return f'unknown source {c.source}'
        if not self.config.require_authorised_operator:
            return None
        a = self._authorisation
        who = f"operator '{c.operator_id}'" if c.operator_id else 'no operator_id given'
        if a is None:
            return f'not authorised: no authentication state received ({who})'
        if not a.authorised:
            return f"not authorised: operator '{a.operator_id}' is not authenticated"
        if not c.operator_id or c.operator_id != a.operator_id:
            return f"not authorised: {who} is not the authenticated operator '{a.operator_id}'"
        if a.expires_s <= t:
            return f'not authorised: authorisation expired {t - a.expires_s:.1f} s ago'
        return None

    def _failsafe_problem(self, verb: Verb) -> str | None:
        allowed = {Failsafe.STATE_STALE: (Verb.LAND,), Failsafe.GEOFENCE: (Verb.LAND,),
                   Failsafe.LOW_BATTERY: (Verb.LAND, Verb.RETURN_HOME)}
        if self.mode in AIRBORNE and self.failsafe in allowed and verb not in allowed[self.failsafe]:
            return f'failsafe active ({self.failsafe_reason}); only ' + ', '.join(
                v.name for v in (*allowed[self.failsafe], Verb.EMERGENCY_STOP)) + ' accepted'
        if self._heartbeat_failsafe and verb != Verb.LAND:
            return f'failsafe active ({self.failsafe_reason}); only LAND, EMERGENCY_STOP accepted'
        return None

    def _flight_problem(self, t: float) -> str | None:
        if self.mode not in AIRBORNE:
            return f'vehicle is {self.mode.name}: take off first'
        if not self.estimate_fresh(t):
            return 'state estimate is stale'
        if not self.vehicle_ready:
            return 'vehicle not ready yet (arming, offboard)'
        return None

    def _speed_problem(self, speed: float) -> tuple[float, str | None]:
        limit = self.config.limits.max_horizontal_speed_mps
        if speed < 0:
            return 0.0, f'speed_mps {speed:g} is negative'
        if speed > limit:
            return 0.0, f'speed_mps {speed:g} exceeds the limit {limit:g} m/s'
        return (speed or self.config.mission.default_speed_mps), None

    def _frame_problem(self, frame_id: str, allowed: tuple[str, ...]) -> str | None:
        if frame_id and frame_id not in allowed:
            return f"frame '{frame_id}' not supported here (use {' or '.join(allowed)})"
        return None

    def _accept_arm(self, c: CommandRequest, t: float) -> Decision:
        if self.mode != Mode.DISARMED:
            return Decision(False, f'vehicle is {self.mode.name}, not DISARMED')
        problem = self._ground_problem(t)
        if problem:
            return Decision(False, problem)
        self._clear_failsafe()
        self._start(c.request_id, None, t)
        self.mode, self.landed_since_s = Mode.LANDED, t
        self._outcomes.append(Outcome(c.request_id, True, 'armed'))
        return Decision(True, 'armed')

    def _accept_disarm(self, c: CommandRequest, t: float) -> Decision:
        if self.mode in AIRBORNE:
            return Decision(False, f'vehicle is {self.mode.name}: land or use EMERGENCY_STOP')
        self._start(c.request_id, None, t)
        self._clear_failsafe()
        self.mode = Mode.DISARMED
        self._outcomes.append(Outcome(c.request_id, True, 'disarmed'))
        return Decision(True, 'disarmed')

    def _ground_problem(self, t: float) -> str | None:
        f = self.config.failsafe
        if not self.estimate_fresh(t):
            return f'no fresh state estimate ({self._estimate_problem})'
        problem = self.config.geofence.violation(self.estimate.position, check_floor=False)
        if problem:
            return f'vehicle is outside the geofence: {problem}'
        if (math.isfinite(self.battery_fraction)
                and self.battery_fraction < f.low_battery_fraction):
            return (f'battery {self.battery_fraction:.0%} is below the low-battery threshold '
                    f'{f.low_battery_fraction:.0%}')
        if f.heartbeat_timeout_s > 0 and (self._last_heartbeat_s is None
                                          or t - self._last_heartbeat_s > f.heartbeat_timeout_s):
            return f'no operator heartbeat in the last {f.heartbeat_timeout_s:g} s'
        return None

    def _accept_takeoff(self, c: CommandRequest, t: float) -> Decision:
        if self.mode not in (Mode.DISARMED, Mode.LANDED):
            return Decision(False, f'vehicle is {self.mode.name}: takeoff needs it on the ground')
        if c.altitude_m <= 0:
            return Decision(False, f'altitude_m {c.altitude_m:g} must be positive')
        problem = self._ground_problem(t)
        if problem:
            return Decision(False, problem)
        target_z = float(self.estimate.position[2]) + c.altitude_m
        problem = self.config.geofence.violation(
            np.array([*self.estimate.position[:2], target_z]))
        if problem:
            return Decision(False, f'takeoff altitude {c.altitude_m:g} m: {problem}')
        self._clear_failsafe()
        self._start(c.request_id, TakeoffTask(c.request_id, target_z), t)
        return Decision(True, f'taking off to z {target_z:.2f} m')

    def _accept_land(self, c: CommandRequest, t: float) -> Decision:
        if self.mode not in AIRBORNE:
            return Decision(False, f'vehicle is {self.mode.name}: already on the ground')
        if self._blind_since_s is not None:              # stale estimate: descend blind now
            self._blind_since_s = min(self._blind_since_s, t - self.config.failsafe.stale_hover_s)
            return Decision(True, 'landing blind (state estimate stale)')
        self._start(c.request_id, LandTask(c.request_id), t)
        return Decision(True, 'landing')

    def _accept_hover(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t)
        if problem:
            return Decision(False, problem)
        self._start(c.request_id, HoverTask(c.request_id), t)
        return Decision(True, 'holding position')

    def _accept_goto(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t) or self._frame_problem(c.frame_id, self.world_frames)
        if problem:
            return Decision(False, problem)
        return self._accept_position(c, np.array([c.x_m, c.y_m, c.z_m]), c.yaw_rad, False, t)

    def _accept_move_by(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t) or self._frame_problem(
            c.frame_id, self.body_frames + self.world_frames)
        if problem:
            return Decision(False, problem)
        offset = np.array([c.x_m, c.y_m, c.z_m])
        if not c.frame_id or c.frame_id in self.body_frames:      # FLU, levelled by heading
            offset = yaw_rotation(self.estimate.yaw) @ offset
        return self._accept_position(c, self.ref.position + offset, 0.0, True, t)

    def _accept_yaw_by(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t)
        if problem:
            return Decision(False, problem)
        self._start(c.request_id, GotoTask(c.request_id, self.ref.stopping_point(),
                                           self.config.mission.default_speed_mps, c.yaw_rad,
                                           yaw_relative=True, label='heading'), t)
        return Decision(True, f'turning by {math.degrees(c.yaw_rad):.1f} deg')

    def _accept_position(self, c: CommandRequest, goal: np.ndarray, yaw: float, relative: bool,
                         t: float) -> Decision:
        speed, problem = self._speed_problem(c.speed_mps)
        problem = problem or self.config.geofence.violation(goal)
        if problem:
            return Decision(False, problem)
        self._start(c.request_id, GotoTask(c.request_id, goal, speed, yaw, relative), t)
        return Decision(True, f'flying to ({goal[0]:.2f}, {goal[1]:.2f}, {goal[2]:.2f}) '
                              f'at {speed:g} m/s')

    def _accept_follow_track(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t)
        m = self.config.mission
        if problem:
            return Decision(False, problem)
        if c.track_id < 0:
            return Decision(False, f'track_id {c.track_id} is not a track')
        if not m.min_standoff_m <= c.standoff_m <= m.max_standoff_m:
            return Decision(False, f'standoff_m {c.standoff_m:g} is outside '
                                   f'[{m.min_standoff_m:g}, {m.max_standoff_m:g}] m')
        self._start(c.request_id, FollowTask(c.request_id, c.track_id, c.standoff_m), t)
        return Decision(True, f'following track {c.track_id} at {c.standoff_m:g} m')

    def _accept_return_home(self, c: CommandRequest, t: float) -> Decision:
        problem = self._flight_problem(t)
        if problem:
            return Decision(False, problem)
        task, problem = self._return_home_task(c.request_id)
        if problem:
            return Decision(False, problem)
        self._start(c.request_id, task, t)
        return Decision(True, f'returning home to ({self.home[0]:.2f}, {self.home[1]:.2f})')

    def _return_home_task(self, request_id: str) -> tuple[Task | None, str | None]:
        if self.home is None:
            return None, 'no home position (set at takeoff)'
        cruise_z = max(float(self.estimate.position[2]),
                       float(self.home[2]) + self.config.mission.return_altitude_m)
        problem = self.config.geofence.violation(np.array([*self.home[:2], cruise_z]))
        if problem:
            return None, f'return altitude: {problem}'
        return ReturnHomeTask(request_id, cruise_z, self.config.mission.default_speed_mps), None

    # ---------------------------------------------------------------------------- task control
    def _start(self, request_id: str, task: Task | None, t: float) -> None:
        if self._task is not None:
            self._end_task(False, f'preempted by {request_id}' if request_id else 'preempted')
        self._last_activity_s = t
        if self.failsafe == Failsafe.COMMAND_TIMEOUT and not self._heartbeat_failsafe and request_id:
            self._clear_failsafe()
        self._task = task
        if task is not None:
            self.mode = task.mode
            task.start(self, t)

    def _end_task(self, success: bool, reason: str) -> None:
        task, self._task = self._task, None
        if task is not None and task.request_id:
            self._outcomes.append(Outcome(task.request_id, success, reason))

    def touchdown(self, t: float) -> None:
        """The vehicle is on the ground: motors to idle, LANDED."""
        self.mode, self.landed_since_s = Mode.LANDED, t
        self._blind_since_s = None
        self._land_at_s = None
        self._log('info', 'touchdown')

    # ------------------------------------------------------------------------------- failsafes
    def _raise_failsafe(self, kind: Failsafe, reason: str) -> None:
        self.failsafe, self.failsafe_reason = kind, reason
        self._log('error' if kind in (Failsafe.EMERGENCY_STOP, Failsafe.STATE_STALE) else 'warn',
                  f'FAILSAFE {kind.name}: {reason}')

    def _clear_failsafe(self) -> None:
        if self.failsafe != Failsafe.NONE:
            self._log('info', f'failsafe {self.failsafe.name} cleared')
        self.failsafe, self.failsafe_reason = Failsafe.NONE, ''
        self._land_at_s = None
        self._heartbeat_failsafe = False

    def _failsafe_task(self, task: Task, t: float, reason: str) -> None:
        if self._task is not None:
            self._end_task(False, f'aborted by failsafe: {reason}')
        self._task = task
        self.mode = task.mode
        task.start(self, t)

    def _emergency_stop(self, t: float, reason: str) -> None:
        self._end_task(False, f'aborted: {reason}')
        self._land_at_s = self._blind_since_s = None
        self._heartbeat_failsafe = False
        self.mode = Mode.EMERGENCY
        self._raise_failsafe(Failsafe.EMERGENCY_STOP, reason)

    def _check_failsafes(self, t: float) -> None:
        if self.mode not in AIRBORNE:
            return
        f = self.config.failsafe
        if not self.estimate_fresh(t):
            if self._blind_since_s is None:
                age = 'never received' if self.estimate is None else \
                    f'last good one {t - self.estimate.stamp_s:.2f} s old'
                self._end_task(False, 'aborted by failsafe: state estimate stale')
                self._blind_still_since_s = None
                # Already landing: descend blind at once; otherwise hover level first.
                self._blind_since_s = t - (f.stale_hover_s if self.mode == Mode.LANDING else 0.0)
                self.mode = Mode.FLYING
                self._raise_failsafe(Failsafe.STATE_STALE, f'state estimate stale ({age}; '
                                     f'{self._estimate_problem}): hovering on attitude, then landing')
            return
        if self._blind_since_s is not None:
            self._recover_from_blind(t)
            return
        e = self.estimate
        if self.failsafe != Failsafe.GEOFENCE:
            problem = self.config.geofence.violation(e.position, f.geofence_margin_m,
                                                     check_floor=False)
            if problem:
                self._raise_failsafe(Failsafe.GEOFENCE, f'geofence breached: {problem}; landing')
                self._failsafe_task(LandTask(''), t, self.failsafe_reason)
                return
        if self.failsafe in (Failsafe.GEOFENCE, Failsafe.STATE_STALE):
            return
        self._check_battery(t)
        if self.failsafe == Failsafe.LOW_BATTERY:
            return
        self._check_timeouts(t)

    def _check_battery(self, t: float) -> None:
        f, fraction = self.config.failsafe, self.battery_fraction
        if not math.isfinite(fraction) or fraction >= f.low_battery_fraction:
            return
        critical = fraction < f.critical_battery_fraction
        if self.failsafe == Failsafe.LOW_BATTERY and (not critical or self.mode == Mode.LANDING):
            return
        task, problem = (None, None) if critical else self._return_home_task('')
        if task is None:
            why = 'critical' if critical else f'low ({problem})'
            self._raise_failsafe(Failsafe.LOW_BATTERY, f'battery {fraction:.0%} {why}: landing')
            self._failsafe_task(LandTask(''), t, self.failsafe_reason)
        else:
            self._raise_failsafe(Failsafe.LOW_BATTERY,
                                 f'battery {fraction:.0%} low: returning home, then landing')
            self._failsafe_task(task, t, self.failsafe_reason)

    def _check_timeouts(self, t: float) -> None:
        f = self.config.failsafe
        heartbeat_lost = (f.heartbeat_timeout_s > 0 and (
            self._last_heartbeat_s is None or t - self._last_heartbeat_s > f.heartbeat_timeout_s))
        if self._heartbeat_failsafe and not heartbeat_lost:
            self._clear_failsafe()
            self._log('info', 'operator heartbeat back')
        if heartbeat_lost and not self._heartbeat_failsafe and self.mode != Mode.LANDING:
            self._heartbeat_failsafe = True
            self._hover_then_land(t, f'operator heartbeat lost for more than '
                                     f'{f.heartbeat_timeout_s:g} s')
        idle = self._task is None and self.mode == Mode.FLYING
        if (f.command_timeout_s > 0 and idle and self.failsafe == Failsafe.NONE
                and t - self._last_activity_s > f.command_timeout_s):
            self._hover_then_land(t, f'no command for {f.command_timeout_s:g} s')
        if self._land_at_s is not None and t >= self._land_at_s:
            self._land_at_s = None
            self._failsafe_task(LandTask(''), t, self.failsafe_reason)

    def _hover_then_land(self, t: float, why: str) -> None:
        delay = self.config.failsafe.land_delay_s
        self._raise_failsafe(Failsafe.COMMAND_TIMEOUT, f'{why}: hovering, landing in {delay:g} s')
        if self._task is not None:
            self._end_task(False, f'aborted by failsafe: {why}')
        self.mode = Mode.FLYING
        self.ref.hold()
        self._land_at_s = t + delay

    def _recover_from_blind(self, t: float) -> None:
        e = self.estimate
        landing = self.mode == Mode.LANDING
        self._blind_since_s = None
        self.ref.reset(e.position, e.yaw, e.velocity)
        if landing:
            self.failsafe_reason = 'state estimate was stale: landing'
            self._log('warn', 'state estimate back during the blind landing; landing on it')
            self._failsafe_task(LandTask(''), t, self.failsafe_reason)
        else:
            self._clear_failsafe()
            self._log('info', 'state estimate back; holding position')
            self.ref.hold()
            self._last_activity_s = t

    # ------------------------------------------------------------------------------------ step
    def step(self, t: float) -> Setpoint:
        """Advance tasks, failsafes and the reference to time `t`; what the vehicle should do."""
        dt = 0.0 if self._last_step_s is None else min(max(t - self._last_step_s, 0.0), MAX_STEP_S)
        self._last_step_s = t
        self._check_failsafes(t)
        if self.mode == Mode.LANDED:
            delay = self.config.mission.disarm_after_landing_s
            if delay > 0 and t - self.landed_since_s >= delay:
                self.mode = Mode.DISARMED
                self._log('info', f'disarmed {delay:g} s after landing')
        if self.mode not in AIRBORNE:
            return self._setpoint(OutputKind.MOTORS_OFF)
        if self._blind_since_s is not None:
            return self._blind_step(t)
        if self._task is not None:
            outcome = self._task.step(self, t)
            if outcome is not None:
                self._task = None
                self._last_activity_s = t
                self._log('info' if outcome.success else 'warn',
                          f'{outcome.request_id or "failsafe"}: {outcome.reason}')
                if outcome.request_id:
                    self._outcomes.append(outcome)
                elif not outcome.success and self.mode in AIRBORNE:
                    self._failsafe_task(LandTask(''), t, outcome.reason)
        if self.mode not in AIRBORNE:
            return self._setpoint(OutputKind.MOTORS_OFF)
        self.ref.step(dt)
        return self._setpoint(OutputKind.TRACK)

    def _blind_step(self, t: float) -> Setpoint:
        f = self.config.failsafe
        descent_s = t - self._blind_since_s - f.stale_hover_s
        descending = descent_s >= 0.0
        if descending and self.mode != Mode.LANDING:
            self.mode = Mode.LANDING
            self._log('warn', 'stale state estimate: landing blind')
        if (descent_s >= BLIND_TOUCHDOWN_HOLD_S
                and abs(self._inertial_vertical_speed) < TOUCHDOWN_SPEED_MPS):
            if self._blind_still_since_s is None:
                self._blind_still_since_s = t
            if t - self._blind_still_since_s >= BLIND_TOUCHDOWN_HOLD_S:
                self.touchdown(t)
                return self._setpoint(OutputKind.MOTORS_OFF)
        else:
            self._blind_still_since_s = None
        return self._setpoint(OutputKind.ATTITUDE_ONLY,
                              -f.blind_descent_mps if descending else 0.0)

    def _setpoint(self, kind: OutputKind, vertical_speed: float = 0.0) -> Setpoint:
        r = self.ref
        return Setpoint(kind, r.position.copy(), r.velocity.copy(), r.acceleration.copy(),
                        wrap_pi(r.yaw), r.yaw_rate, vertical_speed)
