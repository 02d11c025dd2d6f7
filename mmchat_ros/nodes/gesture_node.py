"""Gesture node: MediaPipe hands on the camera stream -> Gesture messages and safe Commands.

Subscribes:
  image            (sensor_msgs/Image, sensor-data QoS with depth 1: only the latest frame waits)
  auth/state       (mmchat_ros/AuthState) the operator and whether they are authorised
Publishes (header.stamp of the source image):
  gestures         (mmchat_ros/Gesture) each recognised hand gesture of each frame
  image_annotated  (sensor_msgs/Image, sensor-data QoS) the frame with hands and labels drawn,
                   only while something subscribes
  commands         (mmchat_ros/Command, source SOURCE_GESTURE) once per held, mapped gesture,
                   and only when the latest AuthState authorises (unless the mapping says
                   otherwise)

A lifecycle node that starts itself (see mmchat_ros.lifecycle): the MediaPipe models, the two
classifiers and the mapping load in on_configure; when one is missing or broken the node stays up,
unconfigured, with the reason in the log and on /diagnostics.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import uuid

from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mmchat_ros import graph
from mmchat_ros.control.commands import CommandRequest
from mmchat_ros.diagnostics import ERROR, OK, WARN
from mmchat_ros import authorisation
from mmchat_ros.gestures.annotate import annotate
from mmchat_ros.authorisation import Authorisation
from mmchat_ros.gestures.dynamic_gestures import DynamicGestureClassifier
from mmchat_ros.gestures.mapping import GestureMapping, MappingError
from mmchat_ros.gestures.mediapipe_hands import DetectorSettings, HandDetector
from mmchat_ros.gestures.model_files import ModelFileError, resolve
from mmchat_ros.gestures.pipeline import DYNAMIC, GesturePipeline, HandGesture, PipelineSettings
from mmchat_ros.gestures.static_gestures import StaticGestureClassifier
from mmchat_ros.image_codec import ImageFormatError
from mmchat_ros.lifecycle import ManagedNode
from mmchat_ros.msg import AuthState, Command, Gesture
from mmchat_ros.node_main import run_node
from mmchat_ros.parameters import parameter
from mmchat_ros.ros_io import (LATEST_FRAME_QOS, SENSOR_QOS, bgr_array, command_msg, image_msg,
                               point, seconds)

LOG_THROTTLE_S = 5.0


@dataclass(frozen=True)
class GestureParameters:
    """Parameters of the gesture node."""

    palm_detection_model: str = parameter('', "MediaPipe palm detector .tflite; '' = the one "
                                          'shipped in mediapipe for model_complexity')
    hand_landmark_model: str = parameter('', "MediaPipe hand landmark .tflite; '' = shipped")
    static_model: str = parameter('models/gesture/static_mlp.npz',
                                  'hand shape classifier (.npz); relative paths: package share')
    dynamic_model: str = parameter(
        'models/gesture/dynamic_mlp.npz',
        'fingertip path classifier (.npz); relative paths: package share')
    mapping_file: str = parameter('config/gesture_mapping.yaml',
                                  'gesture -> command rules (YAML); relative paths: package share')
    model_complexity: int = parameter(0, 'MediaPipe hand landmark model: 0 lite, 1 full',
                                      choices=(0, 1))
    max_hands: int = parameter(1, 'more hands than this in a frame (two people): frame ignored',
                               minimum=1)
    min_detection_confidence: float = parameter(0.6, 'MediaPipe palm detection threshold',
                                                minimum=0.0, maximum=1.0)
    min_tracking_confidence: float = parameter(0.5, 'MediaPipe hand tracking threshold',
                                               minimum=0.0, maximum=1.0)
    static_min_confidence: float = parameter(0.8, 'hand shape probability needed to count',
                                             minimum=0.0, maximum=1.0)
    dynamic_min_confidence: float = parameter(0.8, 'fingertip path probability needed to count',
                                              minimum=0.0, maximum=1.0)
    static_hold_s: float = parameter(0.5, 'a hand shape must be held this long to command',
                                     minimum=0.0)
    dynamic_hold_s: float = parameter(0.2, 'a circle or swipe must last this long to command',
                                      minimum=0.0)
    max_gap_s: float = parameter(0.15, 'a lost hand for up to this long does not end a hold',
                                 minimum=0.0)
    path_window_s: float = parameter(0.5, 'time span of the 16-point fingertip path',
                                     positive=True)
    image_mirrored: bool = parameter(False, 'frames are mirrored (selfie view); false for a '
                                     'camera looking at the operator')
    command_frame_id: str = parameter('base_link', 'frame_id of the commands (relative moves)',
                                      dynamic=True)


class GestureNode(ManagedNode):
    """Thin ROS adapter around mmchat_ros.gestures.pipeline.GesturePipeline."""

    PARAMETERS = GestureParameters
    CONFIGURE_ERRORS = (ModelFileError, MappingError, ValueError)

    def __init__(self, **kwargs) -> None:
        super().__init__('gesture', **kwargs)
        self._engine: GesturePipeline | None = None
        self._authorisation: Authorisation | None = None
        self._counts = {'frames': 0, 'bad images': 0, 'frames ignored': 0, 'commands sent': 0,
                        'commands refused': 0}
        self._gesture_pub = self.create_lifecycle_publisher(Gesture, 'gestures', 10)
        self._annotated_pub = self.create_lifecycle_publisher(Image, 'image_annotated', SENSOR_QOS)
        self._command_pub = self.create_lifecycle_publisher(Command, 'commands', 10)

    # --- lifecycle ----------------------------------------------------------------------------

    def build(self) -> None:
        """Load the hand models, the classifiers and the mapping."""
        self._engine = self._build_engine()
        paths = self._engine.detector.model_paths
        self._diagnostics.set_value('hand models', ', '.join(str(p) for p in paths.values()))
        self.get_logger().info(f"configured: hand models {', '.join(map(str, paths.values()))}")

    def start(self) -> None:
        """Take frames and the operator's authorisation."""
        self.subscribe(Image, 'image', self._on_image, LATEST_FRAME_QOS)
        self.subscribe(AuthState, 'auth/state', self._on_auth, 10)

    def release(self) -> None:
        """Close MediaPipe."""
        if self._engine is not None:
            self._engine.detector.close()
            self._engine = None

    def _build_engine(self) -> GesturePipeline:
        share = graph.share_dir()
        p = self._params.values
        detector_settings = DetectorSettings(
            model_complexity=p.model_complexity,
            max_num_hands=p.max_hands + 1,          # one more, to notice a hand too many
            min_detection_confidence=p.min_detection_confidence,
            min_tracking_confidence=p.min_tracking_confidence,
            image_mirrored=p.image_mirrored,
            palm_detection_model=_model_path(p.palm_detection_model, share),
            hand_landmark_model=_model_path(p.hand_landmark_model, share))
        settings = PipelineSettings(
            max_hands=p.max_hands, static_min_confidence=p.static_min_confidence,
            dynamic_min_confidence=p.dynamic_min_confidence, static_hold_s=p.static_hold_s,
            dynamic_hold_s=p.dynamic_hold_s, max_gap_s=p.max_gap_s,
            path_window_s=p.path_window_s, image_mirrored=p.image_mirrored)
        problem = settings.problem() or detector_settings.problem()
        if problem:
            raise ValueError(problem)
        shapes = StaticGestureClassifier.from_file(resolve(p.static_model, share))
        paths = DynamicGestureClassifier.from_file(resolve(p.dynamic_model, share))
        mapping = GestureMapping.from_yaml(resolve(p.mapping_file, share))
        return GesturePipeline(HandDetector(detector_settings), shapes, paths, mapping, settings)

    # --- data -----------------------------------------------------------------------------------

    def _on_auth(self, msg: AuthState) -> None:
        self._authorisation = Authorisation(msg.operator_id, msg.authorised, seconds(msg.expires))

    def _on_image(self, msg: Image) -> None:
        self._counts['frames'] += 1
        try:
            frame = bgr_array(msg)
        except ImageFormatError as exc:
            self._report('bad images', f'image ignored: {exc}')
            return
        t = seconds(msg.header.stamp) or self.get_clock().now().nanoseconds * 1e-9
        try:
            result = self._engine.process(frame, t)
        except (RuntimeError, ValueError) as exc:       # MediaPipe graph errors
            self._report('frames ignored', f'hand detection failed: {exc}', level=ERROR)
            return
        if result.problem:
            self._report('frames ignored', result.problem)
        else:
            self._diagnostics.set_status(OK, 'active')
        for gesture in result.hands:
            if gesture.label:
                self._gesture_pub.publish(self._gesture_msg(gesture, msg.header))
        command_text = (self._send(result.request_gesture, result.request, msg.header)
                        if result.request else None)
        if self._annotated_pub.get_subscription_count() > 0:
            drawn = annotate(frame, result, self._engine.settings, command_text)
            self._annotated_pub.publish(image_msg(drawn, 'bgr8', msg.header))
        latency = self.get_clock().now().nanoseconds * 1e-9 - seconds(msg.header.stamp)
        self._diagnostics.record('frames', latency)

    def _report(self, counter: str, message: str, level: bytes = WARN) -> None:
        self._counts[counter] += 1
        self._diagnostics.set_value(counter, self._counts[counter])
        self._diagnostics.set_status(level, message)
        log = self.get_logger().error if level == ERROR else self.get_logger().warning
        log(f'{message} ({counter}: {self._counts[counter]})',
            throttle_duration_sec=LOG_THROTTLE_S)

    @staticmethod
    def _gesture_msg(gesture: HandGesture, header: Header) -> Gesture:
        hand = gesture.hand
        kind = Gesture.KIND_DYNAMIC if gesture.kind == DYNAMIC else Gesture.KIND_STATIC
        return Gesture(header=header, kind=kind,
                       label=gesture.label, confidence=float(gesture.confidence),
                       held_s=float(gesture.held_s), triggered=gesture.triggered,
                       handedness=hand.handedness, handedness_score=hand.handedness_score,
                       landmarks=[point(xyz) for xyz in hand.landmarks])

    def _send(self, gesture: str, request: CommandRequest, image_header: Header) -> str:
        """Publish the command `gesture` asks for when the operator check allows.

        Returns the text for the annotated image.
        """
        now_s = self.get_clock().now().nanoseconds * 1e-9
        refusal = authorisation.refusal(self._authorisation, now_s,
                                        self._engine.mapping.require_authorised)
        what = f'{gesture} -> {request.verb_name}'
        if refusal:
            self._counts['commands refused'] += 1
            self._diagnostics.set_value('commands refused', self._counts['commands refused'])
            self.get_logger().warning(f'{what} not sent: {refusal}')
            return f'{what}: refused ({refusal})'
        operator = self._authorisation.operator_id if self._authorisation else ''
        command = command_msg(replace(request, request_id=f'gesture-{uuid.uuid4().hex}',
                                      frame_id=self._params.values.command_frame_id,
                                      operator_id=operator),
                              image_header.stamp)
        self._command_pub.publish(command)
        self._counts['commands sent'] += 1
        self._diagnostics.set_value('commands sent', self._counts['commands sent'])
        self.get_logger().info(f'{what} sent for operator {operator!r} ({command.request_id})')
        return f'{what}: sent'


def _model_path(value: str, share) -> str:
    return str(resolve(value, share)) if value else ''


NODE_CLASS = GestureNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the gesture_node executable."""
    return run_node(GestureNode, args)
