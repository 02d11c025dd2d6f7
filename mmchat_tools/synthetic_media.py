"""Synthetic camera media for the demo and the tests: a video whose frames can be told apart."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def numbered_frame(index: int, width: int, height: int) -> np.ndarray:
    """A BGR frame whose mean brightness encodes `index` (20 + 4*index, mod 200).

    It shows a moving disc and the number, so it is recognisable after lossy compression.
    """
    level = 20 + (4 * index) % 200
    frame = np.full((height, width, 3), level, dtype=np.uint8)
    centre = (int(width * (0.2 + 0.6 * ((index % 30) / 30))), height // 2)
    cv2.circle(frame, centre, max(4, height // 10), (level, 255 - level, 128), -1)
    cv2.putText(frame, f'{index:04d}', (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.4, height / 480), (255, 255, 255), 2)
    return frame


def frame_index_from_brightness(frame: np.ndarray) -> int:
    """Recover the index of a numbered_frame (exact for the first 50 frames, up to rounding)."""
    border = frame[: frame.shape[0] // 8, : frame.shape[1] // 8]   # free of the disc and the text
    return int(round((float(border.mean()) - 20) / 4))


def write_video(path: str | Path, n_frames: int, width: int = 640, height: int = 480,
                fps: float = 30.0) -> Path:
    """Write `n_frames` numbered frames as Motion-JPEG AVI (decodable by every OpenCV build)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}')
    try:
        for i in range(n_frames):
            writer.write(numbered_frame(i, width, height))
    finally:
        writer.release()
    return path


def write_image_folder(folder: str | Path, n_frames: int, width: int = 320,
                       height: int = 240) -> Path:
    """Write `n_frames` numbered frames as PNG files frame_0000.png, ..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_frames):
        cv2.imwrite(str(folder / f'frame_{i:04d}.png'), numbered_frame(i, width, height))
    return folder
