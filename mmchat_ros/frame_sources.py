"""Where camera frames come from: a V4L2 device, a video file, an image folder or a test pattern.

ROS-free. Every source returns BGR uint8 frames of one fixed size, or None when a frame could not be
had this time (the reason is counted in `problems`); opening a source that cannot work raises
SourceError with a message a user can act on.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.ppm', '.pgm')


class SourceError(RuntimeError):
    """A frame source that cannot be opened."""


@dataclass
class FrameSource:
    """Base class: subclasses implement `_grab()`; `read()` adds size checks and counting."""

    width: int
    height: int
    frames_read: int = 0
    problems: Counter = field(default_factory=Counter)
    exhausted: bool = False

    def read(self) -> np.ndarray | None:
        """The next frame (H, W, 3) BGR uint8 at the configured size, or None (see `problems`)."""
        if self.exhausted:
            return None
        frame = self._grab()
        if frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.shape[:2] != (self.height, self.width):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self.frames_read += 1
        return frame

    def close(self) -> None:
        """Release the device or file."""

    def _grab(self) -> np.ndarray | None:
        raise NotImplementedError


@dataclass
class TestPatternSource(FrameSource):
    """Moving colour bars with a frame counter: needs no hardware, changes every frame."""

    def _grab(self) -> np.ndarray:
        x = (np.arange(self.width) + 4 * self.frames_read) % self.width
        bars = np.array([[255, 255, 255], [0, 255, 255], [255, 255, 0], [0, 255, 0],
                         [255, 0, 255], [0, 0, 255], [255, 0, 0], [0, 0, 0]], dtype=np.uint8)
        row = bars[(x * len(bars)) // self.width]
        frame = np.repeat(row[np.newaxis], self.height, axis=0)
        cv2.putText(frame, f'{self.frames_read:06d}', (10, self.height - 12),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.8, (128, 128, 128), 2)
        return frame


class VideoCaptureSource(FrameSource):
    """A V4L2 device or a video file through OpenCV."""

    def __init__(self, width: int, height: int, capture: cv2.VideoCapture, is_file: bool,
                 loop: bool = False) -> None:
        super().__init__(width, height)
        self._capture = capture
        self._is_file = is_file
        self._loop = loop

    @classmethod
    def open_device(cls, device: str, width: int, height: int, fps: float) -> 'VideoCaptureSource':
        """Open a V4L2 device by path (/dev/video0) or index ("0")."""
        target: int | str = int(device) if device.isdigit() else device
        if isinstance(target, str) and not Path(target).exists():
            raise SourceError(f'camera device {device} does not exist')
        capture = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if not capture.isOpened():
            raise SourceError(f'cannot open camera device {device} '
                              '(busy, or not a V4L2 capture device)')
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        capture.set(cv2.CAP_PROP_FPS, fps)
        return cls(width, height, capture, is_file=False)

    @classmethod
    def open_file(cls, path: str, width: int, height: int, loop: bool) -> 'VideoCaptureSource':
        """Open a video file."""
        if not Path(path).is_file():
            raise SourceError(f'video file {path} does not exist')
        capture = cv2.VideoCapture(path)
        if not capture.isOpened() or capture.get(cv2.CAP_PROP_FRAME_COUNT) == 0:
            raise SourceError(f'cannot decode video file {path}')
        return cls(width, height, capture, is_file=True, loop=loop)

    def _grab(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        if ok:
            return frame
        if not self._is_file:
            self.problems['no frame from device'] += 1
            return None
        if self._loop and self.frames_read > 0:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
            if ok:
                return frame
        self.exhausted = True
        return None

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource(FrameSource):
    """The images of a folder in name order.

    Unreadable files and images whose size differs from the first image are skipped and counted,
    never resized silently.
    """

    def __init__(self, folder: str, width: int, height: int, loop: bool) -> None:
        super().__init__(width, height)
        root = Path(folder)
        if not root.is_dir():
            raise SourceError(f'image folder {folder} does not exist')
        self._paths = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._paths:
            raise SourceError(
                f'image folder {folder} holds no images ({", ".join(IMAGE_SUFFIXES)})')
        self._loop = loop
        self._next = 0
        self._first_size: tuple[int, int] | None = None

    def _grab(self) -> np.ndarray | None:
        if self._next >= len(self._paths):
            if not self._loop:
                self.exhausted = True
                return None
            self._next = 0
        path = self._paths[self._next]
        self._next += 1
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            self.problems[f'unreadable image {path.name}'] += 1
            return None
        if self._first_size is None:
            self._first_size = frame.shape[:2]
        elif frame.shape[:2] != self._first_size:
            self.problems[f'image {path.name} is {frame.shape[1]}x{frame.shape[0]}, folder size is '
                          f'{self._first_size[1]}x{self._first_size[0]}'] += 1
            return None
        return frame


SOURCE_KINDS = ('test_pattern', 'v4l2', 'video', 'folder')


def open_source(kind: str, *, width: int, height: int, fps: float = 30.0,
                device: str = '/dev/video0', path: str = '', loop: bool = True) -> FrameSource:
    """Open a frame source by kind; raises SourceError with a clear reason when it cannot work."""
    if width <= 0 or height <= 0:
        raise SourceError(f'width and height must be positive, got {width}x{height}')
    if kind == 'test_pattern':
        return TestPatternSource(width, height)
    if kind == 'v4l2':
        return VideoCaptureSource.open_device(device, width, height, fps)
    if kind == 'video':
        return VideoCaptureSource.open_file(path, width, height, loop)
    if kind == 'folder':
        return ImageFolderSource(path, width, height, loop)
    raise SourceError(f"unknown source '{kind}' (one of: {', '.join(SOURCE_KINDS)})")
