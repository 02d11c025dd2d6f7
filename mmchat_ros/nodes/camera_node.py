"""Camera node: frames from a V4L2 device, a video file, an image folder or a test pattern.

Publishes:
  image_raw   (sensor_msgs/Image, sensor-data QoS)
  camera_info (sensor_msgs/CameraInfo, sensor-data QoS, same header as the image)

A lifecycle node that starts itself (mmchat_ros.lifecycle.ManagedNode): configure loads the
calibration, activate starts publishing; a source that cannot be opened is retried while active.
"""
from __future__ import annotations

from dataclasses import dataclass

from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mmchat_ros import frame_sources
from mmchat_ros.calibration import CalibrationError, CameraCalibration
from mmchat_ros.diagnostics import ERROR, OK, WARN
from mmchat_ros.lifecycle import ConfigureError, ManagedNode
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import parameter
from mmchat_ros.ros_io import ENCODINGS, SENSOR_QOS, camera_info_msg, image_msg



@dataclass(frozen=True)
class CameraParameters:
    """Parameters of the camera node."""

    source: str = parameter('test_pattern', 'where frames come from',
                            choices=frame_sources.SOURCE_KINDS)
    device: str = parameter('/dev/video0', 'V4L2 device path or index (source v4l2)')
    path: str = parameter('', 'video file or image folder (source video / folder)')
    loop: bool = parameter(True, 'restart a video or folder at its end')
    width: int = parameter(640, 'published width, pixels', minimum=1)
    height: int = parameter(480, 'published height, pixels', minimum=1)
    fps: float = parameter(30.0, 'publish rate, Hz', positive=True)
    encoding: str = parameter('bgr8', 'published image encoding', choices=ENCODINGS)
    frame_id: str = parameter('camera_optical_frame', 'REP-103 optical frame of the camera')
    calibration_file: str = parameter('', 'camera_calibration YAML (scaled when its size '
                                      'differs); empty: ideal pinhole')
    horizontal_fov_deg: float = parameter(90.0, 'field of view of the ideal pinhole',
                                          positive=True, maximum=179.0)
    reopen_period_s: float = parameter(2.0, 'retry period for a source that failed to open',
                                       positive=True, dynamic=True)


class CameraNode(ManagedNode):
    """Publishes frames at a fixed rate; a failing source is reported and reopened, never fatal."""

    PARAMETERS = CameraParameters

    def __init__(self, **kwargs) -> None:
        super().__init__('camera', **kwargs)
        self._image_pub = self.create_lifecycle_publisher(Image, 'image_raw', SENSOR_QOS)
        self._info_pub = self.create_lifecycle_publisher(CameraInfo, 'camera_info', SENSOR_QOS)
        self._source: frame_sources.FrameSource | None = None
        self._calibration: CameraCalibration | None = None
        self._next_open_ns = 0
        self._reported_problems = 0
        self._end_reported = False
        p = self._params.values
        self._width, self._height = p.width, p.height
        self._encoding, self._frame_id = p.encoding, p.frame_id

    def build(self) -> None:
        """Load (or make) the calibration; the source opens on the first tick."""
        self._calibration = self._load_calibration()

    def start(self) -> None:
        """Publish at fps."""
        self.every(1.0 / self._params.values.fps, self._tick)

    def release(self) -> None:
        """Close the source."""
        if self._source is not None:
            self._source.close()
            self._source = None

    def _load_calibration(self) -> CameraCalibration:
        p = self._params.values
        path = p.calibration_file
        try:
            if not path:
                return CameraCalibration.pinhole(self._width, self._height, p.horizontal_fov_deg)
            calibration = CameraCalibration.from_yaml(path)
        except CalibrationError as exc:
            raise ConfigureError(f'no usable calibration: {exc}') from exc
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
        p = self._params.values
        self._next_open_ns = now + int(p.reopen_period_s * 1e9)
        try:
            self._source = frame_sources.open_source(
                p.source, width=self._width, height=self._height, fps=p.fps,
                device=str(p.device), path=p.path, loop=p.loop)
        except frame_sources.SourceError as exc:
            self.get_logger().error(f'{exc}; retrying every {p.reopen_period_s} s',
                                    throttle_duration_sec=30.0)
            self._diagnostics.set_status(ERROR, str(exc))
            return
        self.get_logger().info(f'publishing {p.source} frames {self._width}x{self._height} '
                               f'{self._encoding} at {p.fps} Hz')
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
            self.get_logger().info(
                f'end of {self._params.values.source} after {source.frames_read} frames')
            self._diagnostics.set_status(OK, 'source finished')
        total = sum(source.problems.values())
        if total > self._reported_problems:
            self._reported_problems = total
            summary = '; '.join(f'{what} (x{n})' for what, n in source.problems.most_common(3))
            self.get_logger().warning(f'{total} frames skipped: {summary}',
                                      throttle_duration_sec=5.0)
            self._diagnostics.set_status(WARN, f'{total} frames skipped')
            self._diagnostics.set_value('frames skipped', total)


NODE_CLASS = CameraNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the camera_node executable."""
    return run_node(CameraNode, args)
