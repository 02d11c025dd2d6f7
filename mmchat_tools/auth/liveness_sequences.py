"""Frame sequences for liveness benchmarks and tests.

Attacks are images: a real photo shown as a flat print or screen, static, slowly moved and scaled,
or turned in 3D (the photo plane rotated about its vertical or horizontal axis and seen through a
pinhole camera: one homography per frame), rendered into 640x480 frames for the real detector and
landmark model. Live sequences are landmarks: the 68 landmarks of a real frontal photo lifted to 3D
with a generic face depth profile, then blinking (eyelids closing for 0.1 s) or turning the head
about a vertical axis behind the face, projected through the same camera, with landmark noise.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

FRAME_SIZE = (640, 480)
FPS = 30.0


def _depth_profile() -> np.ndarray:
    """Depth (towards the camera) of each of the 68 landmarks in inter-ocular distances."""
    depth = np.zeros(68)
    jaw = np.abs(np.arange(17) - 8) / 8.0                     # 0 at the chin, 1 at the ears
    depth[0:17] = 0.15 - 0.85 * jaw ** 1.5
    depth[17:27] = 0.05                                        # brows
    depth[27:31] = [0.12, 0.22, 0.32, 0.45]                    # nose bridge to tip
    depth[31:36] = [0.18, 0.24, 0.30, 0.24, 0.18]              # nostrils
    depth[48:68] = 0.15                                        # mouth
    return depth


def lift_to_3d(landmarks: np.ndarray) -> np.ndarray:
    """(68, 3) points: image landmarks centred on the eyes, in inter-ocular units, with depth."""
    centre = landmarks[36:48].mean(0)
    iod = np.linalg.norm(landmarks[36:42].mean(0) - landmarks[42:48].mean(0))
    xy = (landmarks - centre) / iod
    return np.column_stack([xy, _depth_profile()])


def project(points: np.ndarray, yaw_deg: float, distance: float = 8.0,
            pixels_per_unit: float = 60.0) -> np.ndarray:
    """Pinhole image of 3D face points turned by `yaw_deg`, centred in a 640x480 frame.

    The vertical axis of the turn is 1 unit behind the eyes, the camera `distance` units in front.
    """
    yaw = np.radians(yaw_deg)
    rotation = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0],
                         [-np.sin(yaw), 0, np.cos(yaw)]])
    pivot = np.array([0.0, 0.0, -1.0])
    turned = (points - pivot) @ rotation.T + pivot
    depth = distance - turned[:, 2]
    scale = pixels_per_unit * distance / depth
    return np.column_stack([FRAME_SIZE[0] / 2 + turned[:, 0] * scale,
                            FRAME_SIZE[1] / 2 + turned[:, 1] * scale])


def _closed_eyes(points: np.ndarray, openness: float) -> np.ndarray:
    closed = points.copy()
    for eye in (np.arange(36, 42), np.arange(42, 48)):
        middle = closed[eye][:, 1][[0, 3]].mean()
        for index in eye[[1, 2, 4, 5]]:
            closed[index, 1] = middle + (closed[index, 1] - middle) * openness
    return closed


def live_blink(landmarks: np.ndarray, seed: int = 0, noise: float = 0.012) -> Iterator[
        tuple[float, np.ndarray]]:
    """(time, landmarks) of 1.5 s of a face at rest that blinks once (eyelids shut for 0.1 s)."""
    rng = np.random.default_rng(seed)
    face = lift_to_3d(landmarks)
    frames = int(1.5 * FPS)
    for frame in range(frames):
        shut = 30 <= frame < 33
        points = _closed_eyes(face, 0.15) if shut else face
        image = project(points, yaw_deg=rng.normal(0, 1.0))
        yield frame / FPS, image + rng.normal(0, noise * 60.0, image.shape)


def live_turn(landmarks: np.ndarray, direction: str, seed: int = 0, max_yaw_deg: float = 30.0,
              noise: float = 0.012) -> Iterator[np.ndarray]:
    """Landmarks of a frontal face held for 0.3 s, then turning to the image `direction` in 1 s."""
    rng = np.random.default_rng(seed)
    face = lift_to_3d(landmarks)
    sign = 1.0 if direction == 'right' else -1.0
    for frame in range(int(1.3 * FPS)):
        yaw = sign * max_yaw_deg * float(np.clip((frame - 9) / 30.0, 0.0, 1.0))
        image = project(face, yaw)
        yield image + rng.normal(0, noise * 60.0, image.shape)


def plane_homography(size: tuple[int, int], yaw_deg: float, pitch_deg: float, scale: float,
                     shift: tuple[float, float]) -> np.ndarray:
    """Homography placing a photo of `size` (w, h) as a plane turned by yaw and pitch.

    Seen by a camera with a focal length of one frame width, centred in the frame, shifted and
    scaled.
    """
    width, height = size
    focal = float(FRAME_SIZE[0])
    fit = scale * min(FRAME_SIZE[0] * 0.6 / width, FRAME_SIZE[1] * 0.8 / height)
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)],
                   [0, np.sin(pitch), np.cos(pitch)]])
    rotation = ry @ rx
    camera = np.array([[focal, 0, FRAME_SIZE[0] / 2 + shift[0]],
                       [0, focal, FRAME_SIZE[1] / 2 + shift[1]], [0, 0, 1]])
    centre = np.array([[fit, 0, -fit * width / 2], [0, fit, -fit * height / 2], [0, 0, 1]])
    plane = np.column_stack([rotation[:, 0], rotation[:, 1], [0, 0, focal]])
    return camera @ plane @ centre


#: name -> (yaw, pitch, scale, dx, dy) as functions of progress 0..1
PHOTO_MOTIONS = {
    'static': lambda p: (0.0, 0.0, 1.0, 0.0, 0.0),
    'moved_and_scaled': lambda p: (0.0, 0.0, 0.8 + 0.4 * p, 60 * np.sin(3 * p), 30 * p),
    'turned_yaw': lambda p: (45.0 * np.sin(2 * np.pi * p), 0.0, 1.0, 0.0, 0.0),
    'tilted_pitch': lambda p: (0.0, 35.0 * np.sin(2 * np.pi * p), 1.0, 0.0, 0.0),
}


def photo_attack(photo: np.ndarray, motion: str, frames: int = 45) -> Iterator[
        tuple[float, np.ndarray]]:
    """(time, RGB frame) of a photo shown as a flat print or screen moving as `motion`."""
    import cv2

    height, width = photo.shape[:2]
    for frame in range(frames):
        yaw, pitch, scale, dx, dy = PHOTO_MOTIONS[motion](frame / max(frames - 1, 1))
        homography = plane_homography((width, height), yaw, pitch, scale, (dx, dy))
        image = cv2.warpPerspective(photo, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR,
                                    borderValue=(90, 90, 90))
        yield frame / FPS, image
