"""Detector node: YOLO detection and tracking with persistent IDs on camera images (lifecycle).

Subscribes:
  image        (sensor_msgs/Image, best effort, keep last 1: only the newest frame is processed)
  camera_info  (sensor_msgs/CameraInfo, for the rviz markers; a 90 degree pinhole until it arrives)
Publishes (only while active):
  detections       (mmchat_ros/DetectionArray): header copied unchanged from the image; track_id,
                   track_state and track_age_s filled when a tracker runs
  image_annotated  (sensor_msgs/Image bgr8, same header): boxes, classes, scores, track IDs
  markers          (visualization_msgs/MarkerArray): each box drawn at marker_depth_m in front of
                   the camera, in the image's optical frame (REP-103)

The model loads in on_configure; a missing or corrupt model, an unknown class or a backend this
machine cannot run (a .engine without TensorRT and a GPU) fails the configure transition: the node
stays up, unconfigured, with the reason in the log and on /diagnostics.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import time

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import MarkerArray

from mmchat_ros import graph, image_codec
from mmchat_ros.detection import drawing, tracking
from mmchat_ros.detection.yolo import MIN_IMAGE_SIDE_PX, Box, ModelError, YoloDetector
from mmchat_ros.diagnostics import ERROR, OK, WARN
from mmchat_ros.lifecycle import ManagedNode
from mmchat_ros.msg import Detection, DetectionArray
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import parameter
from mmchat_ros.ros_io import (LATEST_FRAME_QOS, SENSOR_QOS, bgr_array, image_msg, outline_markers,
                               seconds, shown_box)

DEFAULT_MODEL = 'models/detector/sim_yolo11n_int8.onnx'
STAMP_JUMP_BACK_S = 1.0      # stamps going back further (a replay restarting) reset the tracks


@dataclass(frozen=True)
class DetectorParameters:
    """Parameters of the detector node."""

    model: str = parameter(DEFAULT_MODEL, '.pt, .onnx (fp32 or int8) or .engine; relative paths '
                           'are under the package share directory')
    conf: float = parameter(0.35, 'lowest detection confidence; with a tracker, lowest confidence '
                            'that starts a track', minimum=0.0, maximum=1.0)
    track_low_conf: float = parameter(0.05, 'with a tracker, detections down to this confidence '
                                      'continue tracks (never start one)', minimum=0.0,
                                      maximum=1.0)
    iou: float = parameter(0.5, 'NMS IoU threshold', minimum=0.0, maximum=1.0)
    imgsz: int = parameter(320, 'inference size, pixels (must match a fixed-size .onnx / .engine)',
                           minimum=32)
    classes: tuple[str, ...] = parameter(None, 'class names or ids to keep; unset or [] keeps all',
                                         array_type='string')
    device: str = parameter('cpu', "'cpu', or 'cuda:0' for .pt / .engine on an NVIDIA GPU")
    max_rate_hz: float = parameter(10.0, 'most frames processed per second (wall time); '
                                   '0: every frame', minimum=0.0, dynamic=True)
    tracker: str = parameter('reid', 'multi-object tracker (reid: with appearance '
                           're-identification)', choices=tracking.TRACKERS)
    annotate: bool = parameter(True, 'publish image_annotated', dynamic=True)
    marker_depth_m: float = parameter(3.0, 'distance at which boxes are drawn as rviz markers',
                                      positive=True, dynamic=True)


class DetectorNode(ManagedNode):
    """Runs the detector and tracker on the newest camera frame, at most max_rate_hz a second."""

    PARAMETERS = DetectorParameters
    CONFIGURE_ERRORS = (ModelError,)

    def __init__(self, **kwargs) -> None:
        super().__init__('detector', **kwargs)
        self._detector: YoloDetector | None = None
        self._tracker: tracking.Tracker | None = None
        self._camera_info: CameraInfo | None = None
        self._last_run = -math.inf
        self._last_stamp_s: float | None = None
        self._counts = {'processed': 0, 'skipped (rate)': 0, 'bad images': 0, 'inference errors': 0}
        self._detections_pub = self.create_lifecycle_publisher(DetectionArray, 'detections', 10)
        self._annotated_pub = self.create_lifecycle_publisher(Image, 'image_annotated', SENSOR_QOS)
        self._markers_pub = self.create_lifecycle_publisher(MarkerArray, 'markers', 10)

    # --- lifecycle -----------------------------------------------------------------------------

    def build(self) -> None:
        """Load the model and make the tracker."""
        p = self._params.values
        model = p.model
        path = graph.share_dir() / model if model and not model.startswith('/') else model
        detector = YoloDetector(path, imgsz=p.imgsz, conf=self._detection_conf(), iou=p.iou,
                                device=p.device)
        detector.classes = detector.class_ids([c for c in p.classes if c.strip()]) or None
        self._detector = detector
        self._reset_tracker()
        self._diagnostics.set_value('model', str(path))
        self._diagnostics.set_value('backend', detector.backend)
        self._diagnostics.set_status(OK, f'configured: {detector.backend} model {path}')
        self.get_logger().info(
            f"loaded {path} ({detector.backend}, classes {list(detector.names.values())}), imgsz "
            f'{detector.imgsz}, tracker {p.tracker}, at most {p.max_rate_hz} Hz')

    def start(self) -> None:
        """Take frames and camera info."""
        self.subscribe(Image, 'image', self._on_image, LATEST_FRAME_QOS)
        self.subscribe(CameraInfo, 'camera_info', self._on_camera_info, SENSOR_QOS)

    def release(self) -> None:
        """Drop the model and the tracker."""
        self._detector = self._tracker = None

    def _detection_conf(self) -> float:
        p = self._params.values
        return tracking.detection_conf(p.tracker, p.conf, p.track_low_conf)

    def _reset_tracker(self) -> None:
        p = self._params.values
        rate = p.max_rate_hz
        self._tracker = tracking.make_tracker(p.tracker, rate if rate > 0 else 30.0,
                                              new_track_score=p.conf,
                                              low_score=self._detection_conf())
        self._last_stamp_s = None

    # --- processing ----------------------------------------------------------------------------

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def _on_image(self, msg: Image) -> None:
        rate = self._params.values.max_rate_hz
        now = time.monotonic()
        if rate > 0 and now - self._last_run < 1.0 / rate:
            self._count('skipped (rate)')
            return
        self._last_run = now
        try:
            image = bgr_array(msg)
            if min(image.shape[:2]) < MIN_IMAGE_SIDE_PX:
                raise image_codec.ImageFormatError(
                    f'image {msg.width}x{msg.height} is smaller than {MIN_IMAGE_SIDE_PX} px')
        except image_codec.ImageFormatError as exc:
            self._count('bad images')
            self.get_logger().warning(f'image skipped: {exc}', throttle_duration_sec=5.0)
            self._diagnostics.set_status(WARN, f'image skipped: {exc}')
            return
        started = time.perf_counter()
        try:
            boxes = self._detector.detect(image)
        except Exception as exc:  # a runtime failing on one frame must not take the node down
            self._count('inference errors')
            self.get_logger().error(f'inference failed: {type(exc).__name__}: {exc}',
                                    throttle_duration_sec=5.0)
            self._diagnostics.set_status(ERROR, f'inference failed: {exc}')
            return
        detections = self._track(boxes, image, seconds(msg.header.stamp))
        self._detections_pub.publish(DetectionArray(header=msg.header, image_width=msg.width,
                                                    image_height=msg.height, detections=detections))
        p = self._params.values
        shown = [shown_box(d) for d in detections]
        if p.annotate:
            self._annotated_pub.publish(image_msg(drawing.annotate(image, shown), 'bgr8',
                                                  msg.header))
        outlines = drawing.outlines(shown, self._intrinsics(msg), p.marker_depth_m)
        self._markers_pub.publish(outline_markers(msg.header, outlines))
        self._count('processed')
        self._diagnostics.record('detections', time.perf_counter() - started)
        self._diagnostics.set_status(OK, 'active')

    def _count(self, key: str) -> None:
        self._counts[key] += 1
        self._diagnostics.set_value(key, self._counts[key])

    def _track(self, boxes: list[Box], image: np.ndarray, stamp_s: float) -> list[Detection]:
        names = self._detector.names
        if self._tracker is None:
            return [_detection(b.x1, b.y1, b.x2, b.y2, b.score, b.class_id, names) for b in boxes]
        if self._last_stamp_s is not None and stamp_s < self._last_stamp_s - STAMP_JUMP_BACK_S:
            self.get_logger().info('image stamps jumped back: tracks reset')
            self._reset_tracker()
        self._last_stamp_s = stamp_s
        out = []
        for track in self._tracker.update(boxes, image, stamp_s):
            detection = _detection(*track.box_xyxy, track.score, track.class_id, names)
            detection.track_id = track.track_id
            detection.track_state = int(track.state)
            detection.track_age_s = float(track.age_s)
            out.append(detection)
        return out

    def _intrinsics(self, image: Image) -> tuple[float, float, float, float]:
        info = self._camera_info
        same_size = info is not None and (info.width, info.height) == (image.width, image.height)
        return drawing.intrinsics(image.width, image.height, info.k if same_size else None)


def _detection(x1: float, y1: float, x2: float, y2: float, score: float, class_id: int,
               names: dict[int, str]) -> Detection:
    return Detection(class_id=int(class_id), class_name=names.get(int(class_id), str(class_id)),
                     score=float(score), center_x_px=(x1 + x2) / 2, center_y_px=(y1 + y2) / 2,
                     size_x_px=x2 - x1, size_y_px=y2 - y1)


NODE_CLASS = DetectorNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the detector_node executable."""
    return run_node(DetectorNode, args)
