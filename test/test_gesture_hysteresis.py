"""Hold-time hysteresis, alone and in the engine fed with generated hands (no MediaPipe here)."""
import math

import numpy as np
import pytest

from mmchat_ros import graph
from mmchat_ros.control.commands import Source
from mmchat_ros.gestures.dynamic_gestures import DynamicGestureClassifier
from mmchat_ros.gestures.hand import Hand
from mmchat_ros.gestures.hysteresis import Candidate, HoldFilter
from mmchat_ros.gestures.mapping import GestureMapping
from mmchat_ros.gestures.pipeline import GesturePipeline, PipelineSettings
from mmchat_ros.gestures.static_gestures import StaticGestureClassifier
from mmchat_tools.gestures.synthetic_hands import HandModel

FPS = 30.0
SHARE = graph.share_dir()


def run_filter(labels, hold_s=0.5, max_gap_s=0.15, dt=1 / FPS):
    """Feed one label (or None) per frame; the frame indices at which the filter fired."""
    hold = HoldFilter(lambda kind: hold_s, max_gap_s)
    return [i for i, label in enumerate(labels)
            if hold.update(i * dt, Candidate(label, 'static', 1.0) if label else None).fired]


def test_a_held_gesture_fires_exactly_once_after_the_hold_time():
    fired = run_filter(['fist'] * 60)                           # 2 s
    assert fired == [15]                                        # 15 frames = 0.5 s


def test_flickers_fire_nothing():
    rng = np.random.default_rng(0)
    short_flashes = ([None] * 10 + ['fist'] * 12) * 10          # 0.4 s flashes, 0.33 s apart
    alternating = ['fist', 'open_palm', 'thumbs_up'] * 40       # a different gesture each frame
    noisy = list(rng.choice(['fist', 'open_palm', 'pointing', 'v_sign'], 300))
    for labels in (short_flashes, alternating, noisy):
        assert run_filter(labels) == []


def test_a_brief_loss_keeps_the_hold_and_a_long_one_ends_it():
    assert run_filter(['fist'] * 10 + [None] * 3 + ['fist'] * 6) == [15]   # 0.1 s gap tolerated
    assert run_filter(['fist'] * 10 + [None] * 10 + ['fist'] * 14) == []    # 0.33 s gap restarts
    # Released and shown again: fires again.
    assert run_filter(['fist'] * 20 + [None] * 10 + ['fist'] * 20) == [15, 45]


def test_the_same_gesture_after_a_pause_without_frames_is_a_new_hold():
    hold = HoldFilter(lambda kind: 0.5, 0.15)
    fist = Candidate('fist', 'static', 1.0)
    frames = np.arange(0.0, 0.65, 0.1)                          # 10 Hz for 0.6 s
    assert [hold.update(t, fist).fired for t in frames] == [False] * 5 + [True, False]
    assert [hold.update(t, fist).fired for t in frames + 2.0] == [False] * 5 + [True, False]


def test_a_different_gesture_restarts_the_hold():
    assert run_filter(['fist'] * 12 + ['open_palm'] + ['fist'] * 12) == []
    assert run_filter(['fist'] * 12 + ['open_palm'] * 16) == [27]


# --- the engine, with generated hands standing in for MediaPipe -------------------------------

def hand(points_2d: np.ndarray, centre=(320.0, 240.0), size=60.0) -> Hand:
    """A Hand in a 640x480 frame from kinematic-model points (palm-length units)."""
    pixels = np.asarray(centre) + points_2d * size
    landmarks = np.column_stack([pixels / [640.0, 480.0], np.zeros(21)])
    return Hand(landmarks, 'right', 0.99, (640, 480))


@pytest.fixture(scope='module')
def classifiers():
    models = SHARE / 'models' / 'gesture'
    return (StaticGestureClassifier.from_file(models / 'static_mlp.npz'),
            DynamicGestureClassifier.from_file(models / 'dynamic_mlp.npz'))


@pytest.fixture
def engine(classifiers):
    mapping = GestureMapping.from_yaml(SHARE / 'config' / 'gesture_mapping.yaml')
    return GesturePipeline(None, *classifiers, mapping, PipelineSettings())


def confident_sample(classifiers, label: str, seed: int = 0) -> np.ndarray:
    """A generated hand the classifier reads as `label` with confidence >= 0.95."""
    model = HandModel(seed)
    for _ in range(100):
        points = model.sample(label)
        prediction = classifiers[0].classify(points)
        if prediction.label == label and prediction.confidence >= 0.95:
            return points
    raise AssertionError(f'no confident {label}')


def requests(engine, frames) -> list:
    """Run (t, hands) frames through the engine; the command requests it made."""
    made = [engine.process_hands(hands, t).request for t, hands in frames]
    return [r for r in made if r is not None]


def test_engine_holds_before_commanding(engine, classifiers):
    fist = hand(confident_sample(classifiers, 'fist'))
    results = [engine.process_hands([fist], i / FPS) for i in range(45)]
    made = [r for r in results if r.request is not None]
    assert [(r.request_gesture, r.request.verb_name) for r in made] == [('fist', 'LAND')]
    assert made[0].request.source == Source.GESTURE and made[0].request.request_id == ''


def test_engine_ignores_flickering_gestures(engine, classifiers):
    shapes = [hand(confident_sample(classifiers, label)) for label in
              ('thumbs_up', 'fist', 'open_palm', 'v_sign')]
    frames = [(i / FPS, [shapes[(i // 4) % 4]] if i % 12 < 8 else []) for i in range(300)]
    assert requests(engine, frames) == []


def test_engine_ignores_frames_with_too_many_hands(engine, classifiers):
    fist = confident_sample(classifiers, 'fist')
    two = [hand(fist, (200, 240)), hand(fist, (450, 240))]
    results = [engine.process_hands(two, i / FPS) for i in range(30)]
    assert all(r.request is None and not r.hands for r in results)
    assert '2 hands in view, max_hands is 1' in results[0].problem


def test_engine_takeoff_altitude_comes_from_the_mapping(engine, classifiers):
    thumbs_up = hand(confident_sample(classifiers, 'thumbs_up'))
    made = requests(engine, [(i / FPS, [thumbs_up]) for i in range(30)])
    rule = engine.mapping.rules['thumbs_up']
    assert [(r.verb_name, r.altitude_m) for r in made] == [('TAKEOFF', rule.values['altitude_m'])]


def circle(classifiers, clockwise_for_operator: bool) -> list:
    """A pointing hand drawing two circles in 1.2 s; the camera sees the operator mirrored."""
    pointing = confident_sample(classifiers, 'pointing')
    sense = -1.0 if clockwise_for_operator else 1.0            # mirrored on the raw image
    frames = []
    for i in range(36):
        angle = 2 * math.pi * i / 18
        centre = (320 + sense * 30 * math.cos(angle), 240 + 30 * math.sin(angle))
        frames.append((i / FPS, [hand(pointing, centre)]))
    return frames


@pytest.mark.parametrize('clockwise, sign', [(True, -1.0), (False, 1.0)])
def test_engine_circles_yaw_by_the_mapped_angle(engine, classifiers, clockwise, sign):
    made = requests(engine, circle(classifiers, clockwise))
    assert [r.verb_name for r in made] == ['YAW_BY']
    assert math.copysign(1.0, made[0].yaw_rad) == sign        # REP-103: + is counter-clockwise


def test_engine_pointing_still_moves_along_the_finger(engine, classifiers):
    pointing = confident_sample(classifiers, 'pointing')
    made = requests(engine, [(i / FPS, [hand(pointing)]) for i in range(30)])
    assert [r.verb_name for r in made] == ['MOVE_BY']
    step = engine.mapping.rules['pointing'].pointed_step_m
    assert sorted(abs(v) for v in (made[0].y_m, made[0].z_m)) == [0.0, step]
