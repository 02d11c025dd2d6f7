"""One SLAM run: a backend plus the bookkeeping the node and the offline runner share. ROS-free.

Counts maps (every initialisation starts one: ORB-SLAM3 makes a new map after a loss it cannot
relocalise from), keeps the metric anchor of the current map, and turns each tracked frame into a
camera pose in the output frame: metric and gravity-aligned once the scale is known, the raw SLAM
map (unscaled) before that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmchat_ros.slam.backend import MonocularSlam, TrackingState
from mmchat_ros.slam.scale import AnchorSample, ScaleEstimator, Similarity

#: States in which the current map is still alive (a relocalisation returns to it).
_MAP_ALIVE = (TrackingState.OK, TrackingState.RECENTLY_LOST)


@dataclass(frozen=True)
class FrameOutput:
    """The result of one frame, in the output frame."""

    state: TrackingState
    map_from_camera: np.ndarray | None   # 4x4; metric when scale_known
    slam_from_camera: np.ndarray | None  # 4x4 in the SLAM map as the backend gives it (unscaled)
    tracked_points: np.ndarray           # (n, 3) in the same frame as map_from_camera
    slam_points: np.ndarray              # (n, 3) the same points in the SLAM map
    keyframes: int
    new_map: bool                        # this frame initialised a new map
    scale_known: bool
    scale: float                         # metres per SLAM unit (1.0 when unknown)
    seconds: float


class SlamSession:
    """Feeds frames to a backend and keeps maps, resets and the metric anchor."""

    def __init__(self, backend: MonocularSlam, scale: ScaleEstimator | None = None) -> None:
        self.backend = backend
        self.scale_estimator = scale
        self.maps = 0
        self.resets = 0
        self.frames = 0
        self.tracked = 0
        self._last_state = TrackingState.NO_IMAGES

    @property
    def anchor(self) -> Similarity | None:
        """The metric anchor of the current map, once known."""
        return self.scale_estimator.result if self.scale_estimator else None

    def process(self, image: np.ndarray, timestamp_s: float,
                attitude_altitude: tuple[np.ndarray, float, tuple[float, float]] | None = None
                ) -> FrameOutput:
        """Track one frame.

        `attitude_altitude`: (R_wb, altitude, (x, y)) of the body at this time.
        """
        result = self.backend.track(image, timestamp_s)
        self.frames += 1
        new_map = result.state == TrackingState.OK and self._last_state not in _MAP_ALIVE
        if new_map:
            self.maps += 1
            if self.scale_estimator:
                self.scale_estimator.reset()
        self._last_state = result.state
        raw = pose = result.map_from_camera
        raw_points = points = result.tracked_points
        if pose is None:
            return FrameOutput(result.state, None, None, points, points, result.keyframes, new_map,
                               self.anchor is not None, self._scale(), result.seconds)
        self.tracked += 1
        if self.scale_estimator and attitude_altitude is not None:
            rotation, altitude, horizontal = attitude_altitude
            self.scale_estimator.add(AnchorSample(pose, rotation, altitude, horizontal))
        anchor = self.anchor
        if anchor is not None:
            pose, points = anchor.apply_pose(pose), anchor.apply_points(points)
        return FrameOutput(result.state, pose, raw, points, raw_points, result.keyframes, new_map,
                           anchor is not None,
                           self._scale(), result.seconds)

    def _scale(self) -> float:
        return self.anchor.scale if self.anchor is not None else 1.0

    def reset(self) -> None:
        """Drop the current map (the reset service)."""
        self.backend.reset()
        self.resets += 1
        self._last_state = TrackingState.NOT_INITIALIZED
        if self.scale_estimator:
            self.scale_estimator.reset()

    def close(self) -> None:
        """Stop the backend."""
        self.backend.close()
