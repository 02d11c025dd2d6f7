"""Detection and tracking metrics (ROS-free): COCO-style mAP, and CLEAR-MOT / IDF1 via motmetrics.

mAP follows the COCO definition: per class, detections sorted by confidence are matched greedily to
the unmatched ground-truth box of highest IoU (at least the threshold); AP is the area under the
interpolated precision-recall curve sampled at 101 recall points; mAP50 at IoU 0.5, mAP50-95 the
mean over IoU 0.50, 0.55, ..., 0.95; both averaged over the classes that have ground truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mmchat_ros.detection.tracking import iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class ImageDetections:
    """Predictions for one image: boxes (N, 4) xyxy, scores (N,), class ids (N,)."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


@dataclass(frozen=True)
class ImageTruth:
    """Ground truth of one image: boxes (M, 4) xyxy and class ids (M,)."""

    boxes: np.ndarray
    classes: np.ndarray


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope sampled at 101 recall points (COCO)."""
    if not len(recall):
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    index = np.searchsorted(recall, RECALL_POINTS, side='left')
    sampled = np.where(index < len(envelope), envelope[np.minimum(index, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


def _match(predictions: Sequence[ImageDetections], truths: Sequence[ImageTruth], class_id: int,
           threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(scores, true-positive flags) of all predictions of `class_id`, and the number of truths."""
    scores, hits, total = [], [], 0
    for pred, truth in zip(predictions, truths):
        p = pred.classes == class_id
        t = truth.classes == class_id
        total += int(t.sum())
        p_boxes, p_scores, t_boxes = pred.boxes[p], pred.scores[p], truth.boxes[t]
        order = np.argsort(-p_scores, kind='stable')
        iou = iou_matrix(p_boxes[order], t_boxes)
        taken = np.zeros(len(t_boxes), bool)
        for row, k in enumerate(order):
            candidates = np.where(taken, -1.0, iou[row]) if len(t_boxes) else np.zeros(0)
            best = int(candidates.argmax()) if len(candidates) else -1
            hit = best >= 0 and candidates[best] >= threshold
            if hit:
                taken[best] = True
            scores.append(p_scores[k])
            hits.append(hit)
    return np.array(scores), np.array(hits, bool), total


def detection_map(predictions: Sequence[ImageDetections], truths: Sequence[ImageTruth],
                  class_names: Sequence[str]) -> dict:
    """mAP50, mAP50-95 and per-class AP, precision and recall at IoU 0.5 (at the best F1)."""
    if len(predictions) != len(truths):
        raise ValueError(f'{len(predictions)} predictions for {len(truths)} images')
    per_class = {}
    for class_id, name in enumerate(class_names):
        aps, precision50, recall50 = [], 0.0, 0.0
        for threshold in IOU_THRESHOLDS:
            scores, hits, total = _match(predictions, truths, class_id, threshold)
            if total == 0:
                break
            order = np.argsort(-scores, kind='stable')
            tp = np.cumsum(hits[order])
            recall = tp / total
            precision = tp / np.arange(1, len(tp) + 1)
            aps.append(average_precision(recall, precision))
            if threshold == IOU_THRESHOLDS[0] and len(tp):
                f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
                best = int(f1.argmax())
                precision50, recall50 = float(precision[best]), float(recall[best])
        if aps:
            per_class[name] = {'ap50': aps[0], 'ap50_95': float(np.mean(aps)),
                               'precision': precision50, 'recall': recall50,
                               'instances': int(sum((t.classes == class_id).sum() for t in truths))}
    if not per_class:
        raise ValueError('the ground truth has no boxes')
    return {'map50': float(np.mean([c['ap50'] for c in per_class.values()])),
            'map50_95': float(np.mean([c['ap50_95'] for c in per_class.values()])),
            'per_class': per_class}


def tracking_metrics(truth_ids: Sequence[Sequence[int]], truth_boxes: Sequence[np.ndarray],
                     track_ids: Sequence[Sequence[int]], track_boxes: Sequence[np.ndarray],
                     min_iou: float = 0.5) -> dict:
    """IDF1, MOTA, ID switches, fragmentations, precision, recall over one sequence (motmetrics).

    Per frame: the true target ids and boxes (M, 4), and the tracker's ids and boxes (N, 4). A
    track and a target can be matched when their IoU is at least `min_iou`.
    """
    import motmetrics

    accumulator = motmetrics.MOTAccumulator(auto_id=True)
    for t_ids, t_boxes, h_ids, h_boxes in zip(truth_ids, truth_boxes, track_ids, track_boxes):
        iou = iou_matrix(np.asarray(t_boxes, float).reshape(-1, 4),
                         np.asarray(h_boxes, float).reshape(-1, 4))
        distance = np.where(iou >= min_iou, 1.0 - iou, np.nan)
        accumulator.update(list(t_ids), list(h_ids), distance)
    host = motmetrics.metrics.create()
    names = ['idf1', 'mota', 'num_switches', 'num_fragmentations', 'precision', 'recall',
             'num_objects', 'num_unique_objects', 'mostly_tracked', 'num_false_positives',
             'num_misses']
    summary = host.compute(accumulator, metrics=names, name='sequence')
    row = summary.loc['sequence']
    return {name: (int(row[name]) if name.startswith(('num_', 'mostly')) else float(row[name]))
            for name in names}
