"""YOLO inference on one image, with the backend chosen by the model file (ROS-free).

    .pt      PyTorch (CPU, or CUDA with device cuda:0)
    .onnx    ONNX Runtime on the CPU: fp32, or int8 QDQ from `mmchat build-engine`
    .engine  TensorRT (a Jetson or any NVIDIA GPU; built on that machine by `mmchat build-engine`)

All three go through Ultralytics, so any Ultralytics detection weights or export works too. Nothing
is downloaded: Ultralytics runs offline (no auto-install, no hub or font downloads). Problems with
the model file or this machine raise ModelError with a message that says what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
import importlib.util
import os
from pathlib import Path
import sys
from types import ModuleType
from typing import Sequence

import numpy as np

SUPPORTED_SUFFIXES = ('.pt', '.onnx', '.engine')
MIN_IMAGE_SIDE_PX = 16


class ModelError(RuntimeError):
    """A model that cannot be used here: missing, corrupt, unsupported format or backend."""


@dataclass(frozen=True)
class Box:
    """One detection: pixel box (x1, y1, x2, y2), confidence and class."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    class_id: int

    @property
    def xyxy(self) -> np.ndarray:
        """The box as an array [x1, y1, x2, y2]."""
        return np.array([self.x1, self.y1, self.x2, self.y2])


def hide_triton() -> None:
    """Keep PyTorch from importing triton (call before the first torch import).

    MuJoCo's EGL rendering loads Mesa's LLVM; importing triton (which bundles another LLVM) after
    that crashes the process, and torch imports triton as soon as torchvision loads. Inference never
    needs triton (torch.compile's GPU code generator), so it is hidden unless already imported.
    """
    sys.modules.setdefault('triton', None)


def ultralytics() -> ModuleType:
    """Import Ultralytics in offline mode: no package auto-install, no downloads, no telemetry."""
    hide_triton()
    os.environ.setdefault('YOLO_OFFLINE', '1')
    os.environ.setdefault('YOLO_AUTOINSTALL', 'false')
    os.environ.setdefault('YOLO_VERBOSE', 'false')
    import ultralytics as module
    return module


def backend_name(model_path: str | Path) -> str:
    """'pytorch', 'onnxruntime' or 'tensorrt' for a model file; ModelError for anything else."""
    suffix = Path(model_path).suffix.lower()
    names = {'.pt': 'pytorch', '.onnx': 'onnxruntime', '.engine': 'tensorrt'}
    if suffix not in names:
        raise ModelError(f"model '{model_path}': unsupported format '{suffix or '(none)'}' "
                         f"(use one of {', '.join(SUPPORTED_SUFFIXES)})")
    return names[suffix]


def tensorrt_problem() -> str | None:
    """Why TensorRT cannot run here, or None when it can (tensorrt importable and a CUDA GPU)."""
    if importlib.util.find_spec('tensorrt') is None:
        return ('the tensorrt Python package is not importable (on a Jetson it comes with JetPack: '
                'python3-libnvinfer); build and use a .engine on the machine that runs it')
    hide_triton()
    import torch
    if not torch.cuda.is_available():
        return 'no CUDA GPU is visible to PyTorch (TensorRT engines run on NVIDIA GPUs only)'
    return None


def check_model_file(model_path: str | Path) -> str:
    """The backend for `model_path` after checking the file exists and this machine can run it."""
    path = Path(model_path)
    backend = backend_name(path)
    if not path.is_file():
        raise ModelError(f"model file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise ModelError(f"model file '{path}' is empty")
    if backend == 'tensorrt':
        problem = tensorrt_problem()
        if problem:
            raise ModelError(f"cannot run TensorRT engine '{path}': {problem}")
    return backend


class YoloDetector:
    """A loaded YOLO detection model: `detect(bgr)` returns boxes in the image's pixels."""

    def __init__(self, model_path: str | Path, imgsz: int = 320, conf: float = 0.25,
                 iou: float = 0.5, classes: Sequence[int] | None = None,
                 device: str = 'cpu') -> None:
        self.path = Path(model_path)
        self.backend = check_model_file(self.path)
        self.imgsz, self.conf, self.iou, self.device = int(imgsz), float(conf), float(iou), device
        self.classes = list(classes) if classes else None
        # preprocess / inference / postprocess of the last image
        self.last_speed_ms: dict[str, float] = {}
        yolo = ultralytics().YOLO
        try:
            self._model = yolo(str(self.path), task='detect')
            # The first prediction builds the predictor and runs the backend once: a corrupt or
            # incompatible file fails here, during configuration, and not on the first camera frame.
            self._predict(np.zeros((self.imgsz, self.imgsz, 3), np.uint8))
        except ModelError:
            raise
        except Exception as exc:  # Ultralytics, torch and the runtimes raise many types
            raise ModelError(f"cannot load model '{self.path}' ({self.backend}): "
                             f'{type(exc).__name__}: {exc}') from exc
        self.names: dict[int, str] = {int(k): str(v) for k, v in self._model.names.items()}
        if self._fixed_input_size() not in (None, self.imgsz):
            raise ModelError(f"model '{self.path}' takes {self._fixed_input_size()} px inputs, "
                             f'imgsz is {self.imgsz}: set imgsz to match, or export the model for '
                             'this size')

    def _fixed_input_size(self) -> int | None:
        if self.backend == 'pytorch':
            return None
        size = self._model.predictor.model.metadata.get('imgsz') if self._model.predictor else None
        dynamic = getattr(self._model.predictor.model.backend, 'dynamic', True)
        return None if dynamic or not size else int(max(size))

    def _predict(self, bgr: np.ndarray):
        return self._model.predict(bgr, imgsz=self.imgsz, conf=self.conf, iou=self.iou,
                                   classes=self.classes, device=self.device, verbose=False,
                                   save=False)[0]

    def class_ids(self, names_or_ids: Sequence[str]) -> list[int]:
        """Class ids of class names or numeric strings; ModelError for unknown ones."""
        by_name = {name: i for i, name in self.names.items()}
        ids = []
        for item in names_or_ids:
            item = str(item).strip()
            if item.isdigit() and int(item) in self.names:
                ids.append(int(item))
            elif item in by_name:
                ids.append(by_name[item])
            else:
                raise ModelError(f"class '{item}' is not one of the model's classes "
                                 f"({', '.join(self.names.values())})")
        return ids

    def detect(self, bgr: np.ndarray) -> list[Box]:
        """Detections in a BGR uint8 image; ValueError for an image too small to detect in."""
        if bgr.ndim != 3 or bgr.shape[2] != 3 or min(bgr.shape[:2]) < MIN_IMAGE_SIDE_PX:
            raise ValueError(f'image of shape {bgr.shape} is not a BGR image of at least '
                             f'{MIN_IMAGE_SIDE_PX}x{MIN_IMAGE_SIDE_PX} pixels')
        prediction = self._predict(np.ascontiguousarray(bgr))
        self.last_speed_ms = dict(prediction.speed)
        result = prediction.boxes
        xyxy = result.xyxy.cpu().numpy()
        scores = result.conf.cpu().numpy()
        classes = result.cls.cpu().numpy().astype(int)
        return [Box(*map(float, b), float(s), int(c)) for b, s, c in zip(xyxy, scores, classes)]
