"""ORB-SLAM3 settings files generated from a camera calibration and ORB extractor parameters.

ROS-free.

ORB-SLAM3 (1.0 settings format) reads an OpenCV FileStorage YAML and ends the process when a value
is missing or has the wrong type (a real written as 500 instead of 500.0), so this module writes
every number with its type and checks the values first.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

from mmchat_ros.calibration import CameraCalibration


class SettingsError(ValueError):
    """A calibration or parameter ORB-SLAM3 cannot use."""


@dataclass(frozen=True)
class OrbParameters:
    """ORB extractor settings (ORB-SLAM3's ORBextractor.* keys)."""

    n_features: int = 1000
    scale_factor: float = 1.2
    n_levels: int = 8
    ini_fast_threshold: int = 20
    min_fast_threshold: int = 7

    def check(self) -> None:
        """Raise SettingsError for values ORB-SLAM3 would misbehave with."""
        if not 100 <= self.n_features <= 20000:
            raise SettingsError(f'orb.n_features must be 100..20000, got {self.n_features}')
        if not (math.isfinite(self.scale_factor) and 1.0 < self.scale_factor <= 2.0):
            raise SettingsError(f'orb.scale_factor must be in (1, 2], got {self.scale_factor}')
        if not 1 <= self.n_levels <= 16:
            raise SettingsError(f'orb.n_levels must be 1..16, got {self.n_levels}')
        if not 1 <= self.min_fast_threshold <= self.ini_fast_threshold <= 255:
            raise SettingsError('orb FAST thresholds must satisfy 1 <= min <= ini <= 255, got '
                                f'min {self.min_fast_threshold}, ini {self.ini_fast_threshold}')


def _camera_lines(calibration: CameraCalibration) -> list[str]:
    k, d = calibration.k, list(calibration.d)
    if calibration.distortion_model == 'equidistant':
        if len(d) != 4:
            raise SettingsError(f'equidistant distortion needs 4 coefficients, got {len(d)}')
        names, kind = ('k1', 'k2', 'k3', 'k4'), 'KannalaBrandt8'
    elif calibration.distortion_model in ('plumb_bob', 'rational_polynomial'):
        d = (d + [0.0] * 5)[:max(5, len(d))]
        if any(abs(v) > 0 for v in d[5:]):
            raise SettingsError('ORB-SLAM3 pinhole cameras take k1 k2 p1 p2 k3 only; the rational '
                                'polynomial terms k4-k6 of this calibration are not zero')
        names, kind = ('k1', 'k2', 'p1', 'p2', 'k3'), 'PinHole'
    else:
        raise SettingsError(f"distortion model '{calibration.distortion_model}' is not supported "
                            '(plumb_bob, rational_polynomial with k4-k6 = 0, or equidistant)')
    lines = [f'Camera.type: "{kind}"']
    lines += [f'Camera1.{n}: {_real(v)}'
              for n, v in zip(('fx', 'fy', 'cx', 'cy'), (k[0], k[4], k[2], k[5]))]
    lines += [f'Camera1.{n}: {_real(v)}' for n, v in zip(names, d)]
    return lines


def _real(value: float) -> str:
    text = repr(float(value))
    return text if ('.' in text or 'e' in text) else text + '.0'


def settings_text(calibration: CameraCalibration, fps: float, orb: OrbParameters,
                  rgb_order: bool = False) -> str:
    """The settings file for a monocular camera. `rgb_order`: images are RGB, not BGR."""
    orb.check()
    if not (math.isfinite(fps) and 1.0 <= fps <= 1000.0):
        raise SettingsError(f'camera fps must be 1..1000, got {fps}')
    lines = ['%YAML:1.0', 'File.version: "1.0"', '']
    lines += _camera_lines(calibration)
    lines += [f'Camera.width: {int(calibration.width)}',
              f'Camera.height: {int(calibration.height)}',
              f'Camera.fps: {int(round(fps))}', f'Camera.RGB: {int(rgb_order)}', '',
              f'ORBextractor.nFeatures: {int(orb.n_features)}',
              f'ORBextractor.scaleFactor: {_real(orb.scale_factor)}',
              f'ORBextractor.nLevels: {int(orb.n_levels)}',
              f'ORBextractor.iniThFAST: {int(orb.ini_fast_threshold)}',
              f'ORBextractor.minThFAST: {int(orb.min_fast_threshold)}', '',
              # read even without a viewer (MapDrawer)
              'Viewer.KeyFrameSize: 0.05', 'Viewer.KeyFrameLineWidth: 1.0',
              'Viewer.GraphLineWidth: 0.9',
              'Viewer.PointSize: 2.0', 'Viewer.CameraSize: 0.08', 'Viewer.CameraLineWidth: 3.0',
              'Viewer.ViewpointX: 0.0', 'Viewer.ViewpointY: -0.7', 'Viewer.ViewpointZ: -1.8',
              'Viewer.ViewpointF: 500.0', 'Viewer.imageViewScale: 1.0']
    return '\n'.join(lines) + '\n'


def write_settings(path: str | Path, calibration: CameraCalibration, fps: float,
                   orb: OrbParameters, rgb_order: bool = False) -> Path:
    """Write the settings file (see settings_text); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings_text(calibration, fps, orb, rgb_order))
    return path
