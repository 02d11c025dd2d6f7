"""What the SLAM node keeps around a session, without ROS.

Sensor samples matched to frames, the filtered body velocity of the odometry, and the map cloud
(points seen at keyframes, no repeats).
"""
from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

import numpy as np

#: An IMU or altitude sample this close in time to a frame is used for it.
SENSOR_MATCH_S = 0.05
T = TypeVar('T')


class SampleBuffer(Generic[T]):
    """The latest `size` stamped samples; the one nearest a frame's stamp, if close enough."""

    def __init__(self, size: int = 400, tolerance_s: float = SENSOR_MATCH_S) -> None:
        self._samples: deque[tuple[float, T]] = deque(maxlen=size)
        self.tolerance_s = tolerance_s

    def add(self, stamp_s: float, sample: T) -> None:
        """Keep `sample`, stamped `stamp_s` seconds."""
        self._samples.append((stamp_s, sample))

    def nearest(self, stamp_s: float) -> T | None:
        """The sample nearest `stamp_s` when within the tolerance, else None."""
        if not self._samples:
            return None
        best_s, best = min(self._samples, key=lambda s: abs(s[0] - stamp_s))
        return best if abs(best_s - stamp_s) <= self.tolerance_s else None


class BodyVelocity:
    """Body-frame velocity from successive body poses, smoothed (half old, half new)."""

    def __init__(self) -> None:
        self.velocity = np.zeros(3)
        self._last: tuple[float, np.ndarray] | None = None

    def update(self, stamp_s: float, world_from_body: np.ndarray) -> np.ndarray:
        """Add the 4x4 body pose at `stamp_s`; the smoothed body-frame velocity (m/s)."""
        if self._last is not None and stamp_s > self._last[0]:
            last_s, last = self._last
            world_velocity = (world_from_body[:3, 3] - last[:3, 3]) / (stamp_s - last_s)
            self.velocity = 0.5 * self.velocity + 0.5 * (world_from_body[:3, :3].T @ world_velocity)
        self._last = (stamp_s, world_from_body)
        return self.velocity

    def forget_pose(self) -> None:
        """Drop the last pose (a new map: the next pose is not comparable); keep the velocity."""
        self._last = None

    def reset(self) -> None:
        """Drop the last pose and the velocity (tracking lost)."""
        self._last = None
        self.velocity = np.zeros(3)


class MapCloud:
    """The points new keyframes see, exact repeats of one map point dropped, newest `limit` kept."""

    def __init__(self) -> None:
        self.points = np.zeros((0, 3))

    def add(self, points: np.ndarray, limit: int) -> None:
        """Add a keyframe's points; keep at most the newest `limit`."""
        merged = np.concatenate([self.points, points])
        _, first = np.unique(np.round(merged, 6), axis=0, return_index=True)
        self.points = merged[np.sort(first)][-limit:]

    def clear(self) -> None:
        """Forget every point (a new map, a reset)."""
        self.points = np.zeros((0, 3))

    def __len__(self) -> int:
        return len(self.points)
