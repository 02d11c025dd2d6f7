"""A kinematic hand model that generates MediaPipe-style landmarks of labelled hand shapes.

keypoint.csv has open palms, fists and pointing hands only. This model makes the other classes
(v_sign, thumbs_up, thumbs_down, and `other`: hand shapes that are none of the six) and, so that a
classifier cannot tell classes apart by "real or generated", the three real classes as well.

Hand frame (a right hand): palm in the x-y plane facing +z, fingers along +y, thumb side +x; the
unit is the wrist to middle-knuckle distance. Each finger is a planar chain that flexes towards the
palm (+z); the thumb flexes across the palm. A random rotation, a perspective projection, bone
length jitter, landmark noise and a random left-right flip (left hands, mirrored cameras) follow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mmchat_ros.gestures.hand import INDEX, MIDDLE, PINKY, RING, THUMB, WRIST

Range = tuple[float, float]

_KNUCKLES = {INDEX: (0.24, 0.92, 0.0), MIDDLE: (0.02, 1.0, 0.0), RING: (-0.18, 0.94, 0.02),
             PINKY: (-0.34, 0.82, 0.05)}
_SEGMENTS = {INDEX: (0.42, 0.25, 0.20), MIDDLE: (0.46, 0.29, 0.21), RING: (0.43, 0.28, 0.21),
             PINKY: (0.34, 0.21, 0.19)}
_SPLAY_DEG = {INDEX: 8.0, MIDDLE: 0.0, RING: -6.0, PINKY: -14.0}   # rest direction, towards +x
_FAN = {INDEX: 1.0, MIDDLE: 0.2, RING: -0.6, PINKY: -1.2}   # share of a fan-out per finger
_THUMB_BASE = (0.22, 0.20, 0.04)
_THUMB_SEGMENTS = (0.42, 0.32, 0.26)

# Flexion ranges in degrees of the MCP, PIP and DIP joints of a long finger.
EXTENDED: tuple[Range, Range, Range] = ((-10, 20), (0, 20), (0, 15))
HALF: tuple[Range, Range, Range] = ((20, 60), (30, 80), (15, 50))
CURLED: tuple[Range, Range, Range] = ((60, 95), (85, 115), (35, 75))


@dataclass(frozen=True)
class ThumbPose:
    """The thumb's joint ranges, in degrees.

    Abduction from +y towards +x, elevation out of the palm towards +z, flexion of the base (CMC),
    MCP and IP joints across the palm.
    """

    abduction: Range
    elevation: Range
    flexion: tuple[Range, Range, Range]


THUMB_OUT = ThumbPose((45, 85), (5, 35), ((0, 10), (0, 20), (0, 20)))
THUMB_UP = ThumbPose((50, 90), (-10, 30), ((0, 5), (0, 15), (0, 15)))   # thumbs up: straight
THUMB_TUCKED = ThumbPose((5, 25), (40, 70), ((20, 40), (40, 70), (30, 70)))
THUMB_SIDE = ThumbPose((0, 15), (10, 30), ((0, 15), (10, 40), (10, 40)))
THUMB_HALF = ThumbPose((20, 45), (20, 50), ((10, 25), (20, 45), (15, 45)))


@dataclass(frozen=True)
class Shape:
    """A hand shape.

    The states of index, middle, ring and pinky, the thumb's choices, how far the fingers may fan
    out (degrees), whether index and middle spread apart, and how it is held: 'free' (any way,
    mostly fingers up) or with the thumb 'up', 'down' or 'sideways' in the image.
    """

    fingers: tuple
    thumbs: tuple[ThumbPose, ...]
    fan_deg: float = 6.0
    v_spread: bool = False
    held: str = 'free'


E, H, C = EXTENDED, HALF, CURLED
TUCKED_THUMBS = (THUMB_TUCKED, THUMB_SIDE)

#: Hand shapes per class; `other` holds shapes that are none of the six gestures.
SHAPES: dict[str, tuple[Shape, ...]] = {
    'open_palm': (Shape((E, E, E, E), (THUMB_OUT,), fan_deg=18.0),),
    'fist': (Shape((C, C, C, C), TUCKED_THUMBS),),
    'pointing': (Shape((E, C, C, C), TUCKED_THUMBS + (THUMB_HALF,)),),
    'v_sign': (Shape((E, E, C, C), TUCKED_THUMBS + (THUMB_HALF,), v_spread=True),),
    'thumbs_up': (Shape((C, C, C, C), (THUMB_UP,), held='up'),),
    'thumbs_down': (Shape((C, C, C, C), (THUMB_UP,), held='down'),),
    'other': (Shape((E, E, E, C), TUCKED_THUMBS), Shape((E, E, C, C), (THUMB_OUT,)),
              Shape((E, C, C, E), TUCKED_THUMBS), Shape((C, C, C, E), TUCKED_THUMBS),
              Shape((C, E, C, C), TUCKED_THUMBS), Shape((H, H, H, H), (THUMB_HALF,)),
              Shape((C, C, C, E), (THUMB_OUT,)), Shape((C, C, C, C), (THUMB_UP,), held='sideways'),
              Shape((H, E, E, E), (THUMB_HALF,))),
}
CLASSES: tuple[str, ...] = tuple(SHAPES)


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix about a unit axis (Rodrigues)."""
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _aligning(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A rotation that turns direction `source` onto direction `target`."""
    source, target = source / np.linalg.norm(source), target / np.linalg.norm(target)
    axis = np.cross(source, target)
    if np.linalg.norm(axis) < 1e-9:
        return np.eye(3) if source @ target > 0 else _rotation(np.array([1.0, 0, 0]), np.pi)
    return _rotation(axis, float(np.arccos(np.clip(source @ target, -1, 1))))


def _chain(base: np.ndarray, direction: np.ndarray, bend: np.ndarray, lengths, flexions) -> list:
    """Joint positions of a planar chain that starts along `direction` and bends towards `bend`."""
    points, angle, point = [], 0.0, base
    for length, flexion in zip(lengths, flexions):
        angle += flexion
        point = point + length * (np.cos(angle) * direction + np.sin(angle) * bend)
        points.append(point)
    return points


class HandModel:
    """Samples hand landmarks of a class with a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def _uniform_deg(self, bounds: Range) -> float:
        return float(np.radians(self._rng.uniform(*bounds)))

    def _jitter(self, scale: float = 0.08) -> float:
        return float(1 + self._rng.uniform(-scale, scale))

    def hand_frame_points(self, shape: Shape) -> np.ndarray:
        """(21, 3) landmarks of `shape` in the hand frame."""
        points = np.zeros((21, 3))
        normal = np.array([0.0, 0.0, 1.0])
        for finger, state in zip((INDEX, MIDDLE, RING, PINKY), shape.fingers):
            base = np.array(_KNUCKLES[finger]) + self._rng.normal(0, 0.02, 3)
            splay = _SPLAY_DEG[finger] * (1 + self._rng.uniform(-0.3, 0.3)) \
                + self._rng.uniform(0, shape.fan_deg) * _FAN[finger]
            if shape.v_spread and finger in (INDEX, MIDDLE):
                splay += self._rng.uniform(5, 14) * (1 if finger == INDEX else -1)
            direction = _rotation(normal, -np.radians(splay)) @ np.array([0.0, 1.0, 0.0])
            lengths = [s * self._jitter() for s in _SEGMENTS[finger]]
            flexions = [self._uniform_deg(b) for b in state]
            points[finger[0]] = base
            points[list(finger[1:])] = _chain(base, direction, normal, lengths, flexions)
        thumb = shape.thumbs[self._rng.integers(len(shape.thumbs))]
        abduction = self._uniform_deg(thumb.abduction)
        elevation = self._uniform_deg(thumb.elevation)
        direction = np.array([np.sin(abduction) * np.cos(elevation),
                              np.cos(abduction) * np.cos(elevation), np.sin(elevation)])
        across = np.array([-1.0, 0.0, 0.5])
        bend = across - (across @ direction) * direction
        bend /= np.linalg.norm(bend)
        lengths = [s * self._jitter() for s in _THUMB_SEGMENTS]
        flexions = [self._uniform_deg(b) for b in thumb.flexion]
        base = np.array(_THUMB_BASE) + self._rng.normal(0, 0.02, 3)
        points[THUMB[0]] = base
        points[list(THUMB[1:])] = _chain(base, direction, bend, lengths, flexions)
        points[WRIST] = 0.0
        return points

    def _orientation(self, held: str, points: np.ndarray) -> np.ndarray:
        """A camera-frame rotation of the hand (camera axes x right, y up, z towards the camera)."""
        rng = self._rng
        if held != 'free':
            if held == 'sideways':
                target = _rotation(np.array([0.0, 0.0, 1.0]), np.radians(rng.uniform(-30, 30))) @ \
                    np.array([rng.choice([-1.0, 1.0]), 0.0, 0.0])
            else:
                target = np.array([0.0, 1.0 if held == 'up' else -1.0, 0.0])
            thumb = points[THUMB[3]] - points[THUMB[1]]
            rotation = _rotation(target, rng.uniform(0, 2 * np.pi)) @ _aligning(thumb, target)
            roll = np.radians(np.clip(rng.normal(0, 12), -25, 25))
            tilt = (_rotation(np.array([0.0, 0.0, 1.0]), roll)
                    @ _rotation(np.array([1.0, 0.0, 0.0]), np.radians(rng.uniform(-25, 25))))
            return tilt @ rotation
        roll = rng.normal(0, 35) if rng.random() < 0.7 else rng.uniform(-180, 180)
        yaw = rng.uniform(-45, 45) + (180 if rng.random() < 0.25 else 0)
        pitch = rng.uniform(-35, 35)
        return (_rotation(np.array([0.0, 0.0, 1.0]), np.radians(roll))
                @ _rotation(np.array([1.0, 0.0, 0.0]), np.radians(pitch))
                @ _rotation(np.array([0.0, 1.0, 0.0]), np.radians(yaw)))

    def sample(self, label: str) -> np.ndarray:
        """(21, 2) image-plane landmarks (x right, y down, palm-length units) of a `label` hand."""
        shapes = SHAPES[label]
        shape = shapes[self._rng.integers(len(shapes))]
        points = self.hand_frame_points(shape)
        camera = points @ self._orientation(shape.held, points).T
        distance = self._rng.uniform(4, 12)
        scale = distance / (distance - camera[:, 2])
        image = np.stack([camera[:, 0] * scale, -camera[:, 1] * scale], axis=1)
        image += self._rng.normal(0, 0.02, image.shape)
        if self._rng.random() < 0.5:
            image[:, 0] = -image[:, 0]
        return image


def sample_dataset(per_class: int, seed: int,
                   progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` hands of every class: points (N, 21, 2) and labels (N,) as class names."""
    model = HandModel(seed)
    points, labels = [], []
    for label in CLASSES:
        for _ in range(per_class):
            points.append(model.sample(label))
            labels.append(label)
        if progress:
            progress(per_class)
    return np.array(points), np.array(labels)
