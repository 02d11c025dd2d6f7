"""Camera calibration in the `camera_calibration` YAML format (the file ROS camera drivers read)."""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from pathlib import Path

import yaml


class CalibrationError(ValueError):
    """A calibration file that is missing, unreadable or inconsistent."""


@dataclass
class CameraCalibration:
    """Pinhole intrinsics, distortion and projection of one camera (REP-104 / CameraInfo)."""

    width: int
    height: int
    k: list[float]                      # 3x3 row-major camera matrix
    d: list[float] = field(default_factory=lambda: [0.0] * 5)
    r: list[float] = field(default_factory=lambda: [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0])
    p: list[float] = field(default_factory=list)   # 3x4; derived from k when empty
    distortion_model: str = 'plumb_bob'
    camera_name: str = 'camera'

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise CalibrationError(f'image size must be positive, got {self.width}x{self.height}')
        _check_len('camera_matrix', self.k, 9)
        _check_len('rectification_matrix', self.r, 9)
        if not self.p:
            self.p = [self.k[0], 0.0, self.k[2], 0.0,
                      0.0, self.k[4], self.k[5], 0.0,
                      0.0, 0.0, 1.0, 0.0]
        _check_len('projection_matrix', self.p, 12)
        if not all(math.isfinite(v) for v in (*self.k, *self.d, *self.r, *self.p)):
            raise CalibrationError('calibration has non-finite values')
        if self.k[0] <= 0 or self.k[4] <= 0:
            raise CalibrationError(
                f'focal lengths must be positive, got fx={self.k[0]} fy={self.k[4]}')

    @classmethod
    def pinhole(cls, width: int, height: int, horizontal_fov_deg: float,
                camera_name: str = 'camera') -> 'CameraCalibration':
        """An ideal, distortion-free camera with square pixels and this horizontal field of view."""
        if not 0.0 < horizontal_fov_deg < 180.0:
            raise CalibrationError(
                f'horizontal_fov_deg must be in (0, 180), got {horizontal_fov_deg}')
        f = (width / 2.0) / math.tan(math.radians(horizontal_fov_deg) / 2.0)
        k = [f, 0.0, width / 2.0, 0.0, f, height / 2.0, 0.0, 0.0, 1.0]
        return cls(width=width, height=height, k=k, camera_name=camera_name)

    @classmethod
    def from_yaml(cls, path: str | Path) -> 'CameraCalibration':
        """Read a camera_calibration YAML file."""
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise CalibrationError(f'cannot read calibration file {path}: {exc.strerror}') from exc
        except yaml.YAMLError as exc:
            raise CalibrationError(f'calibration file {path} is not valid YAML: {exc}') from exc
        if not isinstance(doc, dict):
            raise CalibrationError(f'calibration file {path} does not hold a mapping')
        try:
            return cls(width=int(doc['image_width']), height=int(doc['image_height']),
                       k=_matrix(doc, 'camera_matrix'),
                       d=_matrix(doc, 'distortion_coefficients'),
                       r=_matrix(doc, 'rectification_matrix'),
                       p=_matrix(doc, 'projection_matrix'),
                       distortion_model=str(doc.get('distortion_model', 'plumb_bob')),
                       camera_name=str(doc.get('camera_name', 'camera')))
        except KeyError as exc:
            raise CalibrationError(f'calibration file {path} lacks {exc.args[0]}') from exc
        except (TypeError, ValueError) as exc:
            raise CalibrationError(f'calibration file {path}: {exc}') from exc

    def to_yaml(self, path: str | Path) -> None:
        """Write the calibration in the camera_calibration YAML format."""
        def mat(rows: int, cols: int, data: list[float]) -> dict:
            return {'rows': rows, 'cols': cols, 'data': [float(v) for v in data]}
        doc = {'image_width': self.width, 'image_height': self.height,
               'camera_name': self.camera_name,
               'camera_matrix': mat(3, 3, self.k),
               'distortion_model': self.distortion_model,
               'distortion_coefficients': mat(1, len(self.d), self.d),
               'rectification_matrix': mat(3, 3, self.r),
               'projection_matrix': mat(3, 4, self.p)}
        Path(path).write_text(yaml.safe_dump(doc, sort_keys=False))

    def scaled_to(self, width: int, height: int) -> 'CameraCalibration':
        """The same camera at another resolution (intrinsics scaled; distortion unchanged)."""
        sx, sy = width / self.width, height / self.height
        k = list(self.k)
        k[0], k[2], k[4], k[5] = k[0] * sx, k[2] * sx, k[4] * sy, k[5] * sy
        p = list(self.p)
        p[0], p[2], p[3], p[5], p[6] = p[0] * sx, p[2] * sx, p[3] * sx, p[5] * sy, p[6] * sy
        return CameraCalibration(width=width, height=height, k=k, d=list(self.d), r=list(self.r),
                                 p=p, distortion_model=self.distortion_model,
                                 camera_name=self.camera_name)


def _matrix(doc: dict, key: str) -> list[float]:
    entry = doc[key]
    data = [float(v) for v in entry['data']]
    rows, cols = int(entry.get('rows', 0)), int(entry.get('cols', 0))
    if rows and cols and rows * cols != len(data):
        raise CalibrationError(f'{key}: {rows}x{cols} does not match {len(data)} values')
    return data


def _check_len(name: str, values: list[float], n: int) -> None:
    if len(values) != n:
        raise CalibrationError(f'{name} needs {n} values, got {len(values)}')
