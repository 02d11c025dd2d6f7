"""Rotations and frame conventions, ROS-free: quaternions, yaw, Euler angles, ENU/FLU <-> NED/FRD.

Quaternions are in ROS order (x, y, z, w) unless a name says otherwise (MuJoCo uses w, x, y, z).
REP-103: the world frame is ENU (x east, y north, z up), the body frame FLU (x forward, y left,
z up); yaw is measured counter-clockwise from +x seen from above. MAVLink autopilots use NED
(x north, y east, z down) and FRD bodies; the conversions live here and nowhere else.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

def rotation_matrix(q_xyzw) -> np.ndarray:
    """The 3x3 rotation matrix of a unit quaternion (body -> world for a body orientation)."""
    x, y, z, w = q_xyzw
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def quaternion_multiply(a, b) -> np.ndarray:
    """Hamilton product a * b."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz])


def quaternion_from_rotation_vector(rotation_vector) -> np.ndarray:
    """The quaternion of a rotation by |v| radians about v."""
    v = np.asarray(rotation_vector, dtype=float)
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    return np.concatenate([v / angle * math.sin(angle / 2), [math.cos(angle / 2)]])


def yaw_of(q_xyzw) -> float:
    """Heading (rotation about z, REP-103: counter-clockwise positive) of an orientation."""
    x, y, z, w = q_xyzw
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def quaternion_from_matrix(r: np.ndarray) -> np.ndarray:
    """The unit quaternion (x, y, z, w), w >= 0, of a rotation matrix."""
    m = np.asarray(r, dtype=float)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q

def quaternion_wxyz(q_xyzw: Sequence[float]) -> np.ndarray:
    """A ROS-order quaternion in MuJoCo's order (w, x, y, z)."""
    x, y, z, w = q_xyzw
    return np.array([w, x, y, z], dtype=float)


def quaternion_xyzw(q_wxyz: Sequence[float]) -> np.ndarray:
    """A MuJoCo-order quaternion (w, x, y, z) in ROS order (x, y, z, w)."""
    w, x, y, z = q_wxyz
    return np.array([x, y, z, w], dtype=float)


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
