"""SLAM node: monocular ORB-SLAM3 on the camera, with metric scale from altitude and attitude.

Subscribes:
  image_raw   (sensor_msgs/Image bgr8 / rgb8 / mono8, sensor-data QoS)
  camera_info (sensor_msgs/CameraInfo: the ORB-SLAM3 settings are generated from the first one)
  imu         (sensor_msgs/Imu: attitude, for the gravity direction of the map)
  altitude    (nav_msgs/Odometry: pose z is the altitude; x, y at the first fit anchor the map)
Publishes (under the node's name, e.g. /slam/...):
  ~/pose       (geometry_msgs/PoseStamped) camera optical frame in `map` (metric, z up) once the
               scale is known, before that in `slam_map` (ORB-SLAM3's own frame, unscaled)
  ~/odom       (nav_msgs/Odometry) base_link in `map`, once the scale is known; NaN while tracking
               is lost or the scale unknown again (a new map), so a controller's failsafe acts at
               once
  ~/path       (nav_msgs/Path) camera path of the current map (same frame as the pose)
  ~/map_points (sensor_msgs/PointCloud2) map points seen at keyframes (same frame)
  ~/state      (mmchat_ros/SlamState) every frame
  TF map -> camera frame (tf2_ros, where it is installed)
Service:
  ~/reset      (std_srvs/Trigger) drop the map and start a new one

Lifecycle (mmchat_ros.lifecycle.ManagedNode): configure checks the ORB parameters, the camera mount
and the vocabulary (decompressing the shipped one once); a problem leaves the node unconfigured
with the reason logged. ORB-SLAM3 itself starts on the first camera_info once active (its settings
need the intrinsics), in a child process (mmchat_ros.slam.backend.IsolatedBackend): if it dies, the
odometry turns NaN, the error is logged and the next camera_info starts it again. Frames are paced
at `fps`: a newer frame replaces one still waiting.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
from pathlib import Path
import shutil
import tempfile
import time

import cv2
import numpy as np
from geometry_msgs.msg import PoseStamped, PoseWithCovariance, TransformStamped, Twist
from nav_msgs.msg import Odometry, Path as PathMsg
from sensor_msgs.msg import CameraInfo, Image, Imu, PointCloud2, PointField
from std_msgs.msg import Header
from std_srvs.srv import Trigger

from mmchat_ros import graph
from mmchat_ros.calibration import CalibrationError, CameraCalibration
from mmchat_ros.diagnostics import ERROR, OK, WARN
from mmchat_ros.geometry import quaternion_from_matrix, rotation_matrix
from mmchat_ros.image_codec import ImageFormatError
from mmchat_ros.lifecycle import ManagedNode
from mmchat_ros.msg import SlamState
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import group, parameter
from mmchat_ros.ros_io import (ENCODINGS, NAN_POSE, SENSOR_QOS, image_array, pose_from_matrix,
                               quaternion, seconds, vector3)
from mmchat_ros.slam import vocabulary
from mmchat_ros.slam.backend import BackendError, TrackingState, open_backend
from mmchat_ros.slam.bookkeeping import BodyVelocity, MapCloud, SampleBuffer
from mmchat_ros.slam.poses import invert, optical_from_body
from mmchat_ros.slam.scale import ScaleEstimator
from mmchat_ros.slam.session import FrameOutput, SlamSession
from mmchat_ros.slam.settings import OrbParameters, SettingsError, write_settings
from mmchat_ros.vehicle_model import VehicleModel, VehicleModelError

def _cloud(points: np.ndarray, header: Header) -> PointCloud2:
    data = np.ascontiguousarray(points, dtype=np.float32)
    fields = [PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
              for i, n in enumerate('xyz')]
    return PointCloud2(header=header, height=1, width=len(data), fields=fields, is_bigendian=False,
                       point_step=12, row_step=12 * len(data), is_dense=True, data=data.tobytes())


@dataclass(frozen=True)
class OrbGroup:
    """ORB extractor parameters (orb.*)."""

    n_features: int = parameter(1000, 'ORB features per image', minimum=100, maximum=20000)
    scale_factor: float = parameter(1.2, 'scale between ORB pyramid levels', minimum=1.0,
                                    positive=True, maximum=2.0)
    n_levels: int = parameter(8, 'ORB pyramid levels', minimum=1, maximum=16)
    ini_fast_threshold: int = parameter(20, 'FAST threshold', minimum=1, maximum=255)
    min_fast_threshold: int = parameter(7, 'FAST threshold where too few corners are found',
                                        minimum=1, maximum=255)


@dataclass(frozen=True)
class ScaleGroup:
    """Metric scale fit parameters (scale.*)."""

    min_climb_m: float = parameter(0.8, 'altitude change while tracking before the scale is '
                                   'fitted', positive=True)
    max_residual_fraction: float = parameter(0.1, 'RMS altitude error of a believed fit / the '
                                             'climb', positive=True)


@dataclass(frozen=True)
class SlamParameters:
    """Parameters of the SLAM node."""

    backend: str = parameter('orbslam3-python', 'SLAM binding (mmchat_ros.slam.backend.BACKENDS)')
    vocabulary: str = parameter('', 'DBoW2 text vocabulary (.txt / .txt.gz, absolute or relative '
                                'to the package share; ORBvoc.txt works); empty: the shipped '
                                f'{vocabulary.SHIPPED}')
    fps: float = parameter(20.0, 'camera rate: frames are given to SLAM at most this often',
                           positive=True, dynamic=True)
    orb: OrbGroup = group(OrbGroup)
    vehicle: str = parameter('sim/vehicles/quadrotor.yaml',
                             'vehicle file with the camera mount (share-relative)')
    camera: str = parameter('forward', 'the camera of the vehicle file this node sees')
    map_frame: str = parameter('map', 'REP-105 map frame: metric, z up (once the scale is known)')
    unscaled_frame: str = parameter('slam_map', 'frame of poses, path and points before the '
                                    'scale is known')
    base_frame: str = parameter('base_link', 'body frame of the odometry')
    publish_tf: bool = parameter(True, 'broadcast map -> camera frame (needs tf2_ros)')
    scale: ScaleGroup = group(ScaleGroup)
    max_path_poses: int = parameter(5000, 'poses kept in the published path', minimum=1)
    max_map_points: int = parameter(30000, 'points kept in the published map cloud', minimum=1,
                                    dynamic=True)
    cloud_period_s: float = parameter(1.0, 'map cloud and path publishing period', positive=True)


class SlamNode(ManagedNode):
    """Monocular SLAM on the camera stream (see the module doc)."""

    PARAMETERS = SlamParameters
    CONFIGURE_ERRORS = (SettingsError, VehicleModelError, vocabulary.VocabularyError, OSError)

    def __init__(self, **kwargs) -> None:
        super().__init__('slam', **kwargs)
        self._state_pub = self.create_lifecycle_publisher(SlamState, '~/state', 10)
        self._pose_pub = self.create_lifecycle_publisher(PoseStamped, '~/pose', 10)
        self._odom_pub = self.create_lifecycle_publisher(Odometry, '~/odom', 10)
        self._path_pub = self.create_lifecycle_publisher(PathMsg, '~/path', 1)
        self._cloud_pub = self.create_lifecycle_publisher(PointCloud2, '~/map_points', 1)
        self._tf = None
        self._session: SlamSession | None = None
        self._vocabulary: Path | None = None
        self._body_from_camera = np.eye(4)
        self._calibration: CameraCalibration | None = None
        self._settings_dir: Path | None = None
        self._starts = 0
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._pending: Image | None = None
        self._last_processed_wall = -math.inf
        self._last_stamp = -math.inf
        self._frames_rejected = 0
        self._frames_dropped = 0
        self._odometry_started = False
        self._odometry_valid = False
        self._raw_path: deque = deque(maxlen=self._params.values.max_path_poses)
        self._cloud = MapCloud()
        self._last_keyframes = 0
        self._velocity = BodyVelocity()
        self._imu: SampleBuffer[np.ndarray] = SampleBuffer()
        self._altitude: SampleBuffer[tuple[float, tuple[float, float]]] = SampleBuffer()

    # --- lifecycle -------------------------------------------------------------------------------

    def build(self) -> None:
        """Check the ORB settings and the camera mount, and prepare the vocabulary."""
        share = graph.share_dir()
        p = self._params.values
        self._orb = OrbParameters(**vars(p.orb))
        self._orb.check()
        vehicle = VehicleModel.from_yaml(share / p.vehicle)
        mount = vehicle.cameras.get(p.camera)
        if mount is None:
            raise VehicleModelError(f"vehicle {vehicle.name} has no camera '{p.camera}' "
                                    f'(it has {sorted(vehicle.cameras)})')
        self._body_from_camera = optical_from_body(mount.pitch_deg, mount.position_m)
        started = time.monotonic()
        self._vocabulary = vocabulary.prepare(share / (p.vocabulary or vocabulary.SHIPPED))
        self.get_logger().info(
            f'vocabulary {self._vocabulary} ready in {time.monotonic() - started:.1f} s')
        self._make_tf_broadcaster()

    def _make_tf_broadcaster(self) -> None:
        if not self._params.values.publish_tf:
            return
        try:
            from tf2_ros import TransformBroadcaster
        except ImportError:
            self.get_logger().info('tf2_ros is not installed here (it is not on PyPI): no TF '
                                   'map -> camera; the pose and odometry topics carry the same')
            return
        self._tf = TransformBroadcaster(self)

    def start(self) -> None:
        """Take camera info, frames, attitude and altitude; pace and publish; serve ~/reset."""
        p = self._params.values
        self.subscribe(CameraInfo, 'camera_info', self._on_camera_info, SENSOR_QOS)
        self.subscribe(Image, 'image_raw', self._on_image, SENSOR_QOS)
        self.subscribe(Imu, 'imu', self._on_imu, SENSOR_QOS)
        self.subscribe(Odometry, 'altitude', self._on_altitude, 10)
        self.every(0.25 / p.fps, self._process_pending)
        self.every(p.cloud_period_s, self._publish_map)
        self.serve(Trigger, '~/reset', self._on_reset)
        self._diagnostics.set_status(OK, 'active: waiting for camera_info')

    def release(self) -> None:
        """Stop ORB-SLAM3 and drop the TF broadcaster."""
        self._close_session()
        self._tf = None

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._settings_dir is not None:
            shutil.rmtree(self._settings_dir, ignore_errors=True)
            self._settings_dir = None
        self._calibration = None

    # --- inputs ----------------------------------------------------------------------------------

    def _on_camera_info(self, msg: CameraInfo) -> None:
        if self._session is not None:
            return
        try:
            calibration = CameraCalibration(
                width=msg.width, height=msg.height, k=list(msg.k), d=list(msg.d),
                distortion_model=msg.distortion_model or 'plumb_bob')
            self._settings_dir = Path(tempfile.mkdtemp(prefix='mmchat_slam_'))
            p = self._params.values
            settings = write_settings(self._settings_dir / 'orbslam3.yaml', calibration, p.fps,
                                      self._orb)
            started = time.monotonic()
            backend = open_backend(p.backend, self._vocabulary, settings)
        except (CalibrationError, SettingsError, BackendError) as exc:
            self.get_logger().error(f'cannot start SLAM from camera_info: {exc}',
                                    throttle_duration_sec=10.0)
            self._diagnostics.set_status(ERROR, f'cannot start: {exc}')
            return
        scale = ScaleEstimator(self._body_from_camera, min_climb_m=p.scale.min_climb_m,
                               max_residual_fraction=p.scale.max_residual_fraction)
        self._session = SlamSession(backend, scale)
        self._calibration = calibration
        self._starts += 1
        self._diagnostics.set_value('SLAM starts', self._starts)
        self.get_logger().info(f'{p.backend} started in {time.monotonic() - started:.1f} s '
                               f'for {msg.width}x{msg.height} at {p.fps} Hz')
        self._diagnostics.set_status(OK, 'initialising')

    def _on_imu(self, msg: Imu) -> None:
        q = msg.orientation
        values = (q.x, q.y, q.z, q.w)
        if all(math.isfinite(v) for v in values) and any(values):
            self._imu.add(seconds(msg.header.stamp), rotation_matrix(values))

    def _on_altitude(self, msg: Odometry) -> None:
        p = msg.pose.pose.position
        if all(math.isfinite(v) for v in (p.x, p.y, p.z)):
            self._altitude.add(seconds(msg.header.stamp), (p.z, (p.x, p.y)))

    def _reject(self, reason: str) -> None:
        self._frames_rejected += 1
        self.get_logger().error(f'image rejected: {reason}', throttle_duration_sec=5.0)
        self._diagnostics.set_status(WARN, f'image rejected: {reason}')
        self._diagnostics.set_value('frames rejected', self._frames_rejected)
        self._diagnostics.set_value('last rejection', reason)

    def _on_image(self, msg: Image) -> None:
        if self._session is None:
            return
        if msg.encoding not in ENCODINGS:
            self._reject(f"encoding '{msg.encoding}' is not one of {', '.join(ENCODINGS)}")
            return
        if (msg.width, msg.height) != (self._calibration.width, self._calibration.height):
            self._reject(f'size {msg.width}x{msg.height} differs from the calibrated '
                         f'{self._calibration.width}x{self._calibration.height} SLAM was '
                         'started with')
            return
        if self._pending is not None:
            self._frames_dropped += 1
            self._diagnostics.set_value('frames dropped (pacing)', self._frames_dropped)
        self._pending = msg
        self._process_pending()

    # --- processing ------------------------------------------------------------------------------

    def _process_pending(self) -> None:
        if self._pending is None or self._session is None:
            return
        now = time.monotonic()
        if now - self._last_processed_wall < 0.95 / self._params.values.fps:
            return
        msg, self._pending = self._pending, None
        stamp = seconds(msg.header.stamp)
        if stamp <= self._last_stamp:
            self._reject(f'time stamp {stamp:.3f} is not after the previous frame '
                         f'({self._last_stamp:.3f})')
            return
        try:
            pixels = image_array(msg, ENCODINGS)
        except ImageFormatError as exc:
            self._reject(str(exc))
            return
        grey = pixels if pixels.ndim == 2 else cv2.cvtColor(
            pixels, cv2.COLOR_RGB2GRAY if msg.encoding == 'rgb8' else cv2.COLOR_BGR2GRAY)
        self._last_processed_wall, self._last_stamp = now, stamp
        attitude, altitude = self._imu.nearest(stamp), self._altitude.nearest(stamp)
        body = (attitude, *altitude) if attitude is not None and altitude is not None else None
        try:
            out = self._session.process(grey, stamp, body)
        except BackendError as exc:
            self._backend_failed(exc, msg.header)
            return
        self._diagnostics.record('frame', out.seconds)
        estimator = self._session.scale_estimator
        self._diagnostics.set_value('scale climb tracked (m)', round(estimator.climb_m, 3))
        self._diagnostics.set_value('scale fit residual (m)', round(estimator.residual_m, 4))
        self._publish_frame(out, msg.header)

    def _backend_failed(self, exc: BackendError, header: Header) -> None:
        """SLAM's process died: invalidate the odometry and drop the session.

        The next camera_info starts a new one.
        """
        self.get_logger().error(f'SLAM failed: {exc}; restarting on the next camera_info')
        self._diagnostics.set_status(ERROR, f'SLAM failed: {exc}')
        if self._odometry_started:
            self._odometry_valid = False
            self._odom_pub.publish(Odometry(
                header=Header(stamp=header.stamp, frame_id=self._params.values.map_frame),
                child_frame_id=self._params.values.base_frame,
                pose=PoseWithCovariance(pose=NAN_POSE)))
        self._close_session()

    def _publish_frame(self, out: FrameOutput, image_header: Header) -> None:
        if out.new_map:
            self._raw_path.clear()
            self._cloud.clear()
            self._velocity.forget_pose()
            self.get_logger().info(f'map {self._session.maps} initialised')
        map_header = Header(stamp=image_header.stamp, frame_id=self._output_frame(out.scale_known))
        if out.map_from_camera is not None:
            self._raw_path.append((image_header.stamp, out.slam_from_camera))
            self._pose_pub.publish(PoseStamped(header=map_header,
                                               pose=pose_from_matrix(out.map_from_camera)))
            self._broadcast_tf(out.map_from_camera, map_header, image_header.frame_id)
            if out.keyframes != self._last_keyframes and len(out.slam_points):
                self._cloud.add(out.slam_points, self._params.values.max_map_points)
        self._last_keyframes = out.keyframes
        self._publish_odometry(out, Header(stamp=image_header.stamp,
                                           frame_id=self._params.values.map_frame))
        self._publish_state(out, map_header)
        self._diagnostics.set_status(
            OK if out.state == TrackingState.OK else WARN,
            f'{out.state.name.lower()}, map {self._session.maps}, '
            f"scale {'%.3f' % out.scale if out.scale_known else 'unknown'}")

    def _output_frame(self, scale_known: bool) -> str:
        p = self._params.values
        return p.map_frame if scale_known else p.unscaled_frame

    def _broadcast_tf(self, pose: np.ndarray, header: Header, camera_frame: str) -> None:
        if self._tf is None:
            return
        transform = TransformStamped(header=header)
        transform.child_frame_id = camera_frame or 'camera_optical_frame'
        transform.transform.translation = vector3(pose[:3, 3])
        transform.transform.rotation = quaternion(quaternion_from_matrix(pose[:3, :3]))
        self._tf.sendTransform(transform)

    def _publish_odometry(self, out: FrameOutput, header: Header) -> None:
        valid = out.map_from_camera is not None and out.scale_known
        odometry = Odometry(header=header, child_frame_id=self._params.values.base_frame)
        if valid:
            body = out.map_from_camera @ invert(self._body_from_camera)
            velocity = self._velocity.update(seconds(header.stamp), body)
            odometry.pose.pose = pose_from_matrix(body)
            odometry.twist.twist = Twist(linear=vector3(velocity))
            self._odometry_started = True
        elif self._odometry_started:
            self._velocity.reset()
            odometry.pose.pose = NAN_POSE
            odometry.twist.twist = Twist(linear=vector3([math.nan] * 3),
                                         angular=vector3([math.nan] * 3))
        else:
            return                          # nothing valid yet: stay silent
        self._odometry_valid = valid
        self._odom_pub.publish(odometry)

    def _publish_state(self, out: FrameOutput, header: Header) -> None:
        self._state_pub.publish(SlamState(
            header=header, tracking_state=int(out.state), map_points=len(self._cloud),
            keyframes=out.keyframes, maps=self._session.maps, resets=self._session.resets,
            scale_known=out.scale_known, scale=float(out.scale),
            tracked_map_points=len(out.tracked_points), frames_processed=self._session.frames,
            frames_rejected=self._frames_rejected, odometry_valid=self._odometry_valid))

    def _publish_map(self) -> None:
        if self._session is None or not self._raw_path:
            return
        anchor = self._session.anchor
        header = Header(stamp=self._raw_path[-1][0],
                        frame_id=self._output_frame(anchor is not None))
        points = self._cloud.points
        points = anchor.apply_points(points) if anchor is not None else points
        self._cloud_pub.publish(_cloud(points, header))
        path = PathMsg(header=header)
        for stamp, raw in self._raw_path:
            pose = anchor.apply_pose(raw) if anchor is not None else raw
            path.poses.append(PoseStamped(header=Header(stamp=stamp, frame_id=header.frame_id),
                                          pose=pose_from_matrix(pose)))
        self._path_pub.publish(path)

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        if self._session is None:
            response.success, response.message = False, 'SLAM has not started (no camera_info yet)'
            return response
        try:
            self._session.reset()
        except BackendError as exc:
            self._backend_failed(exc, Header(stamp=self.get_clock().now().to_msg()))
            response.success, response.message = False, f'SLAM failed: {exc}'
            return response
        self._raw_path.clear()
        self._cloud.clear()
        self.get_logger().info('map reset on request')
        response.success = True
        response.message = f'map reset ({self._session.resets} resets so far)'
        return response


NODE_CLASS = SlamNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the slam_node executable."""
    return run_node(SlamNode, args)
