"""Procedural textures for the simulator's worlds, feature-rich so visual SLAM has corners to track.

ROS-free; deterministic for a seed. Each function returns PNG bytes for MuJoCo's asset dictionary.
"""
from __future__ import annotations

import cv2
import numpy as np


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode('.png', image)
    if not ok:
        raise RuntimeError('PNG encoding failed')
    return encoded.tobytes()


def posters(seed: int, size: int = 1024, shapes: int = 260) -> bytes:
    """A pale wall covered with random coloured rectangles, discs and lines."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), rng.integers(170, 220), dtype=np.uint8)
    for _ in range(shapes):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        kind = rng.integers(3)
        if kind == 0:
            w, h = (int(v) for v in rng.integers(8, 90, 2))
            cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
        elif kind == 1:
            cv2.circle(image, (x, y), int(rng.integers(5, 45)), colour, -1)
        else:
            x2, y2 = (int(v) for v in rng.integers(0, size, 2))
            cv2.line(image, (x, y), (x2, y2), colour, int(rng.integers(2, 7)))
    return _png(image)


def speckled_tiles(seed: int, size: int = 1024, tiles: int = 8) -> bytes:
    """Floor tiles of two greys with random dark and light speckles."""
    rng = np.random.default_rng(seed)
    cell = size // tiles
    yy, xx = np.mgrid[0:size, 0:size]
    image = np.where(((yy // cell) + (xx // cell)) % 2 == 0, 150, 105).astype(np.uint8)
    image = np.repeat(image[:, :, np.newaxis], 3, axis=2)
    image[:, :, 2] = np.clip(image[:, :, 2].astype(int) + 20, 0, 255)   # warm tint
    n = size * size // 180
    ys, xs = rng.integers(0, size, n), rng.integers(0, size, n)
    image[ys, xs] = rng.integers(0, 255, (n, 1))
    for _ in range(size // 6):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        cv2.circle(image, (x, y), int(rng.integers(2, 6)),
                   tuple(int(c) for c in rng.integers(0, 256, 3)), -1)
    return _png(image)


def grass(seed: int, size: int = 1024) -> bytes:
    """Mottled green ground with paths of bare earth and pebbles."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (size // 16, size // 16)).astype(np.float32)
    noise = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 1, (size, size)).astype(np.float32)
    field = 0.7 * noise + 0.3 * fine
    green = np.stack([40 + 15 * field, 110 + 35 * field, 50 + 15 * field], axis=2)
    image = np.clip(green, 0, 255).astype(np.uint8)
    for _ in range(size // 3):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        grey = int(rng.integers(90, 200))
        cv2.circle(image, (x, y), int(rng.integers(2, 7)), (grey, grey, grey + 10), -1)
    return _png(image)


TEXTURES = {'posters': posters, 'tiles': speckled_tiles, 'grass': grass}
