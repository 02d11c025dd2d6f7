"""Model file checks: a missing or corrupt file must give a clear error, never a crash later."""
from __future__ import annotations

from pathlib import Path


class ModelFileError(ValueError):
    """A model file that is missing, unreadable or not a model of the expected kind."""


def resolve(path: str | Path, base: Path) -> Path:
    """`path` itself when absolute, else relative to `base` (the package share directory)."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else base / path


def check_tflite(path: Path, outputs: int) -> None:
    """Raise ModelFileError unless `path` is a TensorFlow Lite model with `outputs` outputs.

    The model must parse and have `outputs` output tensors (MediaPipe's palm detector has 2, its
    hand landmark model 4).

    MediaPipe aborts the process on some truncated models instead of raising, so the file is
    verified first with OpenCV's TFLite importer (a flatbuffer verifier plus a full parse).
    """
    import cv2

    if not path.is_file():
        raise ModelFileError(f'model file {path} does not exist')
    try:
        with open(path, 'rb') as f:
            header = f.read(8)
    except OSError as exc:
        raise ModelFileError(f'model file {path} is not readable: {exc}') from exc
    if header[4:8] != b'TFL3':
        raise ModelFileError(f'model file {path} is not a TensorFlow Lite model')
    try:
        found = len(cv2.dnn.readNetFromTFLite(str(path)).getUnconnectedOutLayersNames())
    except cv2.error as exc:
        raise ModelFileError(f'model file {path} is corrupt: '
                             f'{str(exc).strip().splitlines()[-1]}') from exc
    if found != outputs:
        raise ModelFileError(f'model file {path} has {found} outputs, expected {outputs}: '
                             'a different model?')
