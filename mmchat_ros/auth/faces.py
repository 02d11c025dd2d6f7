"""Faces in an image: detection, 68 landmarks and 128-d embeddings with dlib's models.

The weights are face_recognition's, shipped in face-recognition-models.

Detection is dlib's HOG detector; when it finds nothing, the image is padded on every side and
searched again (a face that fills the frame, as in close-ups, lacks the margin HOG's window needs),
then dlib's CNN detector is tried on the padded image. Embeddings are computed on the 5-point
aligned face chip, as face_recognition.face_encodings(model='small') does; the Euclidean distance
of two embeddings is the match score (smaller is more alike).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: (left, top, right, bottom) in pixels of the analysed image
Box = tuple[int, int, int, int]
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.pgm', '.ppm', '.bmp', '.tif', '.tiff', '.webp')


@dataclass(frozen=True)
class FaceModelPaths:
    """The dlib model files; default() takes them from the face-recognition-models package."""

    shape_5: Path
    shape_68: Path
    recognition: Path
    cnn_detector: Path | None = None

    @classmethod
    def default(cls) -> FaceModelPaths:
        """The files inside face_recognition_models."""
        import face_recognition_models as models

        return cls(Path(models.pose_predictor_five_point_model_location()),
                   Path(models.pose_predictor_model_location()),
                   Path(models.face_recognition_model_location()),
                   Path(models.cnn_face_detector_model_location()))


@dataclass
class Face:
    """One detected face: its box, its 68 landmarks ((68, 2) x, y) and its embedding."""

    box: Box
    landmarks: np.ndarray | None = None
    embedding: np.ndarray | None = field(default=None, repr=False)

    @property
    def width(self) -> int:
        """Box width in pixels."""
        return self.box[2] - self.box[0]


class FaceAnalyzer:
    """Detects, aligns and embeds faces in RGB (or grey) uint8 images."""

    def __init__(self, paths: FaceModelPaths | None = None, upsample: int = 1,
                 pad_fraction: float = 0.5, retry_side: int = 640, cnn_fallback: bool = True,
                 jitters: int = 1) -> None:
        import dlib

        paths = paths or FaceModelPaths.default()
        for path in (paths.shape_5, paths.shape_68, paths.recognition):
            if not Path(path).is_file():
                raise FileNotFoundError(f'face model file {path} not found')
        self._hog = dlib.get_frontal_face_detector()
        self._cnn = (dlib.cnn_face_detection_model_v1(str(paths.cnn_detector))
                     if cnn_fallback and paths.cnn_detector else None)
        self._shape_5 = dlib.shape_predictor(str(paths.shape_5))
        self._shape_68 = dlib.shape_predictor(str(paths.shape_68))
        self._encoder = dlib.face_recognition_model_v1(str(paths.recognition))
        self._dlib = dlib
        self.upsample, self.pad_fraction, self.jitters = upsample, pad_fraction, jitters
        self.retry_side = retry_side

    def detect(self, image: np.ndarray) -> list[Box]:
        """Face boxes, largest first.

        HOG, then HOG on the padded image (at most `retry_side` pixels), then the CNN there. A
        box from the padded image may reach past the border.
        """
        image = as_rgb(image)
        boxes = [_box(r) for r in self._hog(image, self.upsample)]
        if not boxes and self.pad_fraction > 0:
            padded, offset = _pad(image, self.pad_fraction)
            scale = min(1.0, self.retry_side / max(padded.shape[:2]))
            if scale < 1.0:
                import cv2
                padded = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            found = [_box(r) for r in self._hog(padded, self.upsample)]
            if not found and self._cnn is not None:
                found = [_box(d.rect) for d in self._cnn(padded, self.upsample)]
            boxes = [tuple(int(round(v / scale - o)) for v, o in zip(b, offset * 2))
                     for b in found]
        return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 68 landmarks (x, y) of the face in `box`."""
        shape = self._shape_68(as_rgb(image), self._rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def embed(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The 128-d embedding of the face in `box` (5-point alignment)."""
        image = as_rgb(image)
        shape = self._shape_5(image, self._rect(box))
        return np.asarray(self._encoder.compute_face_descriptor(image, shape, self.jitters),
                          dtype=np.float32)

    def analyse(self, image: np.ndarray, landmarks: bool = False) -> list[Face]:
        """Every face with its embedding (and landmarks when asked), largest first."""
        image = as_rgb(image)
        return [Face(box, self.landmarks(image, box) if landmarks else None, self.embed(image, box))
                for box in self.detect(image)]

    def _rect(self, box: Box):
        return self._dlib.rectangle(*[int(v) for v in box])


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A contiguous uint8 RGB image from RGB, RGBA or grey input."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {array.dtype}')
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    elif array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f'expected an H x W (x 3) image, got shape {array.shape}')
    return np.ascontiguousarray(array[:, :, :3])


def load_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 (PGM, JPEG, PNG, ...); ValueError if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert('RGB'))
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f'cannot read image {path}: {exc}') from exc


def image_files(folder: str | Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name (hidden files skipped)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith('.')
                  and p.suffix.lower() in IMAGE_SUFFIXES)


def _pad(image: np.ndarray, fraction: float) -> tuple[np.ndarray, tuple[int, int]]:
    height, width = image.shape[:2]
    dy, dx = int(height * fraction), int(width * fraction)
    padded = np.pad(image, ((dy, dy), (dx, dx), (0, 0)), mode='edge')
    return np.ascontiguousarray(padded), (dx, dy)


def _box(rect) -> Box:
    return int(rect.left()), int(rect.top()), int(rect.right()), int(rect.bottom())
