"""Simulator node: the built-in MuJoCo simulator as a ROS 2 node, publishing sim time.

Publishes /clock, imu (sensor_msgs/Imu), odom and pose (ground truth, or the noisy estimate when
sensor noise is configured), battery (sensor_msgs/BatteryState), targets (mmchat_ros/DetectionArray
ground truth, for evaluation only) and per camera <name>/image_raw + <name>/camera_info.
Subscribes motor_command (mmchat_ros/MotorCommand).

Lockstep: after an IMU sample stamped t the simulator waits for a MotorCommand stamped t before it
steps again (as long as someone publishes motor commands), so control runs deterministically at any
speed. real_time_factor 1.0 paces the simulation to the wall clock; 0 runs as fast as possible.

A lifecycle node that starts itself (mmchat_ros.lifecycle.ManagedNode): configure loads the world
and the vehicle, activate starts stepping.
"""
from __future__ import annotations

from dataclasses import dataclass
import time

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, CameraInfo, Image, Imu
from std_msgs.msg import Header

from mmchat_ros import graph
from mmchat_ros.calibration import CameraCalibration
from mmchat_ros.diagnostics import OK, WARN
from mmchat_ros.geometry import rotation_matrix
from mmchat_ros.msg import Detection, DetectionArray, MotorCommand
from mmchat_ros.lifecycle import ManagedNode
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import parameter
from mmchat_ros.ros_io import (SENSOR_QOS, camera_info_msg, image_msg, point, pose, quaternion,
                               vector3)
from mmchat_ros.simulation import Disturbances, Simulator, WorldError
from mmchat_ros.vehicle_model import VehicleModelError

@dataclass(frozen=True)
class SimParameters:
    """Parameters of the simulator node."""

    world: str = parameter('sim/worlds/indoor_room.yaml',
                           'world file (relative to the package share)')
    vehicle: str = parameter('sim/vehicles/quadrotor.yaml',
                             'vehicle file (relative to the package share)')
    seed: int = parameter(0, 'random seed of textures and noise')
    control_rate_hz: float = parameter(200.0, 'IMU / odometry rate, and the lockstep rate',
                                       positive=True)
    camera_rate_hz: float = parameter(20.0, 'rendered camera rate (sim time; divides '
                                    'control_rate_hz)', positive=True)
    camera_width: int = parameter(320, 'rendered image width, pixels', minimum=16)
    camera_height: int = parameter(240, 'rendered image height, pixels', minimum=16)
    cameras: tuple[str, ...] = parameter(['forward'], 'vehicle cameras to render (forward, '
                                         'down)')
    battery_rate_hz: float = parameter(10.0, 'battery and targets rate', positive=True)
    real_time_factor: float = parameter(1.0, 'sim seconds per wall second; 0: as fast as possible',
                                        minimum=0.0)
    lockstep: bool = parameter(True, 'wait for the motor command answering each IMU sample',
                               dynamic=True)
    lockstep_timeout_s: float = parameter(
        1.0, 'wall time to wait for a motor command before stepping anyway', minimum=0.0,
        dynamic=True)
    initial_battery_fraction: float = parameter(1.0, 'charge at start, 0..1', minimum=0.0,
                                                maximum=1.0)
    wind_mps: tuple[float, ...] = parameter([0.0, 0.0, 0.0], 'mean wind velocity, world ENU, m/s')
    gust_std_mps: float = parameter(0.0, 'gust strength (std), m/s', minimum=0.0)
    gyro_noise_rps: float = parameter(0.0, 'IMU gyro noise std, rad/s', minimum=0.0)
    accel_noise_mps2: float = parameter(0.0, 'IMU accelerometer noise std, m/s^2', minimum=0.0)
    orientation_noise_rad: float = parameter(0.0, 'IMU orientation noise std, rad', minimum=0.0)
    position_noise_m: float = parameter(0.0, 'odometry position noise std, m', minimum=0.0)
    velocity_noise_mps: float = parameter(0.0, 'odometry velocity noise std, m/s', minimum=0.0)
    mass_error_fraction: float = parameter(0.0, 'true mass = nominal * (1 + this)', minimum=-0.9)
    image_noise_std: float = parameter(0.0, 'camera pixel noise std (0-255)', minimum=0.0)
    motion_blur_px: int = parameter(0, 'camera horizontal motion blur, pixels', minimum=0)

    def disturbances(self) -> Disturbances:
        """The simulator's disturbances these parameters ask for."""
        names = ('gust_std_mps', 'gyro_noise_rps', 'accel_noise_mps2', 'orientation_noise_rad',
                 'position_noise_m', 'velocity_noise_mps', 'mass_error_fraction',
                 'image_noise_std', 'motion_blur_px')
        return Disturbances(wind_mps=tuple(self.wind_mps),
                            **{name: getattr(self, name) for name in names})


def stamp(seconds: float) -> Time:
    """A builtin_interfaces/Time for simulated seconds."""
    nanoseconds = int(round(seconds * 1e9))
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


class SimNode(ManagedNode):
    """Steps the simulator, publishes its sensors and sim time, and applies motor commands."""

    PARAMETERS = SimParameters
    CONFIGURE_ERRORS = (WorldError, VehicleModelError, ValueError)

    def __init__(self, **kwargs) -> None:
        super().__init__('sim', **kwargs)
        publisher = self.create_lifecycle_publisher
        self._clock_pub = publisher(Clock, '/clock', 10)
        self._imu_pub = publisher(Imu, 'imu', SENSOR_QOS)
        self._odom_pub = publisher(Odometry, 'odom', 10)
        self._pose_pub = publisher(PoseStamped, 'pose', 10)
        self._battery_pub = publisher(BatteryState, 'battery', 10)
        self._targets_pub = publisher(DetectionArray, 'targets', 10)
        self._camera_pubs = {name: (publisher(Image, f'{name}/image_raw', SENSOR_QOS),
                                    publisher(CameraInfo, f'{name}/camera_info', SENSOR_QOS))
                             for name in self._params.values.cameras}
        self._cameras: dict[str, tuple[CameraCalibration, str]] = {}
        self.sim: Simulator | None = None
        self._lockstep_timeouts = 0

    def build(self) -> None:
        """Load the world and the vehicle."""
        self.sim = self._build_simulator()
        p = self._params.values
        self._control_dt = 1.0 / p.control_rate_hz
        self._camera_every = self._steps_per_period('camera_rate_hz')
        self._battery_every = self._steps_per_period('battery_rate_hz')
        for name in p.cameras:
            mount = self.sim.vehicle.cameras[name]
            calibration = CameraCalibration.pinhole(p.camera_width, p.camera_height,
                                                    mount.horizontal_fov_deg, name)
            topic = 'camera' if name == 'forward' else f'camera_{name}'
            self._cameras[name] = (calibration, f'{topic}_optical_frame')
        self.get_logger().info(
            f'world {self.sim.world.name}, vehicle {self.sim.vehicle.name}, '
            f'{1 / self._control_dt:.0f} Hz control, cameras {list(self._cameras)} '
            f'{p.camera_width}x{p.camera_height} at '
            f'{1 / (self._camera_every * self._control_dt):.1f} Hz, '
            f"real-time factor {p.real_time_factor or 'max'}")

    def start(self) -> None:
        """Step in time (or as fast as possible) and take motor commands."""
        rtf = self._params.values.real_time_factor
        self._steps = 0
        self._awaiting: Time | None = None
        self._awaiting_since = 0.0
        self._wall_start = time.monotonic()
        self._motor_sub = self.subscribe(MotorCommand, 'motor_command', self._on_motor, 10)
        self.every(self._control_dt / rtf if rtf > 0 else 0.0, self._tick)
        self._diagnostics.set_status(OK, f'simulating {self.sim.world.name}')

    def release(self) -> None:
        """Close the simulator."""
        if self.sim is not None:
            self.sim.close()
            self.sim = None
        self._cameras = {}

    def _steps_per_period(self, rate_parameter: str) -> int:
        """Control steps between two publications at `rate_parameter` (a whole number)."""
        p = self._params.values
        ratio = p.control_rate_hz / getattr(p, rate_parameter)
        steps = max(1, round(ratio))
        if abs(ratio - steps) > 1e-6:
            self.get_logger().warning(f'{rate_parameter} is not a divisor of control_rate_hz: '
                                      f'publishing every {steps} control steps')
        return steps

    def _build_simulator(self) -> Simulator:
        share = graph.share_dir()
        p = self._params.values
        sim = Simulator.from_files(share / p.world, share / p.vehicle,
                                   disturbances=p.disturbances(), seed=p.seed,
                                   camera_aspect=p.camera_height / p.camera_width)
        unknown = set(p.cameras) - set(sim.vehicle.cameras)
        if unknown:
            sim.close()
            raise WorldError(f'the vehicle has no camera {sorted(unknown)} '
                             f'(it has {sorted(sim.vehicle.cameras)})')
        sim.drain_battery_to(p.initial_battery_fraction)
        return sim

    def _on_motor(self, msg: MotorCommand) -> None:
        try:
            self.sim.set_thrusts(msg.thrust_n, msg.armed)
        except ValueError as exc:
            self.get_logger().error(f'motor command ignored: {exc}', throttle_duration_sec=5.0)
            self._diagnostics.set_status(WARN, f'bad motor command: {exc}')
            return
        if self._awaiting is not None and msg.header.stamp == self._awaiting:
            self._awaiting = None

    def _waiting_for_controller(self) -> bool:
        if self._awaiting is None or not self._params.values.lockstep:
            return False
        if self._motor_sub.get_publisher_count() == 0:
            return False
        if time.monotonic() - self._awaiting_since < self._params.values.lockstep_timeout_s:
            return True
        self._lockstep_timeouts += 1
        self._diagnostics.set_value('lockstep timeouts', self._lockstep_timeouts)
        self.get_logger().warning('no motor command answered the last IMU sample: stepping on with '
                                  'the last one', throttle_duration_sec=5.0)
        return False

    def _tick(self) -> None:
        if self._waiting_for_controller():
            return
        self.sim.step(self._control_dt)
        now = self.sim.time_s
        header = Header(stamp=stamp(now), frame_id='base_link')
        self._clock_pub.publish(Clock(clock=header.stamp))
        self._publish_state(header)
        if self._steps % self._camera_every == 0:
            self._publish_cameras(header.stamp)
        if self._steps % self._battery_every == 0:
            self._publish_battery_and_targets(header.stamp)
        self._steps += 1
        self._awaiting, self._awaiting_since = header.stamp, time.monotonic()
        wall_s = max(time.monotonic() - self._wall_start, 1e-9)
        self._diagnostics.set_value('real-time factor', round(now / wall_s, 3))

    def _publish_state(self, header: Header) -> None:
        imu = self.sim.imu()
        d = self.sim.disturbances
        self._imu_pub.publish(Imu(
            header=header, orientation=quaternion(imu.orientation_xyzw),
            orientation_covariance=_diagonal(d.orientation_noise_rad),
            angular_velocity=vector3(imu.angular_velocity_rps),
            angular_velocity_covariance=_diagonal(d.gyro_noise_rps),
            linear_acceleration=vector3(imu.linear_acceleration_mps2),
            linear_acceleration_covariance=_diagonal(d.accel_noise_mps2)))
        state = self.sim.estimate()
        body_pose = pose(state.position_m, state.quaternion_xyzw)
        odom_header = Header(stamp=header.stamp, frame_id='odom')
        body_velocity = rotation_matrix(state.quaternion_xyzw).T @ state.velocity_mps
        odometry = Odometry(header=odom_header, child_frame_id='base_link')
        odometry.pose.pose = body_pose
        odometry.pose.covariance[0] = odometry.pose.covariance[7] = odometry.pose.covariance[14] = \
            d.position_noise_m ** 2
        odometry.twist.twist = Twist(linear=vector3(body_velocity),
                                     angular=vector3(state.angular_velocity_rps))
        self._odom_pub.publish(odometry)
        self._pose_pub.publish(PoseStamped(header=odom_header, pose=body_pose))

    def _publish_cameras(self, time_stamp: Time) -> None:
        for name, (calibration, frame_id) in self._cameras.items():
            image_pub, info_pub = self._camera_pubs[name]
            started = time.perf_counter()
            frame = self.sim.render(name, calibration.width, calibration.height)
            header = Header(stamp=time_stamp, frame_id=frame_id)
            image_pub.publish(image_msg(frame, 'bgr8', header))
            info_pub.publish(camera_info_msg(calibration, header))
            self._diagnostics.record(f'{name} render', time.perf_counter() - started)

    def _publish_battery_and_targets(self, time_stamp: Time) -> None:
        reading = self.sim.battery()
        self._battery_pub.publish(BatteryState(
            header=Header(stamp=time_stamp, frame_id='base_link'), voltage=reading.voltage_v,
            percentage=reading.fraction, present=True,
            power_supply_status=BatteryState.POWER_SUPPLY_STATUS_DISCHARGING))
        targets = DetectionArray(header=Header(stamp=time_stamp, frame_id='odom'))
        for truth in self.sim.targets():
            targets.detections.append(Detection(
                class_name=truth.kind, class_id=0 if truth.kind == 'person' else 1, score=1.0,
                track_id=truth.target_id, track_state=Detection.TRACK_CONFIRMED, has_position=True,
                position_frame_id='odom', position=point(truth.position_m)))
        self._targets_pub.publish(targets)


def _diagonal(std: float) -> list[float]:
    variance = std * std
    return [variance, 0.0, 0.0, 0.0, variance, 0.0, 0.0, 0.0, variance]


NODE_CLASS = SimNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the sim_node executable."""
    return run_node(SimNode, args)
