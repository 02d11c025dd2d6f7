"""Fingertip path gestures.

The index fingertip's recent path -> stop, clockwise, counter_clockwise, move, swipe_left,
swipe_right.

Paths are seen from the operator (as in a mirrored selfie view, like point_history.csv): a circle
the operator draws clockwise is `clockwise`, a swipe to the operator's left is `swipe_left`.
`stop` means the fingertip is still: the hand shape decides then.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from mmchat_ros.gestures.features import PATH_LENGTH, path_features
from mmchat_ros.gestures.mlp import Mlp, Prediction
from mmchat_ros.gestures.model_files import ModelFileError

STILL = 'stop'
LABELS: tuple[str, ...] = (STILL, 'clockwise', 'counter_clockwise', 'move', 'swipe_left',
                           'swipe_right')
FEATURES = 'path-v1'        # features.path_features


class PointHistory:
    """The fingertip's recent positions, resampled to 16 points evenly spaced over `window_s`.

    A gap longer than `max_gap_s` or time going backwards starts a new path. Before the first
    position the fingertip counts as having been still, so a short history is usable at once.
    """

    def __init__(self, window_s: float, max_gap_s: float) -> None:
        self.window_s = window_s
        self.max_gap_s = max_gap_s
        self._times: deque[float] = deque()
        self._points: deque[np.ndarray] = deque()

    @property
    def active(self) -> bool:
        """True while a path is being followed."""
        return bool(self._times)

    def clear(self) -> None:
        """Forget the path."""
        self._times.clear()
        self._points.clear()

    def add(self, t: float, point: np.ndarray) -> None:
        """Add the fingertip position (image-normalised x, y) seen at time `t` (seconds)."""
        if self._times and not 0 <= t - self._times[-1] <= self.max_gap_s:
            self.clear()
        self._times.append(t)
        self._points.append(np.asarray(point, dtype=float)[:2])
        while len(self._times) > 2 and self._times[1] <= t - self.window_s:
            self._times.popleft()
            self._points.popleft()

    def path(self) -> np.ndarray | None:
        """(16, 2) path relative to its first point, or None before any position."""
        if not self._times:
            return None
        times = np.fromiter(self._times, float)
        points = np.array(self._points)
        at = np.linspace(times[-1] - self.window_s, times[-1], PATH_LENGTH)
        path = np.stack([np.interp(at, times, points[:, i]) for i in (0, 1)], axis=1)
        return path - path[0]


class DynamicGestureClassifier:
    """Classifies fingertip paths with a trained Mlp."""

    def __init__(self, model: Mlp) -> None:
        unknown = set(model.labels) - set(LABELS)
        if unknown:
            raise ModelFileError(f'dynamic classifier has unknown labels {sorted(unknown)}')
        self.model = model

    @classmethod
    def from_file(cls, path: str | Path) -> 'DynamicGestureClassifier':
        """Load a model file (ModelFileError when it is missing or not a path model)."""
        return cls(Mlp.load(path, FEATURES))

    def classify(self, path: np.ndarray) -> Prediction:
        """The gesture of one (16, 2) path."""
        return self.model.predict(path_features(path))

    def classify_many(self, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (N,) and probabilities (N, classes) of many paths (N, 16, 2)."""
        probabilities = self.model.probabilities(np.array([path_features(p) for p in paths]))
        return np.array(self.model.labels)[probabilities.argmax(axis=1)], probabilities
