"""Generated fingertip paths.

Swipes left and right, which point_history.csv lacks, and perfectly still fingertips (a repeated
frame gives an all-zero path, which the CSV's `stop` rows never are).

A path has 16 points in image-normalised units relative to the first point, like the CSV's rows,
seen from the operator (a mirrored view): swipe_left moves towards -x. The hand moves with a
minimum-jerk profile over 4-10 frames, 0.25-0.6 image widths, with some vertical drift, an arc and
jitter; the swipe may start before or end after the window.
"""
from __future__ import annotations

import numpy as np

from mmchat_ros.gestures.features import PATH_LENGTH

SWIPES: dict[str, float] = {'swipe_left': -1.0, 'swipe_right': 1.0}


def _minimum_jerk(tau: np.ndarray) -> np.ndarray:
    tau = np.clip(tau, 0.0, 1.0)
    return 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5


def swipe(rng: np.random.Generator, label: str) -> np.ndarray:
    """One (16, 2) swipe path of `label` ('swipe_left' or 'swipe_right')."""
    frames = int(rng.integers(4, 11))
    start = float(rng.uniform(-2, PATH_LENGTH - frames + 1))
    distance = rng.uniform(0.25, 0.6)
    progress = _minimum_jerk((np.arange(PATH_LENGTH) - start) / frames)
    x = SWIPES[label] * distance * progress
    y = distance * (rng.uniform(-0.25, 0.25) * progress
                    + rng.uniform(-0.15, 0.15) * np.sin(np.pi * progress))
    path = np.stack([x, y], axis=1) + rng.normal(0, 0.003, (PATH_LENGTH, 2))
    return path - path[0]


def still(rng: np.random.Generator) -> np.ndarray:
    """One (16, 2) `stop` path: no motion, or jitter of up to 0.002 image widths (a fifth exact)."""
    sigma = 0.0 if rng.random() < 0.2 else rng.uniform(0.0, 0.002)
    path = rng.normal(0, sigma, (PATH_LENGTH, 2))
    return path - path[0]


def sample_paths(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` paths of each swipe and `per_class` // 3 still ones: (N, 16, 2) and labels."""
    rng = np.random.default_rng(seed)
    paths = [swipe(rng, label) for label in SWIPES for _ in range(per_class)]
    labels = [label for label in SWIPES for _ in range(per_class)]
    paths += [still(rng) for _ in range(per_class // 3)]
    labels += ['stop'] * (per_class // 3)
    return np.array(paths), np.array(labels)
