"""Metric scale and a gravity-aligned map frame for monocular SLAM, from altitude and attitude.

ROS-free.

Monocular SLAM knows its map only up to a similarity: unknown scale s, orientation and origin. The
vehicle knows its attitude (IMU, roll and pitch from gravity) and its altitude (barometer, range
finder, or the simulator's odometry), and it starts with a take-off climb. For every tracked frame

    R_wb  attitude of the body in the world (IMU)          T_bc  camera mount on the body (known)
    T_sc  camera pose in the SLAM map (unscaled)           z     altitude of the body (metres)

the map-to-world rotation is R_ws = R_wb R_bc R_sc^T (averaged over the frames), and the altitude
obeys, with the camera-to-body offset p_cb = -R_bc^T p_bc,

    z - e_z . (R_ws R_sc p_cb) = s (e_z . R_ws p_sc) + t_z

which is linear in (s, t_z): a least-squares fit once the body has climbed `min_climb_m` while
tracking. The horizontal origin puts the body at the anchor's x, y (the take-off point) at the first
frame used. The result maps SLAM coordinates to a metric, z-up (REP-103/105) `map` frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Similarity:
    """x_world = scale * rotation @ x_slam + translation."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply_pose(self, map_from_camera: np.ndarray) -> np.ndarray:
        """A SLAM camera pose (4x4) as a metric pose in the world."""
        pose = np.eye(4)
        pose[:3, :3] = self.rotation @ map_from_camera[:3, :3]
        pose[:3, 3] = self.scale * self.rotation @ map_from_camera[:3, 3] + self.translation
        return pose

    def apply_points(self, points: np.ndarray) -> np.ndarray:
        """SLAM map points (n, 3) in the world."""
        return self.scale * np.asarray(points).reshape(-1, 3) @ self.rotation.T + self.translation


@dataclass(frozen=True)
class AnchorSample:
    """What is known about the body when a frame was tracked."""

    map_from_camera: np.ndarray      # T_sc, 4x4 SLAM pose (unscaled)
    world_from_body_rotation: np.ndarray   # R_wb, 3x3 from the IMU
    altitude_m: float                # body z
    horizontal_m: tuple[float, float] = (0.0, 0.0)   # body x, y when known (take-off point)


def _project_rotation(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m)
    return u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt


@dataclass
class ScaleEstimator:
    """Collects AnchorSamples of one map and solves for the Similarity once the climb suffices.

    The first fit is made when the body has climbed `min_climb_m` while tracking. It is refined
    with every further frame (the first frames of a new map have the least accurate scale) until
    `max_samples` frames have been used, then kept for the rest of the map. A fit is believed when
    its RMS altitude error is at most `max_residual_fraction` of the altitude range.
    """

    body_from_camera: np.ndarray               # T_bc, 4x4
    min_climb_m: float = 0.5                   # altitude change needed while tracking
    max_residual_fraction: float = 0.1         # RMS altitude error / altitude range of a good fit
    min_samples: int = 10
    max_samples: int = 400
    samples: list[AnchorSample] = field(default_factory=list)
    result: Similarity | None = None
    residual_m: float = float('nan')

    def reset(self) -> None:
        """A new map: forget the samples and the result."""
        self.samples.clear()
        self.result = None
        self.residual_m = float('nan')

    @property
    def climb_m(self) -> float:
        """The altitude range of the samples so far."""
        return float(np.ptp([s.altitude_m for s in self.samples])) if self.samples else 0.0

    @property
    def final(self) -> bool:
        """True once the result is no longer refined."""
        return self.result is not None and len(self.samples) >= self.max_samples

    def add(self, sample: AnchorSample) -> Similarity | None:
        """Add a tracked frame; returns the current Similarity (None while unknown)."""
        if self.final:
            return self.result
        self.samples.append(sample)
        if self.result is None:
            del self.samples[:-self.max_samples]     # no fit yet: a sliding window
        if len(self.samples) >= self.min_samples and self.climb_m >= self.min_climb_m:
            self._solve()
        return self.result

    def _solve(self) -> None:
        r_bc, p_bc = self.body_from_camera[:3, :3], self.body_from_camera[:3, 3]
        p_cb = -r_bc.T @ p_bc
        r_sc = np.array([s.map_from_camera[:3, :3] for s in self.samples])
        p_sc = np.array([s.map_from_camera[:3, 3] for s in self.samples])
        r_wb = np.array([s.world_from_body_rotation for s in self.samples])
        r_ws = _project_rotation(np.einsum('nij,jk,nlk->il', r_wb, r_bc, r_sc))
        up_s = r_ws.T @ UP                           # the world's up in SLAM coordinates
        altitudes = np.array([s.altitude_m for s in self.samples])
        target = altitudes - (r_sc @ p_cb) @ up_s
        a = np.column_stack([p_sc @ up_s, np.ones(len(p_sc))])
        (scale, t_z), *_ = np.linalg.lstsq(a, target, rcond=None)
        residual = float(np.sqrt(np.mean((a @ [scale, t_z] - target) ** 2)))
        self.residual_m = residual
        if scale <= 0 or residual > self.max_residual_fraction * self.climb_m:
            return                                  # not believed: keep the previous result, if any
        first = self.samples[0]
        body_world = r_ws @ (scale * first.map_from_camera[:3, 3]
                             + first.map_from_camera[:3, :3] @ p_cb)
        translation = np.array([first.horizontal_m[0] - body_world[0],
                                first.horizontal_m[1] - body_world[1], t_z])
        self.result = Similarity(float(scale), r_ws, translation)
