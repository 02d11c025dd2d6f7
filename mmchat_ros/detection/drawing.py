"""How detections are shown, without ROS: boxes drawn on the image and box outlines for rviz.

A track keeps its colour (golden-angle hues); lost tracks are drawn thin and half transparent.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Iterable

import cv2
import numpy as np

#: Horizontal field of view assumed for the markers until a camera_info of the image's size comes.
FALLBACK_FOV_DEG = 90.0


@dataclass(frozen=True)
class ShownBox:
    """One detection as drawn: its pixel box, class, score and track."""

    x1: float
    y1: float
    x2: float
    y2: float
    class_name: str
    score: float
    track_id: int = -1                  # -1: untracked
    lost: bool = False

    @property
    def name(self) -> str:
        """Class and track id ('person #3')."""
        return self.class_name + (f' #{self.track_id}' if self.track_id >= 0 else '')

    @property
    def label(self) -> str:
        """The image label: the name and the score, or 'lost'."""
        return self.name + (' lost' if self.lost else f' {self.score:.2f}')


@dataclass(frozen=True)
class Outline:
    """A box seen `depth` metres in front of the camera.

    Returns its closed corner path (5 x 3, optical frame), colour (r, g, b, a in 0..1) and name.
    """

    corners: np.ndarray
    rgba: tuple[float, float, float, float]
    name: str


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per track (golden-angle hues); grey when untracked."""
    if track_id < 0:
        return (200, 200, 200)
    hue = int((track_id * 137.508) % 180)
    b, g, r = cv2.cvtColor(np.array([[[hue, 220, 255]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def annotate(image: np.ndarray, boxes: Iterable[ShownBox]) -> np.ndarray:
    """A copy of the BGR `image` with the boxes and their labels drawn."""
    canvas = image.copy()
    for box in boxes:
        colour = track_colour(box.track_id)
        x1, y1, x2, y2 = int(box.x1), int(box.y1), int(box.x2), int(box.y2)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 1 if box.lost else 2)
        cv2.putText(canvas, box.label, (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    colour, 1, cv2.LINE_AA)
    return canvas


def intrinsics(width: int, height: int, k: Iterable[float] | None = None
               ) -> tuple[float, float, float, float]:
    """Fx, fy, cx, cy from a camera matrix `k` (row-major 3x3).

    Without one, those of an ideal pinhole with FALLBACK_FOV_DEG.
    """
    k = list(k) if k is not None else []
    if len(k) == 9 and k[0] > 0:
        return k[0], k[4], k[2], k[5]
    focal = width / 2 / math.tan(math.radians(FALLBACK_FOV_DEG) / 2)
    return focal, focal, width / 2, height / 2


def outlines(boxes: Iterable[ShownBox], camera: tuple[float, float, float, float],
             depth_m: float) -> list[Outline]:
    """Each box back-projected to `depth_m` in front of the camera (fx, fy, cx, cy)."""
    fx, fy, cx, cy = camera
    out = []
    for box in boxes:
        b, g, r = track_colour(box.track_id)
        pixels = [(box.x1, box.y1), (box.x2, box.y1), (box.x2, box.y2), (box.x1, box.y2),
                  (box.x1, box.y1)]
        corners = np.array([[(u - cx) / fx * depth_m, (v - cy) / fy * depth_m, depth_m]
                            for u, v in pixels])
        out.append(Outline(corners, (r / 255, g / 255, b / 255, 0.5 if box.lost else 1.0),
                           box.name))
    return out
