"""Real MediaPipe on the real hand photos, and the checks of MediaPipe model files."""
from collections import Counter
import shutil

import cv2
import numpy as np
import pytest

from mmchat_ros import graph
from mmchat_ros.gestures.features import extended_fingers
from mmchat_ros.gestures.mediapipe_hands import DetectorSettings, HandDetector, model_paths
from mmchat_ros.gestures.model_files import ModelFileError
from mmchat_ros.gestures.static_gestures import StaticGestureClassifier
from mmchat_tools.gestures import datasets

PHOTO_SETTINGS = DetectorSettings(static_image_mode=True, model_complexity=1, max_num_hands=2)


@pytest.fixture(scope='module')
def photo_results(shared_data):
    """(photo, hands found, predicted shape, open fingers) of the fist, pointing, V, palm photos."""
    shapes = StaticGestureClassifier.from_file(
        graph.share_dir() / 'models' / 'gesture' / 'static_mlp.npz')
    detector = HandDetector(PHOTO_SETTINGS)
    results = []
    for photo in datasets.load_hand_photos(shared_data / 'hands'):
        if photo.open_fingers not in datasets.PHOTO_GESTURES:
            continue
        hands = detector.detect(cv2.imread(str(photo.path)))
        label = count = None
        if hands:
            label = shapes.classify(hands[0].pixels()).label
            count = int(extended_fingers(hands[0].pixels()).sum())
        results.append((photo, len(hands), label, count))
    detector.close()
    return results


def test_mediapipe_finds_the_hand_inside_its_box(photo_results):
    found = [(photo, n) for photo, n, _, _ in photo_results if n]
    print(f'hands found in {len(found)}/{len(photo_results)} photos')
    assert len(found) >= 0.8 * len(photo_results)
    assert all(n == 1 for _, n in found)                        # one hand per photo


@pytest.mark.parametrize('gesture', ['fist', 'pointing', 'open_palm', 'v_sign'])
def test_photos_are_classified_correctly(photo_results, gesture):
    labels = [label for photo, _, label, _ in photo_results
              if datasets.PHOTO_GESTURES[photo.open_fingers] == gesture]
    overall = np.mean([label == gesture for label in labels])
    with_hand = np.mean([label == gesture for label in labels if label is not None])
    print(f'{gesture}: {with_hand:.0%} of the photos with a hand found, {overall:.0%} of all '
          f'{len(labels)} ({dict(Counter(labels))}; None = no hand found)')
    assert with_hand >= 0.9 and overall >= 0.6


def test_open_finger_count_of_the_photos(photo_results):
    rows = [(photo.open_fingers, count) for photo, _, _, count in photo_results
            if count is not None]
    accuracy = np.mean([truth == count for truth, count in rows])
    print(f'open-finger count right on {accuracy:.0%} of {len(rows)} photos with a hand')
    assert accuracy >= 0.8


def test_custom_model_paths_are_used(tmp_path):
    shipped = model_paths(DetectorSettings())
    copies = {kind: tmp_path / f'{kind}.tflite' for kind in shipped}
    for kind, path in copies.items():
        shutil.copy(shipped[kind], path)
    detector = HandDetector(DetectorSettings(palm_detection_model=str(copies['palm_detection']),
                                             hand_landmark_model=str(copies['hand_landmark'])))
    assert detector.model_paths == copies
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    detector.close()


def test_bad_hand_models_give_clear_errors(tmp_path):
    shipped = model_paths(DetectorSettings())
    truncated = tmp_path / 'truncated.tflite'
    truncated.write_bytes(shipped['hand_landmark'].read_bytes()[:100_000])
    cases = [(str(tmp_path / 'missing.tflite'), 'does not exist'),
             (str(truncated), 'is corrupt'),
             (str(shipped['palm_detection']), 'has 2 outputs, expected 4')]
    for path, message in cases:
        with pytest.raises(ModelFileError, match=message):
            HandDetector(DetectorSettings(hand_landmark_model=path))
    with pytest.raises(ValueError, match='model_complexity must be 0 or 1'):
        HandDetector(DetectorSettings(model_complexity=2))
