"""mAP and tracking metrics on hand-made cases with known answers."""
import numpy as np
import pytest

from mmchat_tools.detection.metrics import (ImageDetections, ImageTruth, average_precision,
                                            detection_map, tracking_metrics)

NAMES = ('person', 'vehicle')


def pred(boxes, scores, classes) -> ImageDetections:
    return ImageDetections(np.array(boxes, float).reshape(-1, 4), np.array(scores, float),
                           np.array(classes, int))


def truth(boxes, classes) -> ImageTruth:
    return ImageTruth(np.array(boxes, float).reshape(-1, 4), np.array(classes, int))


def test_perfect_detections_score_one():
    t = [truth([[0, 0, 10, 20], [30, 30, 60, 50]], [0, 1]), truth([[5, 5, 15, 25]], [0])]
    p = [pred([[0, 0, 10, 20], [30, 30, 60, 50]], [0.9, 0.8], [0, 1]),
         pred([[5, 5, 15, 25]], [0.7], [0])]
    result = detection_map(p, t, NAMES)
    assert result['map50'] == pytest.approx(1.0) and result['map50_95'] == pytest.approx(1.0)
    assert result['per_class']['person']['instances'] == 2


def test_a_more_confident_false_positive_halves_precision():
    t = [truth([[0, 0, 10, 10]], [0])]
    p = [pred([[50, 50, 60, 60], [0, 0, 10, 10]], [0.9, 0.8], [0, 0])]
    assert detection_map(p, t, NAMES)['map50'] == pytest.approx(0.5)


def test_wrong_class_and_missed_boxes():
    t = [truth([[0, 0, 10, 10], [20, 0, 30, 10]], [0, 0])]
    p = [pred([[0, 0, 10, 10], [20, 0, 30, 10]], [0.9, 0.8], [0, 1])]
    result = detection_map(p, t, NAMES)
    assert result['per_class']['person']['recall'] == pytest.approx(0.5)
    assert result['map50'] == pytest.approx(0.5, abs=0.01)         # recall stops at 0.5
    assert 'vehicle' not in result['per_class']                     # no vehicle ground truth


def test_loose_boxes_count_at_low_iou_thresholds_only():
    t = [truth([[0, 0, 100, 100]], [0])]
    p = [pred([[0, 0, 100, 72]], [0.9], [0])]                        # IoU 0.72
    result = detection_map(p, t, NAMES)
    assert result['map50'] == pytest.approx(1.0)
    assert result['map50_95'] == pytest.approx(0.5)                 # 0.50 ... 0.70 of 10 thresholds


def test_duplicates_are_false_positives():
    t = [truth([[0, 0, 10, 10]], [0])]
    p = [pred([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 0])]
    assert detection_map(p, t, NAMES)['per_class']['person']['precision'] == pytest.approx(1.0)
    assert average_precision(np.array([1.0, 1.0]), np.array([1.0, 0.5])) == pytest.approx(1.0)


def test_tracking_metrics_count_an_identity_switch():
    boxes = [np.array([[0, 0, 10, 10], [50, 0, 60, 10]], float) for _ in range(10)]
    truth_ids = [[1, 2]] * 10
    perfect = tracking_metrics(truth_ids, boxes, [[7, 8]] * 10, boxes)
    assert perfect['idf1'] == pytest.approx(1.0) and perfect['mota'] == pytest.approx(1.0)
    assert perfect['num_switches'] == 0
    swapped = tracking_metrics(truth_ids, boxes, [[7, 8]] * 5 + [[8, 7]] * 5, boxes)
    assert swapped['num_switches'] == 2 and swapped['idf1'] == pytest.approx(0.5)
    missed = tracking_metrics(truth_ids, boxes, [[7]] * 10, [b[:1] for b in boxes])
    assert missed['recall'] == pytest.approx(0.5) and missed['num_misses'] == 10
