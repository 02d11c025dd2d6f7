"""The flight manager: the vehicle state machine, coordinating command admission, tasks, failsafes.

ROS-free and interface-free: it takes state estimates, battery readings, operator authorisation and
heartbeats, commands and follow targets, each with a time in seconds, and every control step
returns a Setpoint for the vehicle interface (motor cascade, MAVLink offboard, or cmd_vel).

The parts: control/admission.py checks each verb (a table), control/tasks.py flies accepted
commands (a task returns a Transition the manager applies), control/failsafes.py takes over when
something goes wrong. Rules (each one is tested):
- Every command is checked before anything acts on it: known verb, finite numbers, an authorised
  operator for sources other than the API, speeds within the limits, goals inside the geofence, a
  mode in which the verb makes sense, a fresh state estimate. A command that fails any check is
  rejected with the reason; nothing is clamped into something else.
- EMERGENCY_STOP is always accepted and always wins: motors off, mode EMERGENCY (DISARM clears it).
- A newer accepted command preempts the running one, whose outcome says so.
- Failsafes: see control/failsafes.py.
"""
from __future__ import annotations

import math

import numpy as np

from mmchat_ros import authorisation
from mmchat_ros.authorisation import Authorisation
from mmchat_ros.control.admission import ADMISSION, Admission
from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import (AIRBORNE, CommandRequest, Decision, Failsafe, Mode,
                                         Outcome, OutputKind, Setpoint, Source, Verb)
from mmchat_ros.control.config import ControllerConfig
from mmchat_ros.control.failsafes import Failsafes, Log
from mmchat_ros.control.tasks import LandTask, Target, Task, Transition
from mmchat_ros.control.trajectory import MotionLimits, ReferenceGenerator
from mmchat_ros.geometry import finite, wrap_pi

#: Largest step the reference integrates at once (a stalled caller must not make it jump).
MAX_STEP_S = 0.1
#: Follow: low-pass factor of the target velocity estimate (per update).
TARGET_VELOCITY_SMOOTHING = 0.3
#: Tracks unseen this long are forgotten.
TARGET_MEMORY_S = 60.0


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
        self.failsafes = Failsafes(self._log)
        self.mode = Mode.DISARMED
        self.estimate: StateEstimate | None = None
        self.estimate_problem = 'no state estimate received yet'
        self.home: np.ndarray | None = None
        self.battery_fraction = math.nan
        self.battery_voltage = math.nan
        self.vehicle_ready = True
        self.targets: dict[int, Target] = {}
        self.landed_since_s = 0.0
        self.last_activity_s = 0.0
        self._authorisation: Authorisation | None = None
        self._task: Task | None = None
        self._outcomes: list[Outcome] = []
        self._last_step_s: float | None = None

    # ----------------------------------------------------------------------------------- inputs
    def update_estimate(self, estimate: StateEstimate) -> bool:
        """Take a new state estimate; one with NaN/inf is refused (the last good one ages)."""
        if not finite(estimate.stamp_s, estimate.position, estimate.velocity,
                      estimate.orientation, estimate.angular_velocity):
            self.estimate_problem = 'the latest estimate had NaN or infinite values'
            return False
        self.estimate = estimate
        self.estimate_problem = 'no newer estimate arrived'
        return True

    def update_battery(self, fraction: float, voltage: float = math.nan) -> None:
        """Remaining charge 0..1 (NaN: unknown) and voltage."""
        self.battery_fraction, self.battery_voltage = float(fraction), float(voltage)

    def update_authorisation(self, authorisation: Authorisation) -> None:
        """The latest AuthState."""
        self._authorisation = authorisation

    def heartbeat(self, t: float) -> None:
        """The operator is there."""
        self.failsafes.heartbeat(t)

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
        self.failsafes.inertial_vertical_speed = vertical_speed

    def set_vehicle_ready(self, ready: bool) -> None:
        """Whether the vehicle accepts setpoints (armed and in offboard/guided); sim: always."""
        self.vehicle_ready = ready

    def vehicle_disarmed(self, t: float, reason: str) -> None:
        """The vehicle disarmed itself (autopilot, RC): follow it to DISARMED."""
        if self.mode == Mode.DISARMED:
            return
        self.abort_task(f'vehicle disarmed: {reason}')
        self._log('warn', f'vehicle disarmed by itself: {reason}')
        self.mode = Mode.DISARMED

    # --------------------------------------------------------------------------------- outputs
    @property
    def failsafe(self) -> Failsafe:
        """The active failsafe (NONE when there is none)."""
        return self.failsafes.kind

    @property
    def failsafe_reason(self) -> str:
        """Why the active failsafe took over ('' when none is active)."""
        return self.failsafes.reason

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
        mission, estimate = self.config.mission, self.estimate
        return (float(np.linalg.norm(estimate.position - goal)) <= mission.arrival_radius_m
                and float(np.linalg.norm(estimate.velocity)) <= mission.arrival_speed_mps
                and abs(wrap_pi(estimate.yaw - yaw)) <= mission.arrival_yaw_rad)

    # -------------------------------------------------------------------------------- commands
    def submit(self, command: CommandRequest, t: float) -> Decision:
        """Check a command and, when it passes, start it. Every rejection is logged."""
        decision = self._decide(command, t)
        if decision.accepted:
            self._log('info', f'{command.verb_name} {command.request_id} accepted: '
                              f'{decision.reason}')
        else:
            self._log('warn', f'{command.verb_name} {command.request_id or "(no id)"} rejected: '
                              f'{decision.reason}')
        return decision

    def cancel(self, request_id: str, t: float) -> bool:
        """Stop the running command `request_id` and hold position; False if it is not running."""
        if not request_id or self.active_request_id != request_id:
            return False
        self.abort_task('canceled; holding position')
        if self.mode in AIRBORNE:
            self.hold_position()
        self.note_activity(t)
        return True

    def _decide(self, command: CommandRequest, t: float) -> Decision:
        try:
            verb = Verb(command.verb)
        except ValueError:
            return Decision(False, f'unknown verb {command.verb} (known: '
                                   f"{', '.join(f'{v.name}={v.value}' for v in Verb)})")
        if verb == Verb.EMERGENCY_STOP:           # whatever else the message holds
            self._emergency_stop(f"emergency stop by {command.request_id or '(no id)'}")
            if command.request_id:
                self._outcomes.append(Outcome(command.request_id, True, 'motors stopped'))
            return Decision(True, 'motors stopped')
        if not command.request_id:
            return Decision(False, 'request_id is empty')
        bad = command.non_finite_fields()
        if bad:
            return Decision(False, f"non-finite argument(s): {', '.join(bad)}")
        problem = (self._authorisation_problem(command, t)
                   or self.failsafes.refusal(verb, self.mode))
        if problem:
            return Decision(False, problem)
        admission = ADMISSION[verb](self, command, t)
        if admission.accepted:
            self._admit(command.request_id, admission, t)
        return admission.decision

    def _authorisation_problem(self, command: CommandRequest, t: float) -> str | None:
        if command.source == Source.API:
            return None
        if command.source not in tuple(Source):
            return f'unknown source {command.source}'
        problem = authorisation.refusal(self._authorisation, t,
                                        self.config.require_authorised_operator,
                                        command.operator_id)
        return f'not authorised: {problem}' if problem else None

    def _admit(self, request_id: str, admission: Admission, t: float) -> None:
        if admission.land_blind_now:
            self.failsafes.descend_blind_now(t, self.config.failsafe.stale_hover_s)
            return
        if admission.clears_failsafe:
            self.failsafes.clear()
        self._start(request_id, admission.task, t)
        if admission.mode is not None:                # done at once (ARM, DISARM)
            self.enter_mode(admission.mode, t)
            self._outcomes.append(Outcome(request_id, True, admission.reason))

    # -------------------------------------------------------- coordination (tasks, failsafes)
    @property
    def has_task(self) -> bool:
        """A command or a failsafe manoeuvre is being flown."""
        return self._task is not None

    def enter_mode(self, mode: Mode, t: float) -> None:
        """Switch the state machine to `mode` (LANDED remembers since when)."""
        self.mode = mode
        if mode == Mode.LANDED:
            self.landed_since_s = t

    def hold_position(self) -> None:
        """Fly on (FLYING), braking to a hold."""
        self.mode = Mode.FLYING
        self.ref.hold()

    def note_activity(self, t: float) -> None:
        """Something was commanded or ended at `t` (for the idle timeout)."""
        self.last_activity_s = t

    def abort_task(self, reason: str) -> None:
        """End the running task, unsuccessfully, for `reason`."""
        task, self._task = self._task, None
        if task is not None and task.request_id:
            self._outcomes.append(Outcome(task.request_id, False, reason))

    def fly_failsafe_task(self, task: Task, t: float, reason: str) -> None:
        """Replace the running task by a failsafe's manoeuvre."""
        if self._task is not None:
            self.abort_task(f'aborted by failsafe: {reason}')
        self._fly(task, t)

    def touchdown(self, t: float) -> None:
        """The vehicle is on the ground: motors to idle, LANDED."""
        self.enter_mode(Mode.LANDED, t)
        self.failsafes.touched_down()
        self._log('info', 'touchdown')

    def _start(self, request_id: str, task: Task | None, t: float) -> None:
        if self._task is not None:
            self.abort_task(f'preempted by {request_id}' if request_id else 'preempted')
        self.note_activity(t)
        if request_id:
            self.failsafes.command_accepted()
        self._task = None
        if task is not None:
            self._fly(task, t)

    def _fly(self, task: Task, t: float) -> None:
        self._task = task
        self.mode = task.mode
        task.start(self, t)

    def _emergency_stop(self, reason: str) -> None:
        self.abort_task(f'aborted: {reason}')
        self.mode = Mode.EMERGENCY
        self.failsafes.emergency_stop(reason)

    def _apply(self, change: Transition, t: float) -> None:
        if change.home is not None:
            self.home = change.home
        if change.touchdown:
            self.touchdown(t)
        elif change.mode is not None:
            self.enter_mode(change.mode, t)
        outcome = change.outcome
        if outcome is None:
            return
        self._task = None
        self.note_activity(t)
        self._log('info' if outcome.success else 'warn',
                  f'{outcome.request_id or "failsafe"}: {outcome.reason}')
        if outcome.request_id:
            self._outcomes.append(outcome)
        elif not outcome.success and self.mode in AIRBORNE:
            self.fly_failsafe_task(LandTask(''), t, outcome.reason)

    # ------------------------------------------------------------------------------------ step
    def step(self, t: float) -> Setpoint:
        """Advance tasks, failsafes and the reference to time `t`; what the vehicle should do."""
        dt = 0.0 if self._last_step_s is None else min(max(t - self._last_step_s, 0.0), MAX_STEP_S)
        self._last_step_s = t
        self.failsafes.check(self, t)
        if self.mode == Mode.LANDED:
            delay = self.config.mission.disarm_after_landing_s
            if delay > 0 and t - self.landed_since_s >= delay:
                self.mode = Mode.DISARMED
                self._log('info', f'disarmed {delay:g} s after landing')
        if self.mode not in AIRBORNE:
            return self._setpoint(OutputKind.MOTORS_OFF)
        if self.failsafes.blind:
            return self._setpoint(*self.failsafes.blind_step(self, t))
        if self._task is not None:
            self._apply(self._task.step(self, t), t)
        if self.mode not in AIRBORNE:
            return self._setpoint(OutputKind.MOTORS_OFF)
        self.ref.step(dt)
        return self._setpoint(OutputKind.TRACK)

    def _setpoint(self, kind: OutputKind, vertical_speed: float = 0.0) -> Setpoint:
        ref = self.ref
        return Setpoint(kind, ref.position.copy(), ref.velocity.copy(), ref.acceleration.copy(),
                        wrap_pi(ref.yaw), ref.yaw_rate, vertical_speed)
