"""A mission-scripting API over the flight controller's `execute_command` action.

    from mmchat_ros.mission_api import Drone, MissionError

    with Drone() as drone:                      # its own node; rclpy.init() done for you
        drone.takeoff(1.5)
        drone.go_to(2.0, 1.0, 1.5, yaw=0.0, speed=1.0)
        drone.move_by(1.0, 0.0, 0.0)            # body frame FLU: 1 m forward
        drone.yaw_by(math.pi / 2)               # REP-103: positive is counter-clockwise
        drone.follow(track_id=1, duration_s=20.0)
        drone.land()

Blocking calls send one Command (source API, so no operator authorisation is needed), spin until
the flight controller reports its end and return its MissionResult. A step that fails (refused,
not reached, timed out, no controller) raises MissionError, whose `result` says why: a script
stops at its first failed step unless it catches the error. A call that takes longer than its
timeout is canceled first (the vehicle holds position).

Non-blocking: `start_go_to(...)` (and the other `start_*`) sends the command and returns;
`is_done()` spins a little and says whether it has ended, `result()` is its MissionResult (None
while it runs; never raises: a MissionResult is true when the step succeeded), `cancel()` stops it.
Starting another step preempts the running one.

The vehicle: `position`, `yaw`, `mode`, `battery` (typed, from the latest vehicle/state), `state`
(that message itself). In a process that already spins the controller (the in-process runner,
tests), pass that executor: `Drone(executor=runner.executor, context=runner.context)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
import time
from typing import Callable, NamedTuple
import uuid

import rclpy
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import Header

from mmchat_ros.action import ExecuteCommand
from mmchat_ros.control.commands import Mode
from mmchat_ros.geometry import yaw_of
from mmchat_ros.msg import Command, VehicleState
from mmchat_ros.ros_io import seconds as stamp_seconds

#: After a result, wait up to this long for a newer vehicle/state (it is published at 25 Hz).
STATE_CATCH_UP_S = 0.5
#: Follow standoff when the script gives none (m; the controller allows mission.*_standoff_m).
DEFAULT_STANDOFF_M = 2.0


class MissionResult(NamedTuple):
    """How one mission step ended; true when it succeeded."""

    success: bool
    reason: str

    def __bool__(self) -> bool:
        return self.success


class MissionError(RuntimeError):
    """A mission step failed; `result` says why."""

    def __init__(self, step: str, result: MissionResult) -> None:
        super().__init__(f'{step} failed: {result.reason}')
        self.step = step
        self.result = result


class Position(NamedTuple):
    """A position in the controller's world frame (REP-103 ENU), metres."""

    x: float
    y: float
    z: float


class Battery(NamedTuple):
    """Remaining charge (0..1, NaN when unknown) and voltage."""

    fraction: float
    voltage_v: float


@dataclass
class Step:
    """One command sent by the API and how it ended (`result` None while it runs)."""

    name: str
    command: Command
    result: MissionResult | None = None
    goal: ClientGoalHandle | None = field(default=None, repr=False)
    result_future: Future | None = field(default=None, repr=False)


StepListener = Callable[[Step], None]


class Drone:
    """A vehicle run by a flight_controller node; see the module docstring."""

    def __init__(self, node: Node | None = None, *, context: Context | None = None,
                 executor: Executor | None = None, namespace: str = '',
                 timeout_s: float = 120.0, server_timeout_s: float = 10.0,
                 heartbeat_hz: float = 2.0) -> None:
        """Use `node` (or create one in `context`, initialising rclpy if needed).

        timeout_s: default wall-clock limit of one call. heartbeat_hz: operator heartbeats sent
        while this API spins (0: none), for controllers with failsafe.heartbeat_timeout_s set.
        """
        self._initialised_here = False
        if node is None:
            if not (context or rclpy.get_default_context()).ok():
                rclpy.init(context=context)
                self._initialised_here = True
            node = Node('mission_api', namespace=namespace, context=context)
            self._own_node = True
        else:
            self._own_node = False
        self.node = node
        self._own_executor = executor is None
        self.executor = executor or SingleThreadedExecutor(context=node.context)
        self.executor.add_node(node)
        self.timeout_s = timeout_s
        self.server_timeout_s = server_timeout_s
        self.state: VehicleState | None = None
        self._states_received = 0
        self._state_wall_s = time.monotonic()
        self.feedback: ExecuteCommand.Feedback | None = None
        self._step: Step | None = None
        self._listeners: list[StepListener] = []
        self._client = ActionClient(node, ExecuteCommand, 'execute_command')
        node.create_subscription(VehicleState, 'vehicle/state', self._on_state, 10)
        if heartbeat_hz > 0:
            heartbeat = node.create_publisher(Header, 'operator/heartbeat', 10)
            node.create_timer(1.0 / heartbeat_hz, lambda: heartbeat.publish(
                Header(stamp=node.get_clock().now().to_msg(), frame_id='mission_api')))

    def _on_state(self, msg: VehicleState) -> None:
        self.state = msg
        self._states_received += 1
        self._state_wall_s = time.monotonic()

    # ---------------------------------------------------------------------------- the vehicle
    @property
    def position(self) -> Position:
        """Where the controller estimates the vehicle (the last known one while stale)."""
        p = self._latest_state('position').pose.position
        return Position(p.x, p.y, p.z)

    @property
    def yaw(self) -> float:
        """Heading in radians, counter-clockwise from +x of the world frame (REP-103)."""
        q = self._latest_state('yaw').pose.orientation
        return yaw_of((q.x, q.y, q.z, q.w))

    @property
    def mode(self) -> Mode:
        """The controller's state machine: DISARMED, LANDED, TAKING_OFF, FLYING, ..."""
        return Mode(self._latest_state('mode').mode)

    @property
    def battery(self) -> Battery:
        """The battery as the controller sees it."""
        state = self._latest_state('battery')
        return Battery(state.battery_fraction, state.battery_voltage)

    def _latest_state(self, what: str) -> VehicleState:
        if self.state is None and not self.spin_until(lambda: self.state is not None,
                                                      self.server_timeout_s):
            raise MissionError(what, MissionResult(
                False, f'no vehicle/state within {self.server_timeout_s:g} s'))
        return self.state

    def wait_until_ready(self, timeout_s: float | None = None) -> bool:
        """Spin until the controller reports a fresh state estimate (vehicle/state with a frame)."""
        return self.spin_until(lambda: self.state is not None and bool(self.state.header.frame_id),
                               self.server_timeout_s if timeout_s is None else timeout_s)

    # ------------------------------------------------------------------ blocking mission steps
    def arm(self, timeout_s: float | None = None) -> MissionResult:
        """Arm the motors (TAKEOFF also arms)."""
        self.wait_until_ready()
        return self.execute('arm', Command(verb=Command.ARM), timeout_s)

    def disarm(self, timeout_s: float | None = None) -> MissionResult:
        """Disarm on the ground; also clears an emergency stop."""
        return self.execute('disarm', Command(verb=Command.DISARM), timeout_s)

    def takeoff(self, altitude_m: float, timeout_s: float | None = None) -> MissionResult:
        """Climb `altitude_m` metres above the current position."""
        return self._finish(self.start_takeoff(altitude_m), timeout_s)

    def land(self, timeout_s: float | None = None) -> MissionResult:
        """Land where the vehicle is."""
        return self._finish(self.start_land(), timeout_s)

    def hover(self, timeout_s: float | None = None) -> MissionResult:
        """Brake and hold position."""
        return self._finish(self.start_hover(), timeout_s)

    def go_to(self, x: float, y: float, z: float, yaw: float | None = None, speed: float = 0.0,
              frame_id: str = '', timeout_s: float | None = None) -> MissionResult:
        """Fly to (x, y, z) in the world frame, facing `yaw` (None: keep the heading)."""
        return self._finish(self.start_go_to(x, y, z, yaw, speed, frame_id), timeout_s)

    def move_by(self, x: float, y: float, z: float, speed: float = 0.0,
                frame_id: str = 'base_link', timeout_s: float | None = None) -> MissionResult:
        """Fly by (x, y, z): body frame (FLU, levelled: x forward, y left, z up) by default."""
        return self._finish(self.start_move_by(x, y, z, speed, frame_id), timeout_s)

    def yaw_by(self, yaw: float, timeout_s: float | None = None) -> MissionResult:
        """Turn by `yaw` radians, positive counter-clockwise seen from above (REP-103)."""
        return self._finish(self.start_yaw_by(yaw), timeout_s)

    def follow(self, track_id: int, duration_s: float,
               standoff_m: float = DEFAULT_STANDOFF_M) -> MissionResult:
        """Follow track `track_id` at `standoff_m` for `duration_s`, then hover.

        The duration is counted on the controller's clock (vehicle/state stamps: simulated time
        in the simulator). Raises MissionError when the follow is refused, the track is lost
        first, or the controller falls silent; on success the hover has started (`is_done()`,
        `result()` follow it).
        """
        step = self.start_follow(track_id, standoff_m)
        started_s = stamp_seconds(self.state.header.stamp) if self.state is not None else math.nan

        def followed() -> bool:
            return stamp_seconds(self.state.header.stamp) - started_s >= duration_s

        def silent() -> bool:
            return time.monotonic() - self._state_wall_s > self.server_timeout_s

        self.spin_until(lambda: self._collect(step) or followed() or silent())
        if step.result is None and not followed():
            self._cancel(step, f'no vehicle/state for {self.server_timeout_s:g} s; canceled')
        if step.result is not None:
            raise MissionError(step.name, step.result)
        self._end(step, MissionResult(True, f'followed track {track_id} for {duration_s:g} s '
                                            'as asked; hovering'))
        self.start_hover()
        return step.result

    def return_home(self, timeout_s: float | None = None) -> MissionResult:
        """Fly back above the takeoff point and land."""
        return self._finish(self.start_return_home(), timeout_s)

    def emergency_stop(self, timeout_s: float | None = None) -> MissionResult:
        """Stop the motors now (the vehicle falls). DISARM clears it."""
        return self.execute('emergency_stop', Command(verb=Command.EMERGENCY_STOP), timeout_s)

    def execute(self, name: str, command: Command, timeout_s: float | None = None
                ) -> MissionResult:
        """Send any `command` as step `name` and wait for its end; MissionError if it fails."""
        return self._finish(self.start(name, command), timeout_s)

    # -------------------------------------------------------------- non-blocking mission steps
    def start_takeoff(self, altitude_m: float) -> Step:
        """Start climbing `altitude_m` metres (waits for a fresh state estimate first)."""
        self.wait_until_ready()
        return self.start('takeoff', Command(verb=Command.TAKEOFF, altitude_m=float(altitude_m)))

    def start_land(self) -> Step:
        """Start landing where the vehicle is."""
        return self.start('land', Command(verb=Command.LAND))

    def start_hover(self) -> Step:
        """Start braking to a hold."""
        return self.start('hover', Command(verb=Command.HOVER))

    def start_go_to(self, x: float, y: float, z: float, yaw: float | None = None,
                    speed: float = 0.0, frame_id: str = '') -> Step:
        """Start flying to (x, y, z) in the world frame, facing `yaw` (None: keep the heading)."""
        command = Command(verb=Command.GOTO, x_m=float(x), y_m=float(y), z_m=float(z),
                          speed_mps=float(speed))
        command.header.frame_id = frame_id
        if yaw is None:
            if not self.wait_until_ready():
                return self._refused('go_to', command, 'no fresh vehicle/state: heading unknown')
            yaw = self.yaw
        command.yaw_rad = float(yaw)
        return self.start('go_to', command)

    def start_move_by(self, x: float, y: float, z: float, speed: float = 0.0,
                      frame_id: str = 'base_link') -> Step:
        """Start flying by (x, y, z), body frame (FLU, levelled) by default."""
        command = Command(verb=Command.MOVE_BY, x_m=float(x), y_m=float(y), z_m=float(z),
                          speed_mps=float(speed))
        command.header.frame_id = frame_id
        return self.start('move_by', command)

    def start_yaw_by(self, yaw: float) -> Step:
        """Start turning by `yaw` radians (counter-clockwise positive)."""
        return self.start('yaw_by', Command(verb=Command.YAW_BY, yaw_rad=float(yaw)))

    def start_follow(self, track_id: int, standoff_m: float = DEFAULT_STANDOFF_M) -> Step:
        """Start following track `track_id` at `standoff_m` until canceled or preempted."""
        self.wait_until_ready()
        return self.start('follow', Command(verb=Command.FOLLOW_TRACK, track_id=int(track_id),
                                            standoff_m=float(standoff_m)))

    def start_return_home(self) -> Step:
        """Start flying back above the takeoff point to land there."""
        return self.start('return_home', Command(verb=Command.RETURN_HOME))

    def start(self, name: str, command: Command) -> Step:
        """Send `command` (source API, a fresh request_id) as step `name`; return at once.

        Waits only for the action server to take the goal (server_timeout_s); when it does not,
        the step has already ended, unsuccessfully.
        """
        command.source = Command.SOURCE_API
        command.request_id = command.request_id or f'api-{uuid.uuid4().hex[:12]}'
        step = self._begin(name, command)
        if not self.spin_until(self._client.server_is_ready, self.server_timeout_s):
            self._end(step, MissionResult(False, 'no flight controller: the execute_command '
                                                 'action server did not appear within '
                                                 f'{self.server_timeout_s:g} s'))
            return step
        goal_future = self._client.send_goal_async(ExecuteCommand.Goal(command=command),
                                                   feedback_callback=self._on_feedback)
        if not self.spin_until(goal_future.done, self.server_timeout_s):
            self._end(step, MissionResult(False, 'the flight controller did not answer the goal'))
        elif not goal_future.result().accepted:
            self._end(step, MissionResult(False, 'goal refused by the action server'))
        else:
            step.goal = goal_future.result()
            step.result_future = step.goal.get_result_async()
        return step

    def is_done(self) -> bool:
        """Spin a little; whether the latest step has ended (True when there is none)."""
        if self._step is None or self._step.result is not None:
            return True
        if not self._collect(self._step):
            self.executor.spin_once(timeout_sec=0.05)
        return self._collect(self._step)

    def result(self) -> MissionResult | None:
        """How the latest step ended; None while it runs (or before the first step)."""
        return self._step.result if self._step is not None else None

    def cancel(self) -> bool:
        """Stop the running step (the vehicle holds position); False when none runs."""
        if self._step is None or self._collect(self._step):
            return False
        self._cancel(self._step, 'canceled by the script; holding position')
        return True

    def add_step_listener(self, listener: StepListener) -> None:
        """Call `listener(step)` when a step starts (result None) and when it ends."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------------------ plumbing
    def _begin(self, name: str, command: Command) -> Step:
        self._step = Step(name, command)
        for listener in self._listeners:
            listener(self._step)
        return self._step

    def _end(self, step: Step, result: MissionResult) -> None:
        step.result = result
        for listener in self._listeners:
            listener(step)

    def _refused(self, name: str, command: Command, reason: str) -> Step:
        step = self._begin(name, command)
        self._end(step, MissionResult(False, reason))
        return step

    def _collect(self, step: Step) -> bool:
        """Whether `step` has ended; takes its result when the controller has sent it."""
        if step.result is not None:
            return True
        if step.result_future is None or not step.result_future.done():
            return False
        result = step.result_future.result().result
        seen = self._states_received                 # let `state` catch up with the result
        self.spin_until(lambda: self._states_received > seen, STATE_CATCH_UP_S)
        self._end(step, MissionResult(bool(result.success), result.reason))
        return True

    def _cancel(self, step: Step, reason: str) -> None:
        """Cancel `step` at the controller; it ends unsuccessfully for `reason`."""
        if step.goal is not None:
            cancel = step.goal.cancel_goal_async()
            self.spin_until(cancel.done, self.server_timeout_s)
            self.spin_until(step.result_future.done, self.server_timeout_s)
        if step.result is None:
            self._end(step, MissionResult(False, reason))

    def _finish(self, step: Step, timeout_s: float | None) -> MissionResult:
        """Wait for `step` (up to `timeout_s`, then cancel); MissionError unless it succeeded."""
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        if not self.spin_until(lambda: self._collect(step), timeout_s):
            self._cancel(step, f'timed out after {timeout_s:g} s; canceled, holding position')
        if not step.result.success:
            raise MissionError(step.name, step.result)
        return step.result

    def _on_feedback(self, msg) -> None:
        self.feedback = msg.feedback

    def spin_until(self, predicate: Callable[[], bool], timeout_s: float = math.inf) -> bool:
        """Spin until `predicate()` is true or `timeout_s` (wall clock) passes; its last value."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() >= deadline or not self.node.context.ok():
                return bool(predicate())
            self.executor.spin_once(timeout_sec=0.05)
        return True

    def wait(self, seconds: float) -> None:
        """Spin (keep everything running) for `seconds` of wall-clock time."""
        self.spin_until(lambda: False, seconds)

    def close(self) -> None:
        """Destroy what this Drone created."""
        self._client.destroy()
        self.executor.remove_node(self.node)
        if self._own_node:
            self.node.destroy_node()
        if self._own_executor:
            self.executor.shutdown()
        if self._initialised_here:
            rclpy.try_shutdown(context=self.node.context)

    def __enter__(self) -> 'Drone':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
