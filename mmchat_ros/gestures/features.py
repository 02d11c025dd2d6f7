"""Features of hand landmarks and fingertip paths, shared by training and inference.

Hand points are (21, 2) arrays in any isotropic unit (pixels, or the normalised rows of
keypoint.csv); paths are (16, 2) index-fingertip positions in image-normalised units relative to the
first point (the rows of point_history.csv). Every feature here is invariant to translation, and the
hand features also to scale.
"""
from __future__ import annotations

import numpy as np

from mmchat_ros.gestures.hand import FINGERS, INDEX, MIDDLE, PINKY, THUMB, WRIST

PATH_LENGTH = 16
_EPS = 1e-9


def normalise_keypoints(points: np.ndarray) -> np.ndarray:
    """Points relative to the wrist, divided by the largest absolute coordinate (keypoint.csv)."""
    relative = np.asarray(points, dtype=float)[:, :2] - points[WRIST, :2]
    return relative / max(float(np.abs(relative).max()), _EPS)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), _EPS)


def _cos_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two vectors (1: straight on, -1: folded back)."""
    return float(np.dot(_unit(a), _unit(b)))


def palm_size(points: np.ndarray) -> float:
    """A scale of the hand that does not depend on the fingers: the palm's mean side length."""
    return max(float(np.mean([np.linalg.norm(points[a] - points[b]) for a, b in
                              ((WRIST, INDEX[0]), (WRIST, PINKY[0]), (INDEX[0], PINKY[0]),
                               (WRIST, MIDDLE[0]))])), _EPS)


def finger_geometry(points: np.ndarray) -> np.ndarray:
    """(5, 3) per finger: reach (wrist-tip / wrist-middle joint), straightness, tip distance / palm.

    Straightness is the cosine between the finger's base segment and its tip segment; the tip
    distance is measured from the finger's own base (MCP; the thumb's from the index MCP).
    """
    size = palm_size(points)
    rows = []
    for finger in FINGERS:
        base, joint, _, tip = finger
        reach = np.linalg.norm(points[tip] - points[WRIST]) / max(
            float(np.linalg.norm(points[joint] - points[WRIST])), _EPS)
        straight = _cos_angle(points[joint] - points[base], points[tip] - points[finger[2]])
        anchor = INDEX[0] if finger is THUMB else base
        rows.append((reach, straight, np.linalg.norm(points[tip] - points[anchor]) / size))
    return np.array(rows)


def extended_fingers(points: np.ndarray) -> np.ndarray:
    """(5,) bool: which fingers (thumb, index, middle, ring, pinky) are stretched out.

    A long finger counts when its tip is well beyond its middle joint as seen from the wrist and it
    is fairly straight; the thumb when it is straight and its tip is away from the index knuckle
    and the palm.
    """
    geometry = finger_geometry(points)
    thumb_to_pinky = np.linalg.norm(points[THUMB[3]] - points[PINKY[0]]) / palm_size(points)
    thumb = bool(thumb_to_pinky > 1.3 and geometry[0, 2] > 0.4 and geometry[0, 1] > 0.5)
    long_fingers = (geometry[1:, 0] > 1.1) & (geometry[1:, 1] > 0.3)
    return np.concatenate([[thumb], long_fingers])


def static_features(points: np.ndarray) -> np.ndarray:
    """Feature vector of one hand: its 42 normalised coordinates plus geometry (see above).

    Geometry: per finger reach, straightness and tip distance; the thumb tip's distance to the
    pinky knuckle; directions (unit vector times length / palm size) of the thumb, the index finger
    and the palm; the cosine between index and middle finger directions (a V opens it).
    """
    points = normalise_keypoints(points)
    size = palm_size(points)
    thumb = (points[THUMB[3]] - points[THUMB[1]]) / size
    index = (points[INDEX[3]] - points[INDEX[0]]) / size
    middle = points[MIDDLE[3]] - points[MIDDLE[0]]
    palm = _unit(points[MIDDLE[0]] - points[WRIST])
    extra = [np.linalg.norm(points[THUMB[3]] - points[PINKY[0]]) / size, _cos_angle(index, middle)]
    return np.concatenate([points.ravel(), finger_geometry(points).ravel(), thumb, index, palm,
                           extra])


def pointing_direction(points: np.ndarray, min_length: float = 0.6) -> np.ndarray | None:
    """Unit (dx, dy) in image axes (y down) along the index finger, or None.

    None when it points at the camera (its image length from knuckle to tip is under `min_length`
    palm sizes).
    """
    vector = points[INDEX[3]] - points[INDEX[0]]
    if np.linalg.norm(vector) < min_length * palm_size(points):
        return None
    return _unit(vector)


def path_features(path: np.ndarray) -> np.ndarray:
    """Feature vector of a fingertip path (16, 2) relative to its first point.

    The raw path (absolute speed matters: stop vs move vs swipe), the path scaled to a unit box
    (shape), and scalars: length, net displacement, straightness, signed enclosed area over
    length squared (sign: turning sense), and total turning angle in turns.
    """
    path = np.asarray(path, dtype=float).reshape(PATH_LENGTH, 2)
    path = path - path[0]
    shape = path / max(float(np.abs(path).max()), _EPS)
    steps = np.diff(path, axis=0)
    lengths = np.linalg.norm(steps, axis=1)
    length = float(lengths.sum())
    net = path[-1]
    x, y = path[:, 0], path[:, 1]
    area = 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))
    moving = steps[lengths > 1e-3 + 0.05 * (length / len(steps))]
    if len(moving) > 1:
        headings = np.arctan2(moving[:, 1], moving[:, 0])
        turns = float(np.sum(np.angle(np.exp(1j * np.diff(headings)))) / (2 * np.pi))
    else:
        turns = 0.0
    scalars = [length, net[0], net[1], np.linalg.norm(net) / max(length, _EPS),
               area / max(length ** 2, _EPS), turns]
    return np.concatenate([path.ravel(), shape.ravel(), scalars])


def mirror_points(points: np.ndarray) -> np.ndarray:
    """Points flipped left-right (x -> -x), e.g. a raw camera image to a mirrored selfie view."""
    flipped = np.array(points, dtype=float, copy=True)
    flipped[..., 0] = -flipped[..., 0]
    return flipped
