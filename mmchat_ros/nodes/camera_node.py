"""Camera node: frames from a V4L2 device, a video file, an image folder or a test pattern.

Publishes:
  image_raw   (sensor_msgs/Image, sensor-data QoS)
  camera_info (sensor_msgs/CameraInfo, sensor-data QoS, same header as the image)
"""
from __future__ import annotations

import math

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mmchat_ros import frame_sources
from mmchat_ros.calibration import CalibrationError, CameraCalibration
from mmchat_ros.diagnostics import ERROR, OK, WARN, NodeDiagnostics
from mmchat_ros.node_main import run_node
from mmchat_ros.ros_io import SENSOR_QOS, camera_info_msg, image_msg

ENCODINGS = ('bgr8', 'rgb8', 'mono8')


class CameraNode(Node):
    """Publishes frames at a fixed rate; a source that fails is reported and reopened, never fatal."""

    def __init__(self, **kwargs) -> None:
        super().__init__('camera', **kwargs)
        self._declare('source', 'test_pattern', f"one of {', '.join(frame_sources.SOURCE_KINDS)}")
        self._declare('device', '/dev/video0', 'V4L2 device path or index (source v4l2)')
        self._declare('path', '', 'video file or image folder (source video / folder)')
        self._declare('loop', True, 'restart a video or folder at its end')
        self._declare('width', 640, 'published width, pixels')
        self._declare('height', 480, 'published height, pixels')
        self._declare('fps', 30.0, 'publish rate, Hz')
        self._declare('encoding', 'bgr8', f"one of {', '.join(ENCODINGS)}")
        self._declare('frame_id', 'camera_optical_frame', 'REP-103 optical frame of the camera')
        self._declare('calibration_file', '', 'camera_calibration YAML; empty: ideal pinhole')
        self._declare('horizontal_fov_deg', 90.0, 'field of view of the ideal pinhole')
        self._declare('reopen_period_s', 2.0, 'retry period for a source that failed to open')

        self._image_pub = self.create_publisher(Image, 'image_raw', SENSOR_QOS)
        self._info_pub = self.create_publisher(CameraInfo, 'camera_info', SENSOR_QOS)
        self._diagnostics = NodeDiagnostics(self)
        self._source: frame_sources.FrameSource | None = None
        self._next_open_ns = 0
        self._reported_problems = 0
        self._end_reported = False

        self._width = self._param('width')
        self._height = self._param('height')
        self._encoding = self._param('encoding')
        self._frame_id = self._param('frame_id')
        self._calibration = self._load_calibration()
        problem = self._configuration_problem()
        if problem:
            self.get_logger().error(f'camera not started: {problem}')
            self._diagnostics.set_status(ERROR, f'not started: {problem}')
            return
        self._timer = self.create_timer(1.0 / self._param('fps'), self._tick)

    def _declare(self, name: str, default, description: str) -> None:
        self.declare_parameter(name, default, ParameterDescriptor(description=description))

    def _param(self, name: str):
        return self.get_parameter(name).value

    def _configuration_problem(self) -> str | None:
        fps = self._param('fps')
        if not (math.isfinite(fps) and fps > 0):
            return f'fps must be positive, got {fps}'
        if self._encoding not in ENCODINGS:
            return f"encoding '{self._encoding}' is not one of {', '.join(ENCODINGS)}"
        if self._calibration is None:
            return 'no usable calibration'
        return None

    def _load_calibration(self) -> CameraCalibration | None:
        path = self._param('calibration_file')
        try:
            if not path:
                return CameraCalibration.pinhole(self._width, self._height,
                                                 self._param('horizontal_fov_deg'))
            calibration = CameraCalibration.from_yaml(path)
        except CalibrationError as exc:
            self.get_logger().error(str(exc))
            return None
        if (calibration.width, calibration.height) != (self._width, self._height):
            self.get_logger().warning(
                f'calibration is for {calibration.width}x{calibration.height}, publishing '
                f'{self._width}x{self._height}: intrinsics scaled')
            calibration = calibration.scaled_to(self._width, self._height)
        return calibration

    def _open(self) -> None:
        now = self.get_clock().now().nanoseconds
        if now < self._next_open_ns:
            return
        self._next_open_ns = now + int(self._param('reopen_period_s') * 1e9)
        try:
            self._source = frame_sources.open_source(
                self._param('source'), width=self._width, height=self._height,
                fps=self._param('fps'), device=str(self._param('device')),
                path=self._param('path'), loop=self._param('loop'))
        except frame_sources.SourceError as exc:
            self.get_logger().error(f'{exc}; retrying every {self._param("reopen_period_s")} s',
                                    throttle_duration_sec=30.0)
            self._diagnostics.set_status(ERROR, str(exc))
            return
        self.get_logger().info(f"publishing {self._param('source')} frames "
                               f'{self._width}x{self._height} {self._encoding} at {self._param("fps")} Hz')
        self._diagnostics.set_status(OK, 'publishing')

    def _tick(self) -> None:
        if self._source is None:
            self._open()
            if self._source is None:
                return
        frame = self._source.read()
        stamp = self.get_clock().now()
        if frame is None:
            self._report_problems()
            return
        if self._encoding == 'rgb8':
            frame = frame[:, :, ::-1]
        elif self._encoding == 'mono8':
            frame = frame.mean(axis=2).astype('uint8')
        header = Header(stamp=stamp.to_msg(), frame_id=self._frame_id)
        self._image_pub.publish(image_msg(frame, self._encoding, header))
        self._info_pub.publish(camera_info_msg(self._calibration, header))
        latency = (self.get_clock().now() - stamp).nanoseconds * 1e-9
        self._diagnostics.record('image_raw', latency)

    def _report_problems(self) -> None:
        source = self._source
        if source.exhausted and not self._end_reported:
            self._end_reported = True
            self.get_logger().info(f'end of {self._param("source")} after {source.frames_read} frames')
            self._diagnostics.set_status(OK, 'source finished')
        total = sum(source.problems.values())
        if total > self._reported_problems:
            self._reported_problems = total
            summary = '; '.join(f'{what} (x{n})' for what, n in source.problems.most_common(3))
            self.get_logger().warning(f'{total} frames skipped: {summary}', throttle_duration_sec=5.0)
            self._diagnostics.set_status(WARN, f'{total} frames skipped')
            self._diagnostics.set_value('frames skipped', total)

    def destroy_node(self) -> None:
        if self._source is not None:
            self._source.close()
        super().destroy_node()


NODE_CLASS = CameraNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the camera_node executable."""
    return run_node(CameraNode, args)
