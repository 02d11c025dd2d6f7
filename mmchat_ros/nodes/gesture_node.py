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

import copy
from dataclasses import replace
import uuid

from geometry_msgs.msg import Point
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.lifecycle import State, TransitionCallbackReturn
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mmchat_ros import graph
from mmchat_ros.control.commands import CommandRequest
from mmchat_ros.diagnostics import ERROR, OK, WARN, NodeDiagnostics
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
from mmchat_ros.lifecycle import AutostartLifecycleNode
from mmchat_ros.msg import AuthState, Command, Gesture
from mmchat_ros.node_main import run_node
from mmchat_ros.ros_io import SENSOR_QOS, bgr_array, command_msg, image_msg, seconds

#: Sensor-data QoS keeping one frame: a frame that arrives while one is processed replaces the
#: waiting one, so the node always works on the latest frame and never on a queue of stale ones.
LATEST_FRAME_QOS = copy.copy(SENSOR_QOS)
LATEST_FRAME_QOS.depth = 1
LOG_THROTTLE_S = 5.0


class GestureNode(AutostartLifecycleNode):
    """Thin ROS adapter around mmchat_ros.gestures.pipeline.GesturePipeline."""

    def __init__(self, **kwargs) -> None:
        super().__init__('gesture', **kwargs)
        self._declare('palm_detection_model', '', "MediaPipe palm detector .tflite; '' = the one "
                      'shipped in mediapipe for model_complexity')
        self._declare('hand_landmark_model', '', "MediaPipe hand landmark .tflite; '' = shipped")
        self._declare('static_model', 'models/gesture/static_mlp.npz',
                      'hand shape classifier (.npz); relative paths: package share')
        self._declare('dynamic_model', 'models/gesture/dynamic_mlp.npz',
                      'fingertip path classifier (.npz); relative paths: package share')
        self._declare('mapping_file', 'config/gesture_mapping.yaml',
                      'gesture -> command rules (YAML); relative paths: package share')
        self._declare('model_complexity', 0, 'MediaPipe hand landmark model: 0 lite, 1 full')
        self._declare('max_hands', 1, 'more hands than this in a frame (two people): frame ignored')
        self._declare('min_detection_confidence', 0.6, 'MediaPipe palm detection threshold')
        self._declare('min_tracking_confidence', 0.5, 'MediaPipe hand tracking threshold')
        self._declare('static_min_confidence', 0.8, 'hand shape probability needed to count')
        self._declare('dynamic_min_confidence', 0.8, 'fingertip path probability needed to count')
        self._declare('static_hold_s', 0.5, 'a hand shape must be held this long to command')
        self._declare('dynamic_hold_s', 0.2, 'a circle or swipe must last this long to command')
        self._declare('max_gap_s', 0.15, 'a lost hand for up to this long does not end a hold')
        self._declare('path_window_s', 0.5, 'time span of the 16-point fingertip path')
        self._declare('image_mirrored', False, 'frames are mirrored (selfie view); false for a '
                      'camera looking at the operator')
        self._declare('command_frame_id', 'base_link', 'frame_id of the commands (relative moves)')
        self._diagnostics = NodeDiagnostics(self)
        self._diagnostics.set_status(WARN, 'not configured yet')
        self._engine: GesturePipeline | None = None
        self._authorisation: Authorisation | None = None
        self._active = False
        self._counts = {'frames': 0, 'bad images': 0, 'frames ignored': 0, 'commands sent': 0,
                        'commands refused': 0}

    def _declare(self, name: str, default, description: str) -> None:
        self.declare_parameter(name, default, ParameterDescriptor(description=description))

    def _param(self, name: str):
        return self.get_parameter(name).value

    # --- lifecycle ----------------------------------------------------------------------------

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            self._engine = self._build_engine()
        except (ModelFileError, MappingError, ValueError) as exc:
            self.get_logger().error(f'not configured: {exc}')
            self._diagnostics.set_status(ERROR, f'not configured: {exc}')
            return TransitionCallbackReturn.FAILURE
        self._gesture_pub = self.create_lifecycle_publisher(Gesture, 'gestures', 10)
        self._annotated_pub = self.create_lifecycle_publisher(Image, 'image_annotated', SENSOR_QOS)
        self._command_pub = self.create_lifecycle_publisher(Command, 'commands', 10)
        self._image_sub = self.create_subscription(Image, 'image', self._on_image,
                                                   LATEST_FRAME_QOS)
        self._auth_sub = self.create_subscription(AuthState, 'auth/state', self._on_auth, 10)
        paths = self._engine.detector.model_paths
        self._diagnostics.set_value('hand models', ', '.join(str(p) for p in paths.values()))
        self._diagnostics.set_status(OK, 'configured')
        self.get_logger().info(f"configured: hand models {', '.join(map(str, paths.values()))}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        self._active = True
        self._diagnostics.set_status(OK, 'active')
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self._active = False
        self._diagnostics.set_status(WARN, 'inactive')
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        self._diagnostics.set_status(WARN, 'not configured')
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        self._active = False
        if self._engine is None:
            return
        self.destroy_subscription(self._image_sub)
        self.destroy_subscription(self._auth_sub)
        for publisher in (self._gesture_pub, self._annotated_pub, self._command_pub):
            self.destroy_lifecycle_publisher(publisher)
        self._engine.detector.close()
        self._engine = None

    def destroy_node(self) -> None:
        self._release()
        super().destroy_node()

    def _build_engine(self) -> GesturePipeline:
        share = graph.share_dir()
        max_hands = self._param('max_hands')
        detector_settings = DetectorSettings(
            model_complexity=self._param('model_complexity'),
            max_num_hands=max_hands + 1,          # one more, to notice a hand too many
            min_detection_confidence=self._param('min_detection_confidence'),
            min_tracking_confidence=self._param('min_tracking_confidence'),
            image_mirrored=self._param('image_mirrored'),
            palm_detection_model=self._model_path('palm_detection_model', share),
            hand_landmark_model=self._model_path('hand_landmark_model', share))
        settings = PipelineSettings(
            max_hands=max_hands,
            **{name: self._param(name) for name in (
                'static_min_confidence', 'dynamic_min_confidence', 'static_hold_s',
                'dynamic_hold_s', 'max_gap_s', 'path_window_s', 'image_mirrored')})
        problem = settings.problem() or detector_settings.problem()
        if problem:
            raise ValueError(problem)
        shapes = StaticGestureClassifier.from_file(resolve(self._param('static_model'), share))
        paths = DynamicGestureClassifier.from_file(resolve(self._param('dynamic_model'), share))
        mapping = GestureMapping.from_yaml(resolve(self._param('mapping_file'), share))
        return GesturePipeline(HandDetector(detector_settings), shapes, paths, mapping, settings)

    def _model_path(self, name: str, share) -> str:
        value = self._param(name)
        return str(resolve(value, share)) if value else ''

    # --- data -----------------------------------------------------------------------------------

    def _on_auth(self, msg: AuthState) -> None:
        self._authorisation = Authorisation(msg.operator_id, msg.authorised, seconds(msg.expires))

    def _on_image(self, msg: Image) -> None:
        if not self._active or self._engine is None:
            return
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
                       landmarks=[Point(x=float(x), y=float(y), z=float(z))
                                  for x, y, z in hand.landmarks])

    def _send(self, gesture: str, request: CommandRequest, image_header: Header) -> str:
        """Publish the command `gesture` asks for when the operator check allows; the text for the
        annotated image."""
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
                                      frame_id=self._param('command_frame_id'), operator_id=operator),
                              image_header.stamp)
        self._command_pub.publish(command)
        self._counts['commands sent'] += 1
        self._diagnostics.set_value('commands sent', self._counts['commands sent'])
        self.get_logger().info(f'{what} sent for operator {operator!r} ({command.request_id})')
        return f'{what}: sent'


NODE_CLASS = GestureNode


def main(args: list[str] | None = None) -> int:
    """Entry point of the gesture_node executable."""
    return run_node(GestureNode, args)
