"""Liveness from dlib's 68 face landmarks over time: a blink, or a head turn on request.

Blink: eye openness = mean eyelid gap of both eyes / distance from the eyes' centre to the mouth's
centre. Moving, scaling or tilting a photo scales both alike, so its openness stays flat; a blink
is a dip of both eyes below `closed_ratio` x the open baseline that reopens within `max_closed_s`.

Head turn: a flat print or screen, however it is turned, moves its landmarks by one homography
(the image of a plane). A head is not flat: when it turns, the nose tip and the jaw line move
against the eyes and mouth corners, so the best homography from the frontal landmarks leaves a
residual (parallax). A turn passes when the nose moves in the asked direction by `min_shift`
(of the eye-corner span) AND that parallax exceeds `min_parallax` (of the inter-ocular distance)
over the rigid landmarks and `min_inner_parallax` over the inner face alone (nose, eye and mouth
corners), where the landmark model cannot invent depth from a turned photo's jaw line.
Neither check stops a video replay of the operator or a 3D mask (see the README).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import secrets

import numpy as np

LEFT_EYE, RIGHT_EYE = np.arange(36, 42), np.arange(42, 48)
NOSE_TIP, OUTER_CORNERS = 30, (36, 45)
#: landmarks that move with the head but not with expressions: jaw line, brows, nose, eye corners,
#: mouth corners (eyelids and lips left out)
RIGID = np.r_[0:17, 17:27, 27:36, 36, 39, 42, 45, 48, 54]
#: the inner face: nose, eye corners, mouth corners (no jaw line, where the landmark model guesses
#: a 3D contour even on a turned photo)
INNER = np.r_[27:36, 36, 39, 42, 45, 48, 54]


@dataclass(frozen=True)
class LivenessResult:
    """Whether liveness is shown yet, and why (or why not)."""

    passed: bool
    reason: str


def inter_ocular(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres in pixels."""
    return float(np.linalg.norm(landmarks[LEFT_EYE].mean(0) - landmarks[RIGHT_EYE].mean(0)))


def eye_openness(landmarks: np.ndarray) -> tuple[float, float]:
    """(left, right) eyelid gap over the eyes-to-mouth distance."""
    eyes = landmarks[36:48].mean(0)
    scale = max(float(np.linalg.norm(landmarks[48:68].mean(0) - eyes)), 1e-6)
    gaps = []
    for eye in (LEFT_EYE, RIGHT_EYE):
        p = landmarks[eye]
        gaps.append((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / 2 / scale)
    return float(gaps[0]), float(gaps[1])


def nose_position(landmarks: np.ndarray) -> float:
    """The nose tip's place between the outer eye corners along their line (0.5: frontal)."""
    a, b = landmarks[OUTER_CORNERS[0]], landmarks[OUTER_CORNERS[1]]
    axis = b - a
    return float(np.dot(landmarks[NOSE_TIP] - a, axis) / max(float(np.dot(axis, axis)), 1e-9))


def planar_parallax(reference: np.ndarray, current: np.ndarray,
                    points: np.ndarray = RIGID) -> float:
    """RMS residual of the best homography from `reference` to `current` landmarks (`points`).

    In inter-ocular distances of `current`: about landmark noise for a flat photo or screen.
    """
    import cv2

    src = reference[points].astype(np.float64)
    dst = current[points].astype(np.float64)
    homography, _ = cv2.findHomography(src, dst, 0)
    if homography is None:
        return float('inf')
    projected = cv2.perspectiveTransform(src[None], homography)[0]
    residual = np.sqrt(np.mean(np.sum((projected - dst) ** 2, axis=1)))
    return float(residual / max(inter_ocular(current), 1e-6))


class BlinkDetector:
    """Feed (time, landmarks) per frame; passes once a blink of both eyes is seen."""

    def __init__(self, closed_ratio: float = 0.6, reopen_ratio: float = 0.85,
                 max_closed_s: float = 0.5, baseline_s: float = 1.0, min_baseline_frames: int = 5,
                 min_inter_ocular_px: float = 30.0) -> None:
        self.closed_ratio, self.reopen_ratio = closed_ratio, reopen_ratio
        self.max_closed_s, self.baseline_s = max_closed_s, baseline_s
        self.min_baseline_frames = min_baseline_frames
        self.min_inter_ocular_px = min_inter_ocular_px
        self._open: deque[tuple[float, float, float]] = deque()
        self._closed_since: float | None = None
        self._passed = False

    def update(self, t: float, landmarks: np.ndarray) -> LivenessResult:
        """One frame's landmarks of the operator's face."""
        if self._passed:
            return LivenessResult(True, 'blink seen')
        if inter_ocular(landmarks) < self.min_inter_ocular_px:
            return LivenessResult(False, 'face too small for a blink check (come closer)')
        left, right = eye_openness(landmarks)
        while self._open and self._open[0][0] < t - self.baseline_s:
            self._open.popleft()
        if len(self._open) < self.min_baseline_frames:
            self._open.append((t, left, right))
            return LivenessResult(False, 'watching the open eyes')
        base_left = float(np.median([o[1] for o in self._open]))
        base_right = float(np.median([o[2] for o in self._open]))
        closed = left < self.closed_ratio * base_left and right < self.closed_ratio * base_right
        reopened = left > self.reopen_ratio * base_left and right > self.reopen_ratio * base_right
        if self._closed_since is None:
            if closed:
                self._closed_since = t
            else:
                self._open.append((t, left, right))
            return LivenessResult(False, 'waiting for a blink')
        if reopened:
            self._passed = t - self._closed_since <= self.max_closed_s
            self._closed_since = None
            return LivenessResult(self._passed, 'blink seen' if self._passed
                                  else 'eyes closed too long for a blink')
        return LivenessResult(False, 'eyes closed')


class HeadTurnChallenge:
    """Ask for a turn to the image's left or right (random unless given); feed frames."""

    def __init__(self, direction: str | None = None, min_shift: float = 0.08,
                 min_parallax: float = 0.10, min_inner_parallax: float = 0.05,
                 reference_frames: int = 3,
                 min_inter_ocular_px: float = 30.0) -> None:
        self.direction = direction or secrets.choice(('left', 'right'))
        if self.direction not in ('left', 'right'):
            raise ValueError("direction is 'left' or 'right'")
        self.min_shift, self.min_parallax = min_shift, min_parallax
        self.min_inner_parallax = min_inner_parallax
        self.reference_frames, self.min_inter_ocular_px = reference_frames, min_inter_ocular_px
        self._reference: list[np.ndarray] = []
        self._passed = False

    @property
    def prompt(self) -> str:
        """What to ask the operator (in image terms: the camera's view, not mirrored)."""
        return f'Look at the camera, then turn your head slowly to the image {self.direction}'

    def update(self, landmarks: np.ndarray) -> LivenessResult:
        """One frame's landmarks of the operator's face."""
        if self._passed:
            return LivenessResult(True, f'head turned {self.direction}')
        if inter_ocular(landmarks) < self.min_inter_ocular_px:
            return LivenessResult(False, 'face too small for a turn check (come closer)')
        if len(self._reference) < self.reference_frames:
            if abs(nose_position(landmarks) - 0.5) > self.min_shift:
                return LivenessResult(False, 'face the camera first')
            self._reference.append(np.asarray(landmarks, np.float64))
            return LivenessResult(False, 'frontal view recorded' if len(self._reference) ==
                                  self.reference_frames else 'recording the frontal view')
        reference = np.mean(self._reference, axis=0)
        shift = nose_position(landmarks) - nose_position(reference)
        if (shift if self.direction == 'right' else -shift) < self.min_shift:
            return LivenessResult(False, f'turn to the {self.direction}')
        parallax = planar_parallax(reference, landmarks)
        inner = planar_parallax(reference, landmarks, INNER)
        if parallax < self.min_parallax or inner < self.min_inner_parallax:
            return LivenessResult(False, f'turned without depth (parallax {parallax:.3f}, inner '
                                  f'{inner:.3f}): a flat photo or screen?')
        self._passed = True
        return LivenessResult(True, f'head turned {self.direction} (parallax {parallax:.3f}, '
                              f'inner {inner:.3f})')
