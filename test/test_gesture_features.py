"""Gesture features, generated training data, the committed classifiers and their file format."""
import numpy as np
import pytest

from mmchat_ros import graph
from mmchat_ros.gestures import features
from mmchat_ros.gestures.dynamic_gestures import DynamicGestureClassifier, PointHistory
from mmchat_ros.gestures.mlp import Mlp
from mmchat_ros.gestures.model_files import ModelFileError
from mmchat_ros.gestures.static_gestures import LABELS, StaticGestureClassifier
from mmchat_tools.gestures import datasets, synthetic_hands, synthetic_paths

MODELS = graph.share_dir() / 'models' / 'gesture'


@pytest.fixture(scope='module')
def shapes():
    return StaticGestureClassifier.from_file(MODELS / 'static_mlp.npz')


@pytest.fixture(scope='module')
def paths():
    return DynamicGestureClassifier.from_file(MODELS / 'dynamic_mlp.npz')


def test_keypoints_are_normalised_like_keypoint_csv(shared_data):
    rows = datasets.load_keypoints(shared_data / 'hand_keypoints').samples[:50]
    for row in rows:
        moved = row * 173.0 + np.array([320.0, 240.0])        # pixels of some hand
        assert features.normalise_keypoints(moved) == pytest.approx(row, abs=1e-9)


def test_hand_features_ignore_position_and_size():
    hand = synthetic_hands.HandModel(seed=5).sample('v_sign')
    assert features.static_features(hand * 3.0 + 40.0) == pytest.approx(
        features.static_features(hand), abs=1e-9)


@pytest.mark.parametrize('label, long_fingers', [('open_palm', 4), ('fist', 0), ('pointing', 1),
                                                 ('v_sign', 2)])
def test_extended_long_fingers_of_generated_hands(label, long_fingers):
    model = synthetic_hands.HandModel(seed=11)
    counts = [features.extended_fingers(model.sample(label))[1:].sum() for _ in range(200)]
    assert np.mean(np.array(counts) == long_fingers) >= 0.85


def test_pointing_direction_in_image_axes():
    hand = np.zeros((21, 2))
    hand[[5, 9, 13, 17]] = [[0.3, -1.0], [0.1, -1.0], [-0.1, -1.0], [-0.3, -1.0]]
    hand[8] = hand[5] + [0.0, -0.8]                            # index straight up the image
    assert features.pointing_direction(hand) == pytest.approx([0.0, -1.0])
    hand[8] = hand[5] + [0.05, 0.05]                           # towards the camera: too short
    assert features.pointing_direction(hand) is None


def test_circles_turn_in_opposite_senses():
    angles = np.linspace(0, 2 * np.pi, 16)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 0.05
    clockwise_on_screen = features.path_features(circle)      # y down: growing angle turns right
    counter = features.path_features(features.mirror_points(circle))
    assert clockwise_on_screen[-1] > 0.5 and counter[-1] < -0.5   # turns
    assert clockwise_on_screen[-2] > 0 > counter[-2]                 # signed area


def test_generated_swipes_move_the_right_way():
    generated = datasets.Labelled(*synthetic_paths.sample_paths(20, seed=3))
    net_x = generated.samples[:, -1, 0] - generated.samples[:, 0, 0]
    assert (net_x[generated.labels == 'swipe_left'] < -0.15).all()
    assert (net_x[generated.labels == 'swipe_right'] > 0.15).all()
    assert np.abs(generated.samples[generated.labels == 'stop']).max() < 0.02


def test_point_history_resamples_in_time_and_restarts_after_a_gap():
    history = PointHistory(window_s=0.5, max_gap_s=0.2)
    for t in np.arange(0.0, 1.0, 0.1):                         # 10 Hz, moving right 0.01 / 0.1 s
        history.add(t, [0.5 + t * 0.1, 0.5])
    path = history.path()
    assert path.shape == (16, 2) and path[0] == pytest.approx([0, 0])
    assert path[-1, 0] == pytest.approx(0.05)                   # 0.5 s at 0.1 per second
    assert np.diff(path[:, 0]) == pytest.approx(np.full(15, 0.05 / 15))
    history.add(2.0, [0.1, 0.1])                                # a 1 s gap: a new path
    assert history.path() == pytest.approx(np.zeros((16, 2)))


def test_committed_static_model_on_held_out_keypoints(shared_data, shapes):
    _, test = datasets.split(datasets.load_keypoints(shared_data / 'hand_keypoints'))
    predicted, _ = shapes.classify_many(test.samples)
    accuracy = float(np.mean(predicted == test.labels))
    print(f'static accuracy on {len(test)} held-out keypoint.csv rows: {accuracy:.4f}')
    assert accuracy >= 0.95


def test_committed_dynamic_model_on_held_out_paths(shared_data, paths):
    _, test = datasets.split(datasets.load_point_history(shared_data / 'hand_keypoints'))
    predicted, _ = paths.classify_many(test.samples)
    accuracy = float(np.mean(predicted == test.labels))
    print(f'dynamic accuracy on {len(test)} held-out point_history.csv rows: {accuracy:.4f}')
    assert accuracy >= 0.9


def test_committed_static_model_knows_the_generated_classes(shapes):
    generated = datasets.Labelled(*synthetic_hands.sample_dataset(40, seed=99))
    predicted, _ = shapes.classify_many(generated.samples)
    for label in ('v_sign', 'thumbs_up', 'thumbs_down'):
        assert np.mean(predicted[generated.labels == label] == label) >= 0.9, label


def test_model_files_round_trip_without_pickle(tmp_path, shapes):
    path = tmp_path / 'copy.npz'
    shapes.model.save(path)
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz['labels']) == set(LABELS)
    copy = StaticGestureClassifier.from_file(path)
    hand = synthetic_hands.HandModel(seed=1).sample('fist')
    assert copy.classify(hand) == shapes.classify(hand)


def test_bad_model_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelFileError, match='does not exist'):
        StaticGestureClassifier.from_file(tmp_path / 'missing.npz')
    corrupt = tmp_path / 'corrupt.npz'
    corrupt.write_bytes((MODELS / 'static_mlp.npz').read_bytes()[:300])
    with pytest.raises(ModelFileError, match='not a readable .npz'):
        StaticGestureClassifier.from_file(corrupt)
    with pytest.raises(ModelFileError, match="trained on 'path-v1'"):
        StaticGestureClassifier.from_file(MODELS / 'dynamic_mlp.npz')
    pickled = tmp_path / 'pickled.npz'
    np.savez(pickled, weight_0=np.array([object()], dtype=object))
    with pytest.raises(ModelFileError):
        Mlp.load(pickled, 'static-v1')
