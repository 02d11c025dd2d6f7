"""The detector node over real DDS with the committed models: detection, tracking, headers, input.

Frames are rendered by the built-in simulator with exact ground-truth boxes (segmentation), sent
one at a time, and each answer is awaited, so no test depends on timing.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import State
from lifecycle_msgs.srv import GetState
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mmchat_ros import graph, ros_io
from mmchat_ros.detection.tracking import iou_matrix
from mmchat_ros.msg import Detection, DetectionArray
from mmchat_ros.nodes.detector_node import DetectorNode
from mmchat_ros.simulation import Simulator
from mmchat_ros.simulation.world import World
from mmchat_ros.vehicle_model import VehicleModel
from mmchat_tools.detection import sim_data
from mmchat_tools.probe import Probe, spin_until

SHARE = graph.share_dir()
MODELS = SHARE / 'models' / 'detector'
VEHICLE = SHARE / 'sim' / 'vehicles' / 'quadrotor.yaml'
WORLDS = SHARE / 'sim' / 'worlds'
LOAD_TIMEOUT_S = 120.0       # the first model load imports torch and Ultralytics
ANSWER_TIMEOUT_S = 30.0
HARNESS_NUMBERS = itertools.count()


def stamp_header(i: int) -> Header:
    header = Header(frame_id='camera_optical_frame')
    header.stamp.sec, header.stamp.nanosec = 1000 + i // 10, (i % 10) * 100_000_000
    return header


class Harness:
    """A detector node, a camera stand-in that publishes frames, and a listener."""

    def __init__(self, context, executor, **parameters) -> None:
        self.executor = executor
        overrides = [Parameter('max_rate_hz', value=0.0)] + \
            [Parameter(k, value=v) for k, v in parameters.items()]
        # A namespace per harness: with the same names in every test, the lifecycle service of a
        # new node was sometimes not discovered within 30 s (cause not pinned down).
        namespace = f'/harness_{next(HARNESS_NUMBERS)}'
        self.node = DetectorNode(context=context, namespace=namespace,
                                 parameter_overrides=overrides)
        executor.add_node(self.node)
        self.probe = Probe(executor, context, 'detector_probe', namespace=namespace)
        self.images = self.probe.publisher('image', Image, ros_io.SENSOR_QOS)
        self.arrays: list[DetectionArray] = self.probe.record('detections', DetectionArray)
        self.annotated: list[Image] = self.probe.record('image_annotated', Image, ros_io.SENSOR_QOS)
        self.markers: list[MarkerArray] = self.probe.record('markers', MarkerArray)
        self.diagnostics: list[DiagnosticArray] = self.probe.record_diagnostics()
        self._state_client = self.probe.create_client(GetState, 'detector/get_state')

    def state(self) -> int:
        # discovery is slow under load
        assert spin_until(self.executor, self._state_client.service_is_ready, 30.0)
        future = self._state_client.call_async(GetState.Request())
        assert spin_until(self.executor, future.done, 10.0)
        return future.result().current_state.id

    def wait_configured(self) -> int:
        """Spin until the autostart finished (active or failed); returns the lifecycle state."""
        spin_until(self.executor, lambda: any(
            s.message.startswith(('active', 'not configured'))
            for d in self.diagnostics for s in d.status
            if s.name.endswith('detector')), LOAD_TIMEOUT_S)
        return self.state()

    def wait_for_subscription(self) -> None:
        assert spin_until(self.executor, lambda: self.images.get_subscription_count() > 0, 10.0)

    def send(self, image_msg: Image) -> DetectionArray | None:
        """Publish one frame and wait for the DetectionArray with its header (None if none)."""
        before = len(self.arrays)
        self.images.publish(image_msg)
        spin_until(self.executor,
                   lambda: any(a.header == image_msg.header for a in self.arrays[before:]),
                   ANSWER_TIMEOUT_S)
        return next((a for a in self.arrays[before:] if a.header == image_msg.header), None)

    def send_frame(self, bgr: np.ndarray, i: int) -> DetectionArray | None:
        return self.send(ros_io.image_msg(bgr, 'bgr8', stamp_header(i)))

    def status(self, predicate) -> bool:
        return any(predicate(s) for d in self.diagnostics for s in d.status
                   if s.name.endswith('detector'))


@pytest.fixture
def harness(ros_context, executor):
    made = []

    def make(**parameters) -> Harness:
        h = Harness(ros_context, executor, **parameters)
        made.append(h)
        return h

    yield make
    for h in made:
        h.node.destroy_node()
        h.probe.close()


@pytest.fixture(scope='module')
def room_frames() -> list[sim_data.SequenceFrame]:
    """Views of the indoor room with its two walking people, and their true boxes."""
    sim = Simulator.from_files(WORLDS / 'indoor_room.yaml', VEHICLE, seed=7)
    renderer = sim_data.LabelledRenderer(sim, 320, 240)
    frames = []
    for i, t in enumerate(np.arange(0.0, 24.0, 2.0)):
        sim_data.place_targets(sim, float(t))
        renderer.place_camera(sim_data.CameraPose((-4.5, 0.5 * (i % 3 - 1), 1.3), 0.0,
                                                  math.radians(8)))
        image, boxes = renderer.render()
        frames.append(sim_data.SequenceFrame(float(t), image, boxes))
    renderer.close()
    sim.close()
    return frames


def matched_fraction(frames, arrays, min_height_px: float = 20.0) -> float:
    """Fraction of true boxes (min_height_px tall or more) found with IoU >= 0.5 and right class."""
    found = total = 0
    for frame, array in zip(frames, arrays):
        truth = [b for b in frame.boxes if b.box_xyxy[3] - b.box_xyxy[1] >= min_height_px]
        if not truth:
            continue
        found_boxes = np.array([[d.center_x_px - d.size_x_px / 2, d.center_y_px - d.size_y_px / 2,
                                 d.center_x_px + d.size_x_px / 2, d.center_y_px + d.size_y_px / 2]
                                for d in array.detections]).reshape(-1, 4)
        iou = iou_matrix(np.array([b.box_xyxy for b in truth]), found_boxes)
        for row, box in zip(iou, truth):
            names = [array.detections[j].class_name for j in np.nonzero(row >= 0.5)[0]]
            found += sim_data.CLASS_NAMES[box.class_id] in names
            total += 1
    assert total > 0, 'the rendered views should show the targets'
    return found / total


@pytest.mark.parametrize('model', ['sim_yolo11n.pt', 'sim_yolo11n.onnx', 'sim_yolo11n_int8.onnx'])
def test_detects_the_simulator_targets_and_copies_headers(harness, room_frames, model):
    h = harness(model=str(MODELS / model), tracker='none')
    assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
    h.wait_for_subscription()
    arrays = [h.send_frame(f.image, i) for i, f in enumerate(room_frames)]
    assert all(a is not None for a in arrays), 'every frame is answered when max_rate_hz is 0'
    for i, array in enumerate(arrays):
        assert array.header == stamp_header(i)                     # copied, never re-stamped
        assert (array.image_width, array.image_height) == (320, 240)
        assert all(d.track_id == -1 and d.track_state == Detection.TRACK_NONE
                   for d in array.detections)
    assert matched_fraction(room_frames, arrays) >= 0.8
    assert {a.header.stamp.sec for a in h.annotated} and h.annotated[-1].encoding == 'bgr8'
    assert h.annotated[-1].header in [a.header for a in arrays]
    last_markers = h.markers[-1].markers
    assert last_markers[0].action == last_markers[0].DELETEALL
    assert len(last_markers) == 1 + 2 * len(arrays[-1].detections)
    assert all(m.header.frame_id == 'camera_optical_frame' for m in last_markers)


def test_track_ids_persist_across_a_crossing(harness):
    """Three people cross in front of the camera; each keeps one track ID throughout."""
    scenarios = sim_data.scenarios(World.from_yaml(WORLDS / 'indoor_room.yaml'),
                                   World.from_yaml(WORLDS / 'outdoor_yard.yaml'))
    frames = list(sim_data.render_sequence(scenarios['crossing'], VehicleModel.from_yaml(VEHICLE),
                                           rate_hz=10.0, seed=11))
    h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'), tracker='reid')
    assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
    h.wait_for_subscription()
    ids: dict[int, list[int]] = {}
    for i, frame in enumerate(frames):
        array = h.send_frame(frame.image, i)
        assert array is not None
        tracked = [d for d in array.detections if d.track_state in (Detection.TRACK_TENTATIVE,
                                                                     Detection.TRACK_CONFIRMED)]
        boxes = np.array([[d.center_x_px - d.size_x_px / 2, d.center_y_px - d.size_y_px / 2,
                           d.center_x_px + d.size_x_px / 2, d.center_y_px + d.size_y_px / 2]
                          for d in tracked]).reshape(-1, 4)
        for truth in frame.boxes:
            iou = iou_matrix(np.array([truth.box_xyxy]), boxes)[0]
            if iou.size and iou.max() >= 0.5:
                ids.setdefault(truth.target_id, []).append(tracked[int(iou.argmax())].track_id)
    assert len(ids) == 3, 'all three people are detected'
    for target, track_ids in ids.items():
        assert len(track_ids) >= 10, f'target {target} is tracked through the sequence'
        assert len(set(track_ids)) == 1, f'target {target} changed track ID: {track_ids}'
    assert len({v[0] for v in ids.values()}) == 3, 'each person has their own ID'
    ages = [d.track_age_s for d in h.arrays[-1].detections
            if d.track_state == Detection.TRACK_CONFIRMED]
    assert ages and max(ages) > 1.0


def test_bad_images_are_skipped_and_the_node_keeps_working(harness, room_frames):
    h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'))
    assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
    h.wait_for_subscription()
    wrong_encoding = Image(header=stamp_header(1), width=4, height=2, encoding='yuv422', step=8,
                           data=bytes(16))
    empty = Image(header=stamp_header(2), width=0, height=0, encoding='bgr8', step=0)
    tiny = ros_io.image_msg(np.zeros((8, 8, 3), np.uint8), 'bgr8', stamp_header(3))
    truncated = ros_io.image_msg(room_frames[0].image, 'bgr8', stamp_header(4))
    truncated.data = truncated.data[:1000]
    for count, bad in enumerate((wrong_encoding, empty, tiny, truncated), 1):
        h.images.publish(bad)
        assert spin_until(h.executor, lambda: h.status(lambda s: any(
            v.key == 'bad images' and int(v.value) == count for v in s.values)), 10.0)
    assert not h.arrays, 'nothing is published for a bad image'
    assert h.status(lambda s: s.level == DiagnosticStatus.WARN and 'image skipped' in s.message)
    assert h.state() == State.PRIMARY_STATE_ACTIVE
    assert h.send_frame(room_frames[0].image, 5) is not None
    mono = ros_io.image_msg(np.ascontiguousarray(room_frames[0].image[:, :, 1]), 'mono8',
                            stamp_header(6))
    assert h.send(mono) is not None, 'mono8 is converted, not rejected'


@pytest.mark.parametrize('model, reason', [
    ('does_not_exist.onnx', 'does not exist'),
    ('corrupt.onnx', 'cannot load model'),
    ('corrupt.pt', 'cannot load model'),
    ('empty.pt', 'is empty'),
    ('weights.tflite', 'unsupported format'),
    ('detector.engine', 'TensorRT'),
])
def test_unusable_models_leave_the_node_up_and_unconfigured(harness, tmp_path, model, reason):
    path = Path(tmp_path) / model
    if model.startswith('corrupt'):
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif model != 'does_not_exist.onnx':
        path.write_bytes(b'' if model.startswith('empty') else b'not a model')
    h = harness(model=str(path))
    assert h.wait_configured() == State.PRIMARY_STATE_UNCONFIGURED
    assert h.status(lambda s: s.level == DiagnosticStatus.ERROR and reason in s.message
                    and 'not configured' in s.message)


def test_unknown_class_or_tracker_fails_configuration(harness):
    h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'), classes=['giraffe'])
    assert h.wait_configured() == State.PRIMARY_STATE_UNCONFIGURED
    assert h.status(lambda s: s.level == DiagnosticStatus.ERROR and 'giraffe' in s.message)


@pytest.fixture(scope='module')
def yard_frame() -> sim_data.SequenceFrame:
    """The yard with a person in front of a vehicle."""
    sim = Simulator.from_files(WORLDS / 'outdoor_yard.yaml', VEHICLE, seed=3)
    renderer = sim_data.LabelledRenderer(sim, 320, 240)
    sim_data.set_target_pose(sim, 1, 4.0, 1.5, 0.0)
    sim_data.set_target_pose(sim, 2, 30.0, 30.0, 0.0)           # out of the way
    sim_data.set_target_pose(sim, 3, 7.0, -1.0, 0.5)
    renderer.place_camera(sim_data.CameraPose((0.0, 0.0, 1.5), 0.0, math.radians(8)))
    image, boxes = renderer.render()
    renderer.close()
    sim.close()
    assert {b.class_id for b in boxes} == {0, 1}
    return sim_data.SequenceFrame(0.0, image, boxes)


@pytest.mark.parametrize('keep', ['vehicle', 'person'])
def test_class_filter(harness, yard_frame, keep):
    h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'), classes=[keep])
    assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
    h.wait_for_subscription()
    array = h.send_frame(yard_frame.image, 0)
    assert array.detections and {d.class_name for d in array.detections} == {keep}


def test_conf_bounds_every_detection_without_a_tracker(harness, room_frames):
    """track_low_conf lowers the detector's threshold only for a tracker.

    A tracker starts no track below conf; the room views hold detections between the two
    thresholds.
    """
    scores = {}
    for conf in (0.05, 0.35):
        h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'), tracker='none', conf=conf,
                    track_low_conf=0.05)
        assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
        h.wait_for_subscription()
        scores[conf] = [d.score for i, f in enumerate(room_frames)
                        for d in h.send_frame(f.image, i).detections]
    assert any(s < 0.35 for s in scores[0.05])
    assert scores[0.35] and min(scores[0.35]) >= 0.35


def test_rate_limit_skips_frames(harness, room_frames):
    h = harness(model=str(MODELS / 'sim_yolo11n_int8.onnx'), max_rate_hz=0.2)
    assert h.wait_configured() == State.PRIMARY_STATE_ACTIVE
    h.wait_for_subscription()
    assert h.send_frame(room_frames[0].image, 0) is not None
    h.images.publish(ros_io.image_msg(room_frames[1].image, 'bgr8', stamp_header(1)))
    assert spin_until(h.executor, lambda: h.status(lambda s: any(
        v.key == 'skipped (rate)' and int(v.value) >= 1 for v in s.values)), 10.0)
    assert len(h.arrays) == 1


def test_sim_profile_detects_the_people_and_the_recording_summary_lists_them(run_profile,
                                                                            make_probe, tmp_path):
    from mmchat_ros.detection_summary import summarise_detections

    recording = tmp_path / 'sim.mcap'
    runner = run_profile('sim', overrides={'sim': {'real_time_factor': 0.0}},
                         record_path=recording,
                         record_topics=['/detections', '/detections/image_annotated',
                                        '/detections/markers'])
    arrays = make_probe(runner, 'detections_listener').record('/detections', DetectionArray)

    def confirmed():
        return sum(d.track_state == Detection.TRACK_CONFIRMED
                   for a in arrays for d in a.detections)

    assert runner.spin(LOAD_TIMEOUT_S, until=lambda: len(arrays) >= 30 and confirmed() >= 10)
    assert all(a.header.frame_id == 'camera_optical_frame' for a in arrays)
    runner.shutdown()
    summary = summarise_detections(recording)
    assert summary['frames'] >= 30 and summary['annotated_frames'] >= 1
    assert summary['targets_seen'].get('person', 0) >= 1
    assert all(t['class'] == 'person' for t in summary['tracks'].values())
