"""The gesture node over real DDS: photos in, Gestures and (authorised) Commands out, bad input."""
import time

import cv2
from diagnostic_msgs.msg import DiagnosticStatus
from lifecycle_msgs.msg import State
from lifecycle_msgs.srv import GetState
import numpy as np
import pytest
from rclpy.parameter import Parameter
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mmchat_ros import graph, ros_io
from mmchat_ros.graph_runner import GraphRunner
from mmchat_ros.msg import AuthState, Command, Gesture
from mmchat_ros.nodes.gesture_node import GestureNode
from mmchat_ros.ros_io import SENSOR_QOS
from mmchat_tools.gestures import datasets
from mmchat_tools.probe import Probe, spin_until

FRAME_STEP_S = 0.05          # stamps of the frames this test sends, 20 fps of camera time
STARTUP_S = 30.0             # MediaPipe loads in 1-3 s; generous for a busy 2-core machine


def stamp(t: float) -> Time:
    return Time(sec=int(t), nanosec=int(round((t - int(t)) * 1e9)) % 1_000_000_000)


def stamp_key(msg_stamp: Time) -> tuple[int, int]:
    return msg_stamp.sec, msg_stamp.nanosec


class Operator(Probe):
    """Sends camera frames and AuthStates; collects what the gesture node publishes."""

    def __init__(self, executor, context, prefix: str = '') -> None:
        super().__init__(executor, context, 'gesture_test_operator')
        self.image_pub = self.publisher(f'{prefix}/image', Image, SENSOR_QOS)
        self.auth_pub = self.publisher('/auth/state', AuthState)
        self.gestures: list[Gesture] = self.record(f'{prefix}/gestures', Gesture)
        self.commands: list[Command] = self.record('/commands', Command)
        self.annotated: list[Image] = self.record(f'{prefix}/image_annotated', Image, SENSOR_QOS)
        self.record_diagnostics()

    def authorise(self, operator: str, authorised: bool, expires_in_s: float) -> None:
        msg = AuthState(operator_id=operator, authorised=authorised,
                        expires=stamp(time.time() + expires_in_s))
        msg.header.stamp = stamp(time.time())
        self.auth_pub.publish(msg)

    def status_values(self) -> dict[str, str]:
        latest = self.status()
        return {kv.key: kv.value for kv in latest.values} if latest else {}

    def status(self) -> DiagnosticStatus | None:
        """The gesture node's latest diagnostic status."""
        statuses = self.statuses('/gesture')
        return statuses[-1] if statuses else None


def image(frame: np.ndarray, t: float, encoding: str = 'bgr8') -> Image:
    header = Header(stamp=stamp(t), frame_id='camera_optical_frame')
    return ros_io.image_msg(frame, encoding, header)


def send(executor, operator: Operator, msg: Image) -> None:
    """Publish a frame and wait until the node has processed it (its annotated image arrives)."""
    key = stamp_key(msg.header.stamp)
    for _ in range(3):                                          # best effort: resend if lost
        operator.image_pub.publish(msg)
        if spin_until(executor, lambda: any(stamp_key(a.header.stamp) == key
                                            for a in operator.annotated), 3.0):
            return
    raise AssertionError(f'frame {key} was not processed')


@pytest.fixture(scope='module')
def photos(shared_data):
    """640x480 frames: a fist, an open palm, and two hands side by side."""
    by_name = {p.path.name: p for p in datasets.load_hand_photos(shared_data / 'hands')}

    def load(name):
        return cv2.resize(cv2.imread(str(by_name[name].path)), (640, 480))

    def half(name):
        """A 400x600 cut of the 800x600 photo around the hand, at 320x480."""
        photo = by_name[name]
        left = int(np.clip((photo.box[0] + photo.box[2]) // 2 - 200, 0, 400))
        return cv2.resize(cv2.imread(str(photo.path))[:, left:left + 400], (320, 480))
    two = np.hstack([half('2_pic00447.jpg'), half('pic00040.jpg')])
    return {'fist': load('2_pic00447.jpg'), 'open_palm': load('2_pic00164.jpg'), 'two_hands': two}


def start(ros_context, executor, prefix: str = '', **overrides):
    node = GestureNode(context=ros_context,
                       parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
    executor.add_node(node)
    return node, Operator(executor, ros_context, prefix)


def wait_until_configured(executor, operator: Operator) -> None:
    assert spin_until(executor, lambda: operator.image_pub.get_subscription_count() > 0
                      and operator.count_publishers('/image_annotated') > 0, STARTUP_S)


def test_held_fist_lands_only_for_an_authorised_operator(ros_context, executor, photos):
    node, operator = start(ros_context, executor)
    wait_until_configured(executor, operator)
    t0 = time.time()
    phases = [('no AuthState yet', None), ('a stranger', ('', False, 60.0)),
              ('not authorised', ('alice', False, 60.0)), ('expired', ('alice', True, -5.0)),
              ('authorised', ('alice', True, 60.0))]
    sent: dict[str, list[Image]] = {}
    for index, (phase, auth) in enumerate(phases):
        if auth:
            operator.authorise(*auth)
            spin_until(executor, lambda: False, 0.3)            # let the AuthState arrive
        start_t = t0 + 2.0 * index                              # a gap: every phase a new hold
        sent[phase] = [image(photos['fist'], start_t + i * FRAME_STEP_S) for i in range(14)]
        for msg in sent[phase]:
            send(executor, operator, msg)
        spin_until(executor, lambda: False, 0.2)
        expected = 1 if phase == 'authorised' else 0
        assert len(operator.commands) == expected, f'{phase}: {operator.commands}'

    command = operator.commands[0]
    assert command.verb == Command.LAND and command.source == Command.SOURCE_GESTURE
    assert command.operator_id == 'alice' and command.request_id.startswith('gesture-')
    held = sent['authorised'][10]                               # 10 x 0.05 s = the 0.5 s hold
    assert stamp_key(command.header.stamp) == stamp_key(held.header.stamp)

    sent_stamps = {stamp_key(m.header.stamp) for msgs in sent.values() for m in msgs}
    assert len(operator.gestures) >= 0.9 * len(sent_stamps)
    assert {stamp_key(g.header.stamp) for g in operator.gestures} <= sent_stamps
    assert {g.label for g in operator.gestures} == {'fist'}
    assert all(len(g.landmarks) == 21 and g.kind == Gesture.KIND_STATIC
               for g in operator.gestures)
    last = [g for g in operator.gestures if stamp_key(g.header.stamp) == stamp_key(
        sent['authorised'][-1].header.stamp)][0]
    assert last.triggered and last.held_s == pytest.approx(13 * FRAME_STEP_S, abs=0.01)
    assert spin_until(executor, lambda: operator.status_values().get('commands refused') == '4',
                      3.0)


def test_bad_images_and_two_hands_publish_nothing(ros_context, executor, photos):
    node, operator = start(ros_context, executor)
    wait_until_configured(executor, operator)
    t = time.time()
    depth = ros_io.image_msg(np.ones((48, 64), np.float32), '32FC1', Header(stamp=stamp(t)))
    short = image(photos['fist'], t + 0.1)
    short.data = short.data[:-10]
    for bad, message in ((depth, "encoding '32FC1' not accepted"), (short, 'data has')):
        operator.image_pub.publish(bad)
        assert spin_until(executor, lambda: operator.status() and message in
                          operator.status().message, 5.0), message
        assert operator.status().level == DiagnosticStatus.WARN
    for i in range(5):
        send(executor, operator, image(photos['two_hands'], t + 1 + i * FRAME_STEP_S))
    assert spin_until(executor, lambda: '2 hands in view' in operator.status().message
                      and operator.status_values().get('frames ignored') == '5', 3.0)
    assert operator.gestures == [] and operator.commands == []

    rgb = np.ascontiguousarray(photos['open_palm'][:, :, ::-1])
    for i in range(3):                                          # still working, in rgb8 too
        send(executor, operator, image(rgb, t + 2 + i * FRAME_STEP_S, 'rgb8'))
    assert spin_until(executor, lambda: operator.gestures, 2.0)
    assert {g.label for g in operator.gestures} == {'open_palm'}
    assert node.context.ok()


def lifecycle_state(executor, operator: Operator) -> int:
    client = operator.create_client(GetState, '/gesture/get_state')
    # discovery is slow on a loaded machine
    assert spin_until(executor, client.service_is_ready, 30.0)
    future = client.call_async(GetState.Request())
    assert spin_until(executor, future.done, 5.0)
    return future.result().current_state.id


@pytest.mark.parametrize('parameter, value, message', [
    ('static_model', '/nonexistent/static.npz', 'does not exist'),
    ('dynamic_model', 'models/gesture/static_mlp.npz', "trained on 'static-v1'"),
    ('mapping_file', 'BAD_YAML', 'not valid YAML'),
    ('hand_landmark_model', 'TRUNCATED', 'is corrupt'),
    ('max_hands', 0, 'max_hands must be at least 1'),
])
def test_bad_models_or_mapping_leave_the_node_up_unconfigured(ros_context, executor, tmp_path,
                                                              parameter, value, message):
    if value == 'BAD_YAML':
        value = str(tmp_path / 'mapping.yaml')
        (tmp_path / 'mapping.yaml').write_text('gestures: {fist: [')
    elif value == 'TRUNCATED':
        from mmchat_ros.gestures.mediapipe_hands import DetectorSettings, model_paths
        shipped = model_paths(DetectorSettings())['hand_landmark']
        value = str(tmp_path / 'truncated.tflite')
        (tmp_path / 'truncated.tflite').write_bytes(shipped.read_bytes()[:50_000])
    node, operator = start(ros_context, executor, **{parameter: value})
    assert spin_until(executor, lambda: operator.status() and
                      operator.status().level == DiagnosticStatus.ERROR, 10.0)
    assert 'not configured' in operator.status().message
    assert message in operator.status().message
    assert lifecycle_state(executor, operator) == State.PRIMARY_STATE_UNCONFIGURED
    assert operator.image_pub.get_subscription_count() == 0
    assert node.context.ok()


def test_robot_graph_camera_to_commands(tmp_path, photos):
    """The robot profile's camera and gesture nodes as config/graph.yaml composes them.

    They run in the in-process runner: the camera plays 1 s without a hand, then a fist for 1 s,
    in a loop.
    """
    robot = graph.load_profile('robot')
    profile = graph.Profile('gesture_test', 'camera and gesture of the robot profile',
                            tuple(n for n in robot.nodes if n.name in ('camera', 'gesture')),
                            robot.external_topics)
    for i in range(15):
        cv2.imwrite(str(tmp_path / f'a_{i:02d}.png'), np.full((480, 640, 3), 128, np.uint8))
        cv2.imwrite(str(tmp_path / f'b_{i:02d}.png'), photos['fist'])
    runner = GraphRunner(profile, {'camera': {'source': 'folder', 'path': str(tmp_path),
                                              'fps': 15.0, 'width': 640, 'height': 480}})
    try:
        runner.start()
        operator = Operator(runner.executor, runner.context, prefix='/gesture')
        operator.create_timer(0.2, lambda: operator.authorise('alice', True, 60.0))
        camera_stamps = set()
        operator.create_subscription(Image, '/camera/image_raw',
                                     lambda m: camera_stamps.add(stamp_key(m.header.stamp)),
                                     SENSOR_QOS)
        assert runner.spin(STARTUP_S, until=lambda: len(operator.commands) >= 2)
    finally:
        runner.shutdown()
    assert {c.verb for c in operator.commands} == {Command.LAND}
    assert {c.operator_id for c in operator.commands} == {'alice'}
    command_times = [ros_io.seconds(c.header.stamp) for c in operator.commands]
    assert np.diff(command_times).min() > 1.5                  # one command per fist period
    assert {stamp_key(c.header.stamp) for c in operator.commands} <= camera_stamps
    assert {g.label for g in operator.gestures} == {'fist'}
    assert {stamp_key(g.header.stamp) for g in operator.gestures} <= camera_stamps
