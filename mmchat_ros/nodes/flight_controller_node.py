"""Flight controller node: one controller (mmchat_ros.control) behind three vehicle interfaces.

vehicle_interface:
  sim      motor level: answers every `imu` sample with one `motor_command` stamped like it
           (the simulator's lockstep), running the cascade PID and the mixer.
  mavlink  PX4 / ArduPilot offboard over pymavlink (mavlink.* parameters); the autopilot's
           LOCAL_POSITION_NED / ATTITUDE are the state estimate, SYS_STATUS the battery.
  twist    velocity level: geometry_msgs/Twist on `cmd_vel` (body FLU) at setpoint_hz.

Subscribes: imu (sensor_msgs/Imu; sim), <state_topic> (nav_msgs/Odometry; sim and twist),
  battery (sensor_msgs/BatteryState; sim and twist), commands (mmchat_ros/Command),
  auth/state (mmchat_ros/AuthState), operator/heartbeat (std_msgs/Header: any message counts, its
  receipt time is used), <follow_topic> (mmchat_ros/DetectionArray: track positions for FOLLOW_TRACK).
Publishes: motor_command (mmchat_ros/MotorCommand; sim), cmd_vel (twist), vehicle/state
  (mmchat_ros/VehicleState at state_publish_hz), command_results (mmchat_ros/CommandResult: one
  answer per Command, accepted or rejected with the reason).
Action: execute_command (mmchat_ros/action/ExecuteCommand): runs a Command to completion with
  feedback (state, distance remaining); cancel = hold position. Action goals come from the API
  unless the Command says otherwise, and pass the same checks as topic commands.
"""
from __future__ import annotations

import math
import time
import traceback
from typing import Any

from geometry_msgs.msg import Point, Pose, Quaternion, Twist, Vector3
from nav_msgs.msg import Odometry
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.node import Node
from rclpy.task import Future
from sensor_msgs.msg import BatteryState, Imu
from std_msgs.msg import Header

from mmchat_ros import graph
from mmchat_ros.action import ExecuteCommand
from mmchat_ros.authorisation import Authorisation
from mmchat_ros.control.cascade import CascadeController, StateEstimate
from mmchat_ros.control.commands import AIRBORNE, CommandRequest, Decision, Outcome, Verb
from mmchat_ros.control.config import PARAMETERS, ConfigError, ControllerConfig
from mmchat_ros.control.manager import FlightManager
from mmchat_ros.control.motor_loop import MotorLoop, MotorOutput
from mmchat_ros.control.velocity_output import VelocityOutput, VirtualAltitude
from mmchat_ros.diagnostics import ERROR, OK, WARN, NodeDiagnostics
from mmchat_ros.geometry import quat_normalized, rotation_matrix
from mmchat_ros.msg import AuthState, Command, CommandResult, DetectionArray, MotorCommand, VehicleState
from mmchat_ros.node_main import run_node
from mmchat_ros.ros_io import SENSOR_QOS, request_from_msg, seconds
from mmchat_ros.vehicle_model import VehicleModel, VehicleModelError

INTERFACES = ('sim', 'mavlink', 'twist')

NODE_PARAMETERS: dict[str, tuple[Any, str]] = {
    'vehicle_interface': ('sim', f"one of {', '.join(INTERFACES)}"),
    'vehicle_file': ('sim/vehicles/quadrotor.yaml', 'vehicle model (mass, rotors) for the sim '
                                                    'interface, relative to the package share'),
    'state_topic': ('/sim/odom', 'nav_msgs/Odometry state estimate (sim, twist)'),
    'world_frame': ('odom', 'frame of the state estimate and of GOTO goals'),
    'world_frame_aliases': (['map'], 'other frame ids accepted as the world frame'),
    'body_frame': ('base_link', 'frame id of body-relative MOVE_BY commands'),
    'follow_topic': ('/detections', 'mmchat_ros/DetectionArray with track positions'),
    'state_publish_hz': (25.0, 'vehicle/state rate (and action feedback rate), Hz'),
    'setpoint_hz': (20.0, 'control rate of the mavlink and twist interfaces, Hz (>= 10)'),
    'mavlink.url': ('udpin:0.0.0.0:14540', 'pymavlink connection string of the autopilot'),
    'mavlink.autopilot': ('auto', 'auto | px4 | ardupilot'),
    'mavlink.source_system': (245, 'our MAVLink system id'),
    'mavlink.target_system': (1, "the autopilot's system id"),
    'mavlink.heartbeat_hz': (2.0, 'rate of our HEARTBEAT (>= 1)'),
    'mavlink.warmup_s': (1.0, 'setpoint stream before requesting OFFBOARD/GUIDED'),
    'mavlink.link_timeout_s': (3.0, 'autopilot silent this long: link lost'),
    'twist.position_kp': (1.0, 'position error -> velocity (1/s)'),
    'twist.yaw_kp': (1.5, 'heading error -> yaw rate (1/s)'),
    'twist.planar': (False, 'ground robot: no real height; a virtual one keeps takeoff/land'),
}


class FlightControllerNode(Node):
    """See the module docstring."""

    def __init__(self, **kwargs) -> None:
        super().__init__('flight_controller', **kwargs)
        for name, (default, description) in {**NODE_PARAMETERS, **PARAMETERS}.items():
            self.declare_parameter(name, default, ParameterDescriptor(
                description=description, dynamic_typing=True))
        self._diagnostics = NodeDiagnostics(self)
        self._pending: dict[str, tuple[Any, Future]] = {}
        self.manager: FlightManager | None = None
        problem = self._setup()
        if problem:
            self.get_logger().error(f'flight controller not started: {problem}')
            self._diagnostics.set_status(ERROR, f'not started: {problem}')

    # ------------------------------------------------------------------------------ set-up
    def _param(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _setup(self) -> str | None:
        try:
            config = ControllerConfig.from_parameters({k: self._param(k) for k in PARAMETERS})
        except ConfigError as exc:
            return str(exc)
        self._interface = self._param('vehicle_interface')
        if self._interface not in INTERFACES:
            return f"vehicle_interface '{self._interface}' is not one of {', '.join(INTERFACES)}"
        for name in ('state_publish_hz', 'setpoint_hz', 'mavlink.heartbeat_hz'):
            value = self._param(name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                return f'{name} must be a positive number, got {value!r}'
        if self._interface != 'sim' and self._param('setpoint_hz') < 10.0:
            return 'setpoint_hz must be at least 10 (PX4 drops out of OFFBOARD below 2 Hz)'
        self._world_frame = self._param('world_frame')
        world_frames = (self._world_frame, *self._param('world_frame_aliases'))
        self.manager = FlightManager(config, world_frames=world_frames,
                                     body_frames=(self._param('body_frame'),), log=self._log)
        self._config = config
        problem = {'sim': self._setup_sim, 'mavlink': self._setup_mavlink,
                   'twist': self._setup_twist}[self._interface]()
        if problem:
            self.manager = None
            return problem
        self._state_pub = self.create_publisher(VehicleState, 'vehicle/state', 10)
        self._result_pub = self.create_publisher(CommandResult, 'command_results', 10)
        self.create_subscription(Command, 'commands', self._on_command, 10)
        self.create_subscription(AuthState, 'auth/state', self._on_auth, 10)
        self.create_subscription(Header, 'operator/heartbeat', self._on_heartbeat, 10)
        self.create_subscription(DetectionArray, self._param('follow_topic'), self._on_targets, 10)
        self._action = ActionServer(self, ExecuteCommand, 'execute_command',
                                    execute_callback=self._execute,
                                    goal_callback=lambda goal: GoalResponse.ACCEPT,
                                    cancel_callback=self._on_cancel)
        self.create_timer(1.0 / self._param('state_publish_hz'), self._publish_state)
        self._diagnostics.set_status(OK, f'{self._interface} interface, {self.manager.mode.name}')
        self.get_logger().info(f'flight controller up: {self._interface} interface, world frame '
                               f"'{self._world_frame}', geofence {config.geofence.shape}, "
                               f'operator authorisation '
                               f"{'required' if config.require_authorised_operator else 'off'}")
        return None

    def _setup_sim(self) -> str | None:
        path = graph.share_dir() / self._param('vehicle_file')
        try:
            vehicle = VehicleModel.from_yaml(path)
        except VehicleModelError as exc:
            return str(exc)
        cascade = CascadeController(self._config.gains, self._config.limits, vehicle)
        self._motor_loop = MotorLoop(self.manager, cascade, self._config.position_rate_hz)
        self._motor_pub = self.create_publisher(MotorCommand, 'motor_command', 10)
        self._subscribe_state_and_battery()
        self.create_subscription(Imu, 'imu', self._on_imu, SENSOR_QOS)
        return None

    def _setup_twist(self) -> str | None:
        self._velocity_output = VelocityOutput(self._config.limits, self._param('twist.position_kp'),
                                               self._param('twist.yaw_kp'))
        self._virtual_altitude = VirtualAltitude() if self._param('twist.planar') else None
        self._twist_pub = self.create_publisher(Twist, 'cmd_vel', 10)
        self._subscribe_state_and_battery()
        self._last_tick_s: float | None = None
        self.create_timer(1.0 / self._param('setpoint_hz'), self._twist_tick)
        return None

    def _setup_mavlink(self) -> str | None:
        # pymavlink loads its message dialect on import: only when this interface is used.
        from mmchat_ros.control.mavlink_link import LinkSettings, MavlinkLink, MavlinkOffboard
        autopilot = self._param('mavlink.autopilot')
        if autopilot not in ('auto', 'px4', 'ardupilot'):
            return f"mavlink.autopilot '{autopilot}' is not one of auto, px4, ardupilot"
        settings = LinkSettings(
            url=self._param('mavlink.url'), autopilot=autopilot,
            source_system=int(self._param('mavlink.source_system')),
            target_system=int(self._param('mavlink.target_system')),
            heartbeat_hz=float(self._param('mavlink.heartbeat_hz')),
            warmup_s=float(self._param('mavlink.warmup_s')),
            link_timeout_s=float(self._param('mavlink.link_timeout_s')))
        try:
            link = MavlinkLink(settings)
        except (OSError, ValueError) as exc:
            return f"cannot open MAVLink connection '{settings.url}': {exc}"
        self._mavlink = MavlinkOffboard(link, self.manager)
        self.create_timer(1.0 / self._param('setpoint_hz'), self._mavlink_tick)
        return None

    def _subscribe_state_and_battery(self) -> None:
        self.create_subscription(Odometry, self._param('state_topic'), self._on_odometry, 10)
        self.create_subscription(BatteryState, 'battery', self._on_battery, 10)

    # ------------------------------------------------------------------------------- inputs
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _log(self, level: str, message: str) -> None:
        logger = self.get_logger()         # one call site per severity (rclpy requires it)
        if level == 'error':
            logger.error(message)
        elif level == 'warn':
            logger.warning(message)
        else:
            logger.info(message)

    def _on_odometry(self, msg: Odometry) -> None:
        if msg.header.frame_id not in self.manager.world_frames:
            self.get_logger().error(
                f"state estimate in frame '{msg.header.frame_id}' ignored: expected "
                f"{' or '.join(self.manager.world_frames)}", throttle_duration_sec=5.0)
            return
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        v, w = msg.twist.twist.linear, msg.twist.twist.angular
        try:
            orientation = quat_normalized([q.x, q.y, q.z, q.w])
        except ValueError:
            orientation = np.full(4, math.nan)             # refused by the manager below
        # REP-147/nav_msgs: the twist is in child_frame_id (the body): rotate it into the world.
        velocity = rotation_matrix(orientation) @ np.array([v.x, v.y, v.z]) \
            if np.all(np.isfinite(orientation)) else np.full(3, math.nan)
        estimate = StateEstimate(seconds(msg.header.stamp), np.array([p.x, p.y, p.z]), velocity,
                                 orientation, np.array([w.x, w.y, w.z]))
        if self._interface == 'twist' and self._virtual_altitude is not None:
            estimate = self._virtual_altitude.apply(estimate)
        if not self.manager.update_estimate(estimate):
            self.get_logger().warning('state estimate with NaN/inf refused',
                                      throttle_duration_sec=2.0)
        self._diagnostics.record('state')

    def _on_battery(self, msg: BatteryState) -> None:
        self.manager.update_battery(msg.percentage, msg.voltage)

    def _on_auth(self, msg: AuthState) -> None:
        self.manager.update_authorisation(Authorisation(msg.operator_id, msg.authorised,
                                                        seconds(msg.expires)))

    def _on_heartbeat(self, _: Header) -> None:
        self.manager.heartbeat(self._now())

    def _on_targets(self, msg: DetectionArray) -> None:
        stamp = seconds(msg.header.stamp)
        for d in msg.detections:
            frame = d.position_frame_id or msg.header.frame_id
            if d.has_position and d.track_id >= 0 and frame in self.manager.world_frames:
                self.manager.update_target(d.track_id, np.array([d.position.x, d.position.y,
                                                                 d.position.z]), stamp)

    def _on_command(self, msg: Command) -> None:
        request = request_from_msg(msg)
        self._answer(request, self.manager.submit(request, self._now()))

    def _answer(self, request: CommandRequest, decision: Decision) -> None:
        result = CommandResult(request_id=request.request_id, verb=request.verb,
                               accepted=decision.accepted, reason=decision.reason)
        result.header.stamp = self.get_clock().now().to_msg()
        self._result_pub.publish(result)

    # ------------------------------------------------------------------------- control loops
    def _on_imu(self, msg: Imu) -> None:
        started = time.perf_counter()
        t = seconds(msg.header.stamp)
        q, w, a = msg.orientation, msg.angular_velocity, msg.linear_acceleration
        orientation = np.array([q.x, q.y, q.z, q.w])
        if msg.orientation_covariance[0] == -1.0 or not np.all(np.isfinite(orientation)) \
                or np.linalg.norm(orientation) < 0.5:
            estimate = self.manager.estimate
            orientation = estimate.orientation if estimate is not None else np.array([0, 0, 0, 1.0])
        try:
            output = self._motor_loop.on_imu(t, quat_normalized(orientation),
                                             np.array([w.x, w.y, w.z]), np.array([a.x, a.y, a.z]))
        except Exception as exc:                       # a controller that throws cannot fly
            self._controller_failed(exc)
            output = MotorOutput(False, np.zeros(self._motor_loop.cascade.mixer.rotor_count))
        command = MotorCommand(header=Header(stamp=msg.header.stamp, frame_id='base_link'),
                               armed=output.armed, thrust_n=output.thrusts_n.tolist())
        self._motor_pub.publish(command)
        self._after_step()
        self._diagnostics.record('control loop', time.perf_counter() - started)

    def _twist_tick(self) -> None:
        now = self._now()
        m = self.manager
        setpoint = m.step(now)
        command = self._velocity_output.command(setpoint, m.estimate if m.estimate_fresh(now) else None)
        if self._virtual_altitude is not None:
            dt = 0.0 if self._last_tick_s is None else min(now - self._last_tick_s, 0.5)
            self._virtual_altitude.update(float(command.linear[2]), dt)
            command.linear[2] = 0.0
        self._last_tick_s = now
        self._twist_pub.publish(Twist(linear=Vector3(**dict(zip('xyz', command.linear.tolist()))),
                                      angular=Vector3(z=float(command.yaw_rate))))
        self._after_step()

    def _mavlink_tick(self) -> None:
        self._mavlink.tick(self._now())
        self._after_step()

    def _controller_failed(self, exc: Exception) -> None:
        self.get_logger().error(f'controller error, stopping the motors: {exc!r}\n'
                                f'{traceback.format_exc()}')
        self._diagnostics.set_status(ERROR, f'controller error: {exc!r}')
        self.manager.submit(CommandRequest('controller-error', Verb.EMERGENCY_STOP), self._now())

    def _after_step(self) -> None:
        for outcome in self.manager.pop_outcomes():
            pending = self._pending.pop(outcome.request_id, None)
            if pending is not None and not pending[1].done():
                pending[1].set_result(outcome)

    # --------------------------------------------------------------------------------- action
    def _on_cancel(self, goal_handle) -> CancelResponse:
        request_id = next((r for r, (g, _) in self._pending.items() if g is goal_handle), None)
        if request_id is None or not self.manager.cancel(request_id, self._now()):
            return CancelResponse.REJECT
        self._after_step()
        return CancelResponse.ACCEPT

    async def _execute(self, goal_handle) -> ExecuteCommand.Result:
        msg = goal_handle.request.command
        request_id = msg.request_id or ''.join(f'{b:02x}' for b in goal_handle.goal_id.uuid)
        request = request_from_msg(msg, request_id)
        if request_id in self._pending:
            decision = Decision(False, f'request_id {request_id} is already running')
        else:
            decision = self.manager.submit(request, self._now())
        self._answer(request, decision)
        if not decision.accepted:
            goal_handle.abort()
            return ExecuteCommand.Result(success=False, reason=decision.reason,
                                         final_pose=self._pose())
        future = Future()
        self._pending[request_id] = (goal_handle, future)
        self._after_step()                      # outcomes known at once (ARM, EMERGENCY_STOP)
        outcome: Outcome = await future
        if goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif outcome.success:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return ExecuteCommand.Result(success=outcome.success, reason=outcome.reason,
                                     final_pose=self._pose())

    # -------------------------------------------------------------------------------- output
    def _pose(self) -> Pose:
        e = self.manager.estimate
        if e is None:
            return Pose()
        return Pose(position=Point(**dict(zip('xyz', e.position.tolist()))),
                    orientation=Quaternion(**dict(zip('xyzw', e.orientation.tolist()))))

    def _publish_state(self) -> None:
        m = self.manager
        state = VehicleState(mode=int(m.mode), armed=m.armed,
                             battery_fraction=float(m.battery_fraction),
                             battery_voltage=float(m.battery_voltage), failsafe=int(m.failsafe),
                             failsafe_reason=m.failsafe_reason,
                             active_request_id=m.active_request_id)
        state.header.stamp = self.get_clock().now().to_msg()
        # No frame while the estimate is missing or stale: the pose is then only the last known.
        state.header.frame_id = self._world_frame if m.estimate_fresh(self._now()) else ''
        state.pose = self._pose()
        if m.estimate is not None:
            e = m.estimate
            state.velocity = Twist(
                linear=Vector3(**dict(zip('xyz', e.velocity.tolist()))),
                angular=Vector3(**dict(zip('xyz', (rotation_matrix(e.orientation)
                                                   @ e.angular_velocity).tolist()))))
        self._state_pub.publish(state)
        distance = m.distance_remaining
        for goal_handle, _ in self._pending.values():
            if goal_handle.is_active:
                goal_handle.publish_feedback(ExecuteCommand.Feedback(
                    state=state, distance_remaining_m=distance if goal_handle is self._active_goal()
                    else 0.0))
        level = ERROR if m.failsafe else (WARN if not m.estimate_fresh(self._now()) else OK)
        self._diagnostics.set_status(level, f'{m.mode.name}' + (
            f', failsafe {m.failsafe.name}: {m.failsafe_reason}' if m.failsafe else ''))

    def _active_goal(self):
        pending = self._pending.get(self.manager.active_request_id)
        return pending[0] if pending else None

    def destroy_node(self) -> None:
        if self.manager is not None:
            self._leave_vehicle_safe()
            self.manager = None                           # once, however often destroy is called
        super().destroy_node()

    def _leave_vehicle_safe(self) -> None:
        """The controller ends with this node: hand a flying vehicle to what can keep it safe."""
        flying = self.manager.mode in AIRBORNE
        where = f'at {self.manager.estimate.position[2]:.1f} m' if self.manager.estimate else ''
        if self._interface == 'mavlink':
            if flying:
                self.get_logger().warning(f'shutting down in flight {where}: the autopilot lands')
                self._mavlink.link.land()
            self._mavlink.link.close()
        elif self._interface == 'twist':
            if self.context.ok():
                self._twist_pub.publish(Twist())          # stop: nothing else commands the base
            if flying:
                self.get_logger().warning(f'shutting down in flight {where}: velocity set to zero')
        elif flying:
            self.get_logger().warning(f'shutting down in flight {where}: the simulated vehicle has '
                                      'no autopilot to take over')


NODE_CLASS = FlightControllerNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the flight_controller_node executable."""
    return run_node(FlightControllerNode, args)
