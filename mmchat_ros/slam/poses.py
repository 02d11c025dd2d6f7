"""Rigid poses as 4x4 matrices, quaternions (ROS order x, y, z, w) and TUM trajectory files.

ROS-free.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

import numpy as np

from mmchat_ros.geometry import quaternion_from_matrix, rotation_matrix


def pose_matrix(position, q_xyzw) -> np.ndarray:
    """The 4x4 transform with rotation `q_xyzw` and translation `position`."""
    t = np.eye(4)
    t[:3, :3] = rotation_matrix(np.asarray(q_xyzw, dtype=float) / np.linalg.norm(q_xyzw))
    t[:3, 3] = position
    return t


def invert(t: np.ndarray) -> np.ndarray:
    """The inverse of a rigid 4x4 transform."""
    inv = np.eye(4)
    inv[:3, :3] = t[:3, :3].T
    inv[:3, 3] = -t[:3, :3].T @ t[:3, 3]
    return inv


def optical_from_body(pitch_deg: float, position_m=(0.0, 0.0, 0.0)) -> np.ndarray:
    """T_body_optical of a camera looking along body +x (FLU), pitched down by `pitch_deg`.

    REP-103 optical frame: z forward, x right, y down.
    """
    p = math.radians(pitch_deg)
    z = np.array([math.cos(p), 0.0, -math.sin(p)])
    x = np.array([0.0, -1.0, 0.0])
    t = np.eye(4)
    t[:3, :3] = np.column_stack([x, np.cross(z, x), z])
    t[:3, 3] = position_m
    return t


@dataclass
class Trajectory:
    """Timestamped poses: times (n,), positions (n, 3), quaternions (n, 4) x y z w."""

    times: np.ndarray
    positions: np.ndarray
    quaternions: np.ndarray

    def __len__(self) -> int:
        return len(self.times)

    @classmethod
    def from_matrices(cls, times, matrices) -> 'Trajectory':
        """From 4x4 transforms (pose of the moving frame in the reference frame)."""
        matrices = list(matrices)
        return cls(np.asarray(times, dtype=float),
                   np.array([m[:3, 3] for m in matrices]).reshape(-1, 3),
                   np.array([quaternion_from_matrix(m[:3, :3]) for m in matrices]).reshape(-1, 4))

    def matrices(self) -> list[np.ndarray]:
        """The poses as 4x4 transforms."""
        return [pose_matrix(p, q) for p, q in zip(self.positions, self.quaternions)]

    def path_length(self) -> float:
        """Length of the polyline through the positions."""
        return float(np.linalg.norm(np.diff(self.positions, axis=0), axis=1).sum())

    def write_tum(self, path: str | Path) -> None:
        """Write 'timestamp tx ty tz qx qy qz qw' lines (the TUM RGB-D trajectory format)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = np.column_stack([self.times, self.positions, self.quaternions])
        np.savetxt(path, rows, fmt=['%.6f'] + ['%.7f'] * 7, header='timestamp tx ty tz qx qy qz qw')

    @classmethod
    def read_tum(cls, path: str | Path) -> 'Trajectory':
        """Read a TUM trajectory file ('#' comments; 8 numbers a line)."""
        rows = np.loadtxt(path, comments='#', ndmin=2)
        if rows.size == 0:
            return cls(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 4)))
        if rows.shape[1] != 8:
            raise ValueError(f'{path}: TUM trajectory lines have 8 numbers, found {rows.shape[1]}')
        return cls(rows[:, 0], rows[:, 1:4], rows[:, 4:8])
