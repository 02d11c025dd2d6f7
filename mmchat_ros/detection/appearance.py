"""Colour appearance descriptors for re-identifying a target after occlusion or exit (ROS-free).

A descriptor is a normalised hue-saturation histogram of the upper and the lower part of a box
(shirt and trousers for a person, body and windows for a vehicle), plus a brightness histogram of
its unsaturated pixels, so grey, black and white objects are told apart too. The border of the box
(mostly background) is left out. Distances are Bhattacharyya distances in [0, 1].
"""
from __future__ import annotations

import cv2
import numpy as np

HUE_BINS = 12
SATURATION_BINS = 3
VALUE_BINS = 6
MIN_SATURATION = 50        # pixels less saturated than this count as grey (by brightness)
MIN_VALUE = 35             # darker pixels carry no reliable hue
INNER_FRACTION = 0.7       # central part of the box kept, per axis
MIN_SIDE_PX = 4


def _part(hsv: np.ndarray) -> np.ndarray:
    """Joint hue-saturation histogram of coloured pixels, then value histogram of grey ones."""
    pixels = hsv.reshape(-1, 3)
    coloured = (pixels[:, 1] >= MIN_SATURATION) & (pixels[:, 2] >= MIN_VALUE)
    hue = (pixels[coloured, 0].astype(int) * HUE_BINS) // 180
    saturation = ((pixels[coloured, 1].astype(int) - MIN_SATURATION) * SATURATION_BINS) // \
        (256 - MIN_SATURATION)
    colour = np.bincount(hue * SATURATION_BINS + saturation, minlength=HUE_BINS * SATURATION_BINS)
    grey = np.bincount((pixels[~coloured, 2].astype(int) * VALUE_BINS) // 256, minlength=VALUE_BINS)
    histogram = np.concatenate([colour, grey]).astype(np.float32)
    return histogram / max(float(histogram.sum()), 1.0)


def descriptor(bgr: np.ndarray, box_xyxy) -> np.ndarray | None:
    """The appearance descriptor of the box in `bgr`, or None when the box is too small."""
    height, width = bgr.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * INNER_FRACTION / 2, (y2 - y1) * INNER_FRACTION / 2
    left, right = int(max(0, cx - half_w)), int(min(width, cx + half_w))
    top, bottom = int(max(0, cy - half_h)), int(min(height, cy + half_h))
    if right - left < MIN_SIDE_PX or bottom - top < MIN_SIDE_PX:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(bgr[top:bottom, left:right]), cv2.COLOR_BGR2HSV)
    middle = hsv.shape[0] // 2
    return np.concatenate([_part(hsv[:middle]), _part(hsv[middle:])]) / 2.0


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance between two descriptors: 0 identical, 1 nothing in common."""
    overlap = float(np.sum(np.sqrt(a * b)))
    return float(np.sqrt(max(0.0, 1.0 - min(overlap, 1.0))))


def distance_matrix(tracks: list[np.ndarray | None],
                    detections: list[np.ndarray | None]) -> np.ndarray:
    """Pairwise distances; 1.0 (no evidence of a match) wherever a descriptor is missing."""
    out = np.ones((len(tracks), len(detections)))
    for i, a in enumerate(tracks):
        for j, b in enumerate(detections):
            if a is not None and b is not None:
                out[i, j] = distance(a, b)
    return out
