"""Rotations and frame conventions: quaternions (x, y, z, w), yaw, ENU/FLU <-> NED/FRD.

REP-103: the world frame is ENU (x east, y north, z up), the body frame FLU (x forward, y left,
z up); yaw is measured counter-clockwise from +x seen from above. MAVLink autopilots use NED
(x north, y east, z down) and FRD bodies; the conversions live here and nowhere else.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from mmchat_ros.geometry import quaternion_from_matrix, rotation_matrix, yaw_of  # noqa: F401  (re-exported)

#: Maps an NED vector to ENU and back (the matrix is its own inverse).
NED_TO_ENU = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
#: Maps an FRD body vector to FLU and back.
FRD_TO_FLU = np.diag([1.0, -1.0, -1.0])


def wrap_pi(angle: float) -> float:
    """`angle` wrapped to [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def quat_normalized(q: Sequence[float]) -> np.ndarray:
    """`q` scaled to unit length; ValueError for a zero or non-finite quaternion."""
    q = np.asarray(q, dtype=float)
    norm = float(np.linalg.norm(q))
    if not math.isfinite(norm) or norm < 1e-9:
        raise ValueError(f'not a rotation quaternion: {q.tolist()}')
    return q / norm


def quat_from_yaw(yaw: float) -> np.ndarray:
    """A rotation of `yaw` radians about +z."""
    return np.array([0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)])


def quat_from_euler(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rz(yaw) * Ry(pitch) * Rx(roll) as a quaternion."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return np.array([sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
                     cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy])


def rotation_vector(q: Sequence[float]) -> np.ndarray:
    """The axis * angle (radians, shortest way round) of unit quaternion `q`."""
    q = np.asarray(q, dtype=float)
    if q[3] < 0:
        q = -q
    sin_half = float(np.linalg.norm(q[:3]))
    if sin_half < 1e-12:
        return 2.0 * q[:3]
    angle = 2.0 * math.atan2(sin_half, q[3])
    return q[:3] * (angle / sin_half)


def quat_between(u: Sequence[float], v: Sequence[float]) -> np.ndarray:
    """The shortest rotation taking unit vector `u` onto unit vector `v`."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    dot = float(np.dot(u, v))
    if dot < -1.0 + 1e-9:                         # opposite: turn half way about any normal
        axis = np.cross(u, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(u, [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        return np.array([*axis, 0.0])
    return quat_normalized([*np.cross(u, v), 1.0 + dot])


def yaw_rotation(yaw: float) -> np.ndarray:
    """The 3x3 rotation about +z by `yaw` (heading frame -> world)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def ned_to_enu(v: Sequence[float]) -> np.ndarray:
    """A vector in NED as ENU (the same operation converts ENU to NED)."""
    return np.array([v[1], v[0], -v[2]], dtype=float)


enu_to_ned = ned_to_enu


def yaw_ned_from_enu(yaw_enu: float) -> float:
    """A REP-103 yaw (from east, counter-clockwise) as an NED heading (from north, clockwise)."""
    return wrap_pi(math.pi / 2.0 - yaw_enu)


yaw_enu_from_ned = yaw_ned_from_enu


def quat_enu_flu_from_ned_frd(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """The FLU->ENU attitude of a body whose FRD->NED attitude has these Euler angles (MAVLink)."""
    r_ned_frd = rotation_matrix(quat_from_euler(roll, pitch, yaw))
    return quaternion_from_matrix(NED_TO_ENU @ r_ned_frd @ FRD_TO_FLU)


def finite(*values: float | Sequence[float]) -> bool:
    """True when every number (or every element of every sequence) is finite."""
    for value in values:
        if not np.all(np.isfinite(np.asarray(value, dtype=float))):
            return False
    return True
