"""Flight controller node: one controller (mmchat_ros.control) behind three vehicle interfaces.

vehicle_interface (mmchat_ros.control.vehicle_interface, one protocol for the three):
  sim      motor level: answers every `imu` sample with one `motor_command` stamped like it
           (the simulator's lockstep), running the cascade PID and the mixer.
  mavlink  PX4 / ArduPilot offboard over pymavlink (mavlink.* parameters); the autopilot's
           LOCAL_POSITION_NED / ATTITUDE are the state estimate, SYS_STATUS the battery.
  twist    velocity level: geometry_msgs/Twist on `cmd_vel` (body FLU) at setpoint_hz.

Subscribes: imu (sensor_msgs/Imu; sim), <state_topic> (nav_msgs/Odometry; sim and twist),
  battery (sensor_msgs/BatteryState; sim and twist), commands (mmchat_ros/Command),
  auth/state (mmchat_ros/AuthState), operator/heartbeat (std_msgs/Header: any message counts, its
  receipt time is used), <follow_topic> (mmchat_ros/DetectionArray: track positions for
  FOLLOW_TRACK).
Publishes: motor_command (mmchat_ros/MotorCommand; sim), cmd_vel (twist), vehicle/state
  (mmchat_ros/VehicleState at state_publish_hz), command_results (mmchat_ros/CommandResult: one
  answer per Command, accepted or rejected with the reason).
Action: execute_command (mmchat_ros/action/ExecuteCommand): runs a Command to completion with
  feedback (state, distance remaining); cancel = hold position. Action goals come from the API
  unless the Command says otherwise, and pass the same checks as topic commands.

A lifecycle node that starts itself (mmchat_ros.lifecycle.ManagedNode): configure checks the
settings together and makes the manager and the interface; activate opens the interface and runs
the loop; deactivate (and shutdown) hands a flying vehicle over: MAVLink asks the autopilot to
land, twist sends zero velocity.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import time
import traceback
from typing import Any

from geometry_msgs.msg import Pose, Twist, Vector3
from nav_msgs.msg import Odometry
import numpy as np
from builtin_interfaces.msg import Time
from rclpy.action import ActionServer, CancelResponse, GoalResponse
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
from mmchat_ros.control.motor_loop import MotorOutput
from mmchat_ros.control.vehicle_interface import (ImuSample, InterfaceError, MavlinkInterface,
                                                  MotorInterface, Output, VehicleInterface,
                                                  VelocityInterface)
from mmchat_ros.control.velocity_output import VelocityCommand, VelocityOutput
from mmchat_ros.diagnostics import ERROR, OK, WARN
from mmchat_ros.geometry import quat_normalized, rotation_matrix
from mmchat_ros.lifecycle import ConfigureError, ManagedNode
from mmchat_ros.msg import (AuthState, Command, CommandResult, DetectionArray, MotorCommand,
                            VehicleState)
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import Declaration, group, parameter
from mmchat_ros.ros_io import SENSOR_QOS, pose, request_from_msg, seconds, vector3
from mmchat_ros.vehicle_model import VehicleModel, VehicleModelError

INTERFACES = ('sim', 'mavlink', 'twist')


@dataclass(frozen=True)
class MavlinkGroup:
    """MAVLink link parameters (mavlink.*)."""

    url: str = parameter('udpin:0.0.0.0:14540', 'pymavlink connection string of the autopilot')
    autopilot: str = parameter('auto', 'autopilot type', choices=('auto', 'px4', 'ardupilot'))
    source_system: int = parameter(245, 'our MAVLink system id', minimum=1, maximum=255)
    target_system: int = parameter(1, "the autopilot's system id", minimum=1, maximum=255)
    heartbeat_hz: float = parameter(2.0, 'rate of our HEARTBEAT (>= 1)', minimum=1.0)
    warmup_s: float = parameter(1.0, 'setpoint stream before requesting OFFBOARD/GUIDED',
                                minimum=0.0)
    link_timeout_s: float = parameter(3.0, 'autopilot silent this long: link lost', positive=True)


@dataclass(frozen=True)
class TwistGroup:
    """Velocity-level output parameters (twist.*)."""

    position_kp: float = parameter(1.0, 'position error -> velocity (1/s)', minimum=0.0)
    yaw_kp: float = parameter(1.5, 'heading error -> yaw rate (1/s)', minimum=0.0)
    planar: bool = parameter(False, 'ground robot: no real height; a virtual one keeps '
                             'takeoff/land')


@dataclass(frozen=True)
class FlightControllerParameters:
    """Parameters of the flight controller node (the controller's own: control.config)."""

    vehicle_interface: str = parameter('sim', 'how the vehicle is commanded', choices=INTERFACES)
    vehicle_file: str = parameter('sim/vehicles/quadrotor.yaml', 'vehicle model (mass, rotors) '
                                  'for the sim interface, relative to the package share')
    state_topic: str = parameter('/sim/odom', 'nav_msgs/Odometry state estimate (sim, twist)')
    world_frame: str = parameter('odom', 'frame of the state estimate and of GOTO goals')
    world_frame_aliases: tuple[str, ...] = parameter(
        ['map'], 'other frame ids accepted as the world frame')
    body_frame: str = parameter('base_link', 'frame id of body-relative MOVE_BY commands')
    follow_topic: str = parameter('/detections', 'mmchat_ros/DetectionArray with track positions')
    state_publish_hz: float = parameter(25.0, 'vehicle/state rate (and action feedback rate), Hz',
                                        positive=True)
    setpoint_hz: float = parameter(20.0, 'control rate of the mavlink and twist interfaces, Hz '
                                   '(>= 10)', positive=True)
    mavlink: MavlinkGroup = group(MavlinkGroup)
    twist: TwistGroup = group(TwistGroup)


#: The controller's settings (control.config.PARAMETERS), checked together by ControllerConfig.
CONTROLLER_PARAMETERS = tuple(Declaration(name, default, description)
                              for name, (default, description) in PARAMETERS.items())


class FlightControllerNode(ManagedNode):
    """See the module docstring."""

    PARAMETERS = FlightControllerParameters
    EXTRA_PARAMETERS = CONTROLLER_PARAMETERS
    DYNAMIC_TYPING = True                      # a settings file may write 1 for 1.0
    CONFIGURE_ERRORS = (ConfigError, VehicleModelError, InterfaceError)

    def __init__(self, **kwargs) -> None:
        super().__init__('flight_controller', **kwargs)
        self._pending: dict[str, tuple[Any, Future]] = {}
        self.manager: FlightManager | None = None
        self._vehicle: VehicleInterface | None = None
        self._output_pub = None                # the interface's output topic, if it has one
        self._state_pub = self.create_lifecycle_publisher(VehicleState, 'vehicle/state', 10)
        self._result_pub = self.create_lifecycle_publisher(CommandResult, 'command_results', 10)

    # ------------------------------------------------------------------------------ lifecycle
    def build(self) -> None:
        """Check the settings together; make the manager and the vehicle interface."""
        config = ControllerConfig.from_parameters(self._params.flat(PARAMETERS))
        p = self._params.values
        self.manager = FlightManager(config, world_frames=(p.world_frame, *p.world_frame_aliases),
                                     body_frames=(p.body_frame,), log=self._log)
        interfaces = {'sim': self._motor_interface, 'mavlink': self._mavlink_interface,
                      'twist': self._velocity_interface}
        self._vehicle = interfaces[p.vehicle_interface](config)
        if not self._vehicle.paced_by_imu and p.setpoint_hz < 10.0:
            raise ConfigureError('setpoint_hz must be at least 10 (PX4 drops out of OFFBOARD '
                                 'below 2 Hz)')
        self.get_logger().info(f'flight controller up: {p.vehicle_interface} interface, world '
                               f"frame '{p.world_frame}', geofence {config.geofence.shape}, "
                               f'operator authorisation '
                               f"{'required' if config.require_authorised_operator else 'off'}")

    def start(self) -> None:
        """Open the interface; take the state, commands and goals; run the loop."""
        p = self._params.values
        self._vehicle.start(self._now())
        if self._vehicle.uses_state_topics:
            self.subscribe(Odometry, p.state_topic, self._on_odometry, 10)
            self.subscribe(BatteryState, 'battery', self._on_battery, 10)
        if self._vehicle.paced_by_imu:
            self.subscribe(Imu, 'imu', self._on_imu, SENSOR_QOS)
        else:
            self.every(1.0 / p.setpoint_hz, self._tick)
        self.subscribe(Command, 'commands', self._on_command, 10)
        self.subscribe(AuthState, 'auth/state', self._on_auth, 10)
        self.subscribe(Header, 'operator/heartbeat', self._on_heartbeat, 10)
        self.subscribe(DetectionArray, p.follow_topic, self._on_targets, 10)
        self.keep_while_active(
            ActionServer(self, ExecuteCommand, 'execute_command', execute_callback=self._execute,
                         goal_callback=lambda goal: GoalResponse.ACCEPT,
                         cancel_callback=self._on_cancel), ActionServer.destroy)
        self.every(1.0 / p.state_publish_hz, self._publish_state)
        self._diagnostics.set_status(OK, f'{p.vehicle_interface} interface, '
                                         f'{self.manager.mode.name}')

    def stop(self) -> None:
        """The controller stops commanding: hand a flying vehicle to what can keep it safe."""
        estimate = self.manager.estimate
        if self.manager.mode in AIRBORNE:
            where = f' at {estimate.position[2]:.1f} m' if estimate is not None else ''
            self.get_logger().warning(f'stopping in flight{where}: {self._vehicle.handover}')
        self._send(self._vehicle.close(), self.get_clock().now().to_msg())

    def release(self) -> None:
        """Drop the manager, the interface and its output topic."""
        if self._output_pub is not None:
            self.destroy_publisher(self._output_pub[0])
            self._output_pub = None
        self.manager = self._vehicle = None

    def _motor_interface(self, config: ControllerConfig) -> MotorInterface:
        vehicle = VehicleModel.from_yaml(graph.share_dir() / self._params.values.vehicle_file)
        self._output_pub = (self.create_publisher(MotorCommand, 'motor_command', 10), _motor_msg)
        return MotorInterface(self.manager, CascadeController(config.gains, config.limits, vehicle),
                              config.position_rate_hz)

    def _velocity_interface(self, config: ControllerConfig) -> VelocityInterface:
        p = self._params.values.twist
        self._output_pub = (self.create_publisher(Twist, 'cmd_vel', 10), _twist_msg)
        return VelocityInterface(self.manager, VelocityOutput(config.limits, p.position_kp,
                                                              p.yaw_kp), p.planar)

    def _mavlink_interface(self, config: ControllerConfig) -> MavlinkInterface:
        # pymavlink loads its message dialect on import: only when this interface is used.
        from mmchat_ros.control.mavlink_link import LinkSettings
        p = self._params.values.mavlink
        return MavlinkInterface(self.manager, LinkSettings(
            url=p.url, autopilot=p.autopilot, source_system=p.source_system,
            target_system=p.target_system, heartbeat_hz=p.heartbeat_hz, warmup_s=p.warmup_s,
            link_timeout_s=p.link_timeout_s))

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
        if not self.manager.update_estimate(self._vehicle.adjust(estimate)):
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
        q, w, a = msg.orientation, msg.angular_velocity, msg.linear_acceleration
        orientation = np.array([q.x, q.y, q.z, q.w])
        if msg.orientation_covariance[0] == -1.0 or not np.all(np.isfinite(orientation)) \
                or np.linalg.norm(orientation) < 0.5:
            estimate = self.manager.estimate
            orientation = estimate.orientation if estimate is not None else np.array([0, 0, 0, 1.0])
        sample = ImuSample(seconds(msg.header.stamp), quat_normalized(orientation),
                           np.array([w.x, w.y, w.z]), np.array([a.x, a.y, a.z]))
        self._step(sample, msg.header.stamp)
        self._diagnostics.record('control loop', time.perf_counter() - started)

    def _tick(self) -> None:
        self._step(None, self.get_clock().now().to_msg())

    def _step(self, imu: ImuSample | None, stamp: Time) -> None:
        """One controller step on the vehicle interface; its output is stamped `stamp`."""
        try:
            output = self._vehicle.step(self._now(), imu)
        except Exception as exc:                       # a controller that throws cannot fly
            self._controller_failed(exc)
            output = self._vehicle.halt()
        self._send(output, stamp)
        self._after_step()

    def _send(self, output: Output, stamp: Time) -> None:
        if output is not None and self._output_pub is not None and self.context.ok():
            publisher, message = self._output_pub
            publisher.publish(message(output, stamp))

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
        return pose(e.position, e.orientation)

    def _publish_state(self) -> None:
        m = self.manager
        state = VehicleState(mode=int(m.mode), armed=m.armed,
                             battery_fraction=float(m.battery_fraction),
                             battery_voltage=float(m.battery_voltage), failsafe=int(m.failsafe),
                             failsafe_reason=m.failsafe_reason,
                             active_request_id=m.active_request_id)
        state.header.stamp = self.get_clock().now().to_msg()
        # No frame while the estimate is missing or stale: the pose is then only the last known.
        state.header.frame_id = self._params.values.world_frame if m.estimate_fresh(self._now()) \
            else ''
        state.pose = self._pose()
        if m.estimate is not None:
            e = m.estimate
            state.velocity = Twist(
                linear=vector3(e.velocity),
                angular=vector3(rotation_matrix(e.orientation) @ e.angular_velocity))
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


def _motor_msg(output: MotorOutput, stamp: Time) -> MotorCommand:
    return MotorCommand(header=Header(stamp=stamp, frame_id='base_link'), armed=output.armed,
                        thrust_n=output.thrusts_n.tolist())


def _twist_msg(command: VelocityCommand, stamp: Time) -> Twist:
    return Twist(linear=vector3(command.linear), angular=Vector3(z=float(command.yaw_rate)))


NODE_CLASS = FlightControllerNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the flight_controller_node executable."""
    return run_node(FlightControllerNode, args)
