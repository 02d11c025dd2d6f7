"""A small mission-scripting API over the flight controller's `execute_command` action.

    from mmchat_ros.mission_api import Drone

    with Drone() as drone:                      # its own node; rclpy.init() done for you
        print(drone.takeoff(1.5))               # MissionResult(success=True, reason='took off ...')
        drone.go_to(2.0, 1.0, 1.5, yaw=0.0, speed=1.0)
        drone.move_by(1.0, 0.0, 0.0)            # body frame FLU: 1 m forward
        drone.yaw_by(math.pi / 2)               # REP-103: positive is counter-clockwise
        drone.land()
        print(drone.state.mode)                 # the latest mmchat_ros/VehicleState

Each call sends one Command (source API, so no operator authorisation is needed) and blocks,
spinning, until the flight controller reports its end; it returns MissionResult(success, reason).
A call that takes longer than its timeout is canceled (the vehicle holds position). In a process
that already spins the controller (the in-process runner, tests), pass that executor:
`Drone(executor=runner.executor, context=runner.context)`.
"""
from __future__ import annotations

import math
import time
from typing import Callable, NamedTuple
import uuid

import rclpy
from rclpy.action import ActionClient
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import Header

from mmchat_ros.action import ExecuteCommand
from mmchat_ros.geometry import yaw_of
from mmchat_ros.msg import Command, VehicleState


#: After a result, wait up to this long for a newer vehicle/state (it is published at 25 Hz).
STATE_CATCH_UP_S = 0.5


class MissionResult(NamedTuple):
    """How one mission step ended."""

    success: bool
    reason: str


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
        self.feedback: ExecuteCommand.Feedback | None = None
        self._client = ActionClient(node, ExecuteCommand, 'execute_command')
        node.create_subscription(VehicleState, 'vehicle/state', self._on_state, 10)
        if heartbeat_hz > 0:
            heartbeat = node.create_publisher(Header, 'operator/heartbeat', 10)
            node.create_timer(1.0 / heartbeat_hz, lambda: heartbeat.publish(
                Header(stamp=node.get_clock().now().to_msg(), frame_id='mission_api')))

    def _on_state(self, msg: VehicleState) -> None:
        self.state = msg
        self._states_received += 1

    # ------------------------------------------------------------------------------ verbs
    def wait_until_ready(self, timeout_s: float | None = None) -> bool:
        """Spin until the controller reports a fresh state estimate (a vehicle/state with a frame)."""
        return self.spin_until(lambda: self.state is not None and bool(self.state.header.frame_id),
                               self.server_timeout_s if timeout_s is None else timeout_s)

    def arm(self, timeout_s: float | None = None) -> MissionResult:
        """Arm the motors (TAKEOFF also arms)."""
        self.wait_until_ready()
        return self.execute(Command(verb=Command.ARM), timeout_s)

    def disarm(self, timeout_s: float | None = None) -> MissionResult:
        """Disarm on the ground; also clears an emergency stop."""
        return self.execute(Command(verb=Command.DISARM), timeout_s)

    def takeoff(self, altitude_m: float, timeout_s: float | None = None) -> MissionResult:
        """Climb `altitude_m` metres above the current position."""
        self.wait_until_ready()
        return self.execute(Command(verb=Command.TAKEOFF, altitude_m=float(altitude_m)), timeout_s)

    def land(self, timeout_s: float | None = None) -> MissionResult:
        """Land where the vehicle is."""
        return self.execute(Command(verb=Command.LAND), timeout_s)

    def hover(self, timeout_s: float | None = None) -> MissionResult:
        """Brake and hold position."""
        return self.execute(Command(verb=Command.HOVER), timeout_s)

    def go_to(self, x: float, y: float, z: float, yaw: float | None = None, speed: float = 0.0,
              frame_id: str = '', timeout_s: float | None = None) -> MissionResult:
        """Fly to (x, y, z) in the world frame, facing `yaw` (None: keep the heading)."""
        if yaw is None:
            if not self.wait_until_ready():
                return MissionResult(False, 'no fresh vehicle/state: heading unknown')
            yaw = yaw_of([getattr(self.state.pose.orientation, k) for k in 'xyzw'])
        command = Command(verb=Command.GOTO, x_m=float(x), y_m=float(y), z_m=float(z),
                          yaw_rad=float(yaw), speed_mps=float(speed))
        command.header.frame_id = frame_id
        return self.execute(command, timeout_s)

    def move_by(self, x: float, y: float, z: float, speed: float = 0.0,
                frame_id: str = 'base_link', timeout_s: float | None = None) -> MissionResult:
        """Fly by (x, y, z): body frame (FLU, levelled: x forward, y left, z up) by default."""
        command = Command(verb=Command.MOVE_BY, x_m=float(x), y_m=float(y), z_m=float(z),
                          speed_mps=float(speed))
        command.header.frame_id = frame_id
        return self.execute(command, timeout_s)

    def yaw_by(self, yaw: float, timeout_s: float | None = None) -> MissionResult:
        """Turn by `yaw` radians, positive counter-clockwise seen from above (REP-103)."""
        return self.execute(Command(verb=Command.YAW_BY, yaw_rad=float(yaw)), timeout_s)

    def follow(self, track_id: int, standoff_m: float, duration_s: float) -> MissionResult:
        """Follow track `track_id` at `standoff_m` for `duration_s` (wall clock), then hold.

        Ends earlier, unsuccessfully, when the track is lost or the follow is refused.
        """
        return self.execute(Command(verb=Command.FOLLOW_TRACK, track_id=int(track_id),
                                    standoff_m=float(standoff_m)), duration_s, cancel_ok=True)

    def return_home(self, timeout_s: float | None = None) -> MissionResult:
        """Fly back above the takeoff point and land."""
        return self.execute(Command(verb=Command.RETURN_HOME), timeout_s)

    def emergency_stop(self, timeout_s: float | None = None) -> MissionResult:
        """Stop the motors now (the vehicle falls). DISARM clears it."""
        return self.execute(Command(verb=Command.EMERGENCY_STOP), timeout_s)

    # --------------------------------------------------------------------------- plumbing
    def execute(self, command: Command, timeout_s: float | None = None,
                cancel_ok: bool = False) -> MissionResult:
        """Send `command` (source API, a fresh request_id) and wait for its end.

        After `timeout_s` (default: this Drone's) the command is canceled; that is a failure,
        unless `cancel_ok` (follow: the duration ended as planned).
        """
        command.source = Command.SOURCE_API
        command.request_id = command.request_id or f'api-{uuid.uuid4().hex[:12]}'
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        if not self.spin_until(self._client.server_is_ready, self.server_timeout_s):
            return MissionResult(False, 'no flight controller: the execute_command action server '
                                        f'did not appear within {self.server_timeout_s:g} s')
        goal_future = self._client.send_goal_async(ExecuteCommand.Goal(command=command),
                                                   feedback_callback=self._on_feedback)
        if not self.spin_until(goal_future.done, self.server_timeout_s):
            return MissionResult(False, 'the flight controller did not answer the goal')
        handle = goal_future.result()
        if not handle.accepted:
            return MissionResult(False, 'goal refused by the action server')
        result_future: Future = handle.get_result_async()
        if not self.spin_until(result_future.done, timeout_s):
            cancel = handle.cancel_goal_async()
            self.spin_until(cancel.done, self.server_timeout_s)
            self.spin_until(result_future.done, self.server_timeout_s)
            if cancel_ok:
                return MissionResult(True, f'stopped after {timeout_s:g} s as asked; holding')
            return MissionResult(False, f'timed out after {timeout_s:g} s; canceled, holding '
                                        'position')
        result = result_future.result().result
        seen = self._states_received                 # let `state` catch up with the result
        self.spin_until(lambda: self._states_received > seen, STATE_CATCH_UP_S)
        return MissionResult(bool(result.success), result.reason)

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
