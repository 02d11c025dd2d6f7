"""MediaPipe's 21 hand landmarks and the Hand record detectors return."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WRIST = 0
THUMB = (1, 2, 3, 4)            # CMC, MCP, IP, TIP
INDEX = (5, 6, 7, 8)            # MCP, PIP, DIP, TIP
MIDDLE = (9, 10, 11, 12)
RING = (13, 14, 15, 16)
PINKY = (17, 18, 19, 20)
FINGERS = (THUMB, INDEX, MIDDLE, RING, PINKY)
FINGER_NAMES = ('thumb', 'index', 'middle', 'ring', 'pinky')
INDEX_TIP = INDEX[3]
NUM_LANDMARKS = 21

#: Bones of the hand, for drawing.
CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19),
    (19, 20))


@dataclass(frozen=True)
class Hand:
    """One detected hand.

    landmarks: (21, 3) x, y normalised to the image width and height, z MediaPipe's relative depth.
    handedness: 'left' or 'right' (the person's own hand), '' when unknown.
    """

    landmarks: np.ndarray
    handedness: str
    handedness_score: float
    image_size: tuple[int, int]          # (width, height) of the frame the hand was found in

    def pixels(self) -> np.ndarray:
        """(21, 2) landmark positions in pixels (keeps the image's aspect ratio)."""
        width, height = self.image_size
        return self.landmarks[:, :2] * np.array([width, height], dtype=float)

    def box_area(self) -> float:
        """Area of the landmarks' bounding box in pixels (a larger hand is nearer the camera)."""
        px = self.pixels()
        extent = px.max(axis=0) - px.min(axis=0)
        return float(extent[0] * extent[1])
