"""Image sequences on disk in the TUM RGB-D or EuRoC layout, with intrinsics and ground truth.

ROS-free.

TUM RGB-D:  rgb.txt ('timestamp filename' lines), groundtruth.txt (TUM trajectory, optional);
            intrinsics from camera.yaml (camera_calibration YAML, as the sequence generator writes)
            or given explicitly (TUM publishes them on its web page, not in the archive).
EuRoC MAV:  mav0/cam0/data.csv ('timestamp_ns,filename'), mav0/cam0/data/, mav0/cam0/sensor.yaml
            (pinhole, radial-tangential), mav0/state_groundtruth_estimate0/data.csv (optional).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from mmchat_ros.calibration import CalibrationError, CameraCalibration
from mmchat_ros.slam.poses import Trajectory


class DatasetError(ValueError):
    """A folder that is not a readable sequence."""


@dataclass
class Dataset:
    """Frames (time, image path) in time order, and what is known about them."""

    root: Path
    layout: str                                  # 'tum' or 'euroc'
    frames: list[tuple[float, Path]]
    calibration: CameraCalibration | None
    groundtruth: Trajectory | None
    body_groundtruth: Trajectory | None = None   # vehicle body poses (generated sequences)
    camera_pitch_deg: float | None = None        # camera mount (generated sequences)
    camera_position_m: tuple[float, float, float] | None = None

    @property
    def fps(self) -> float:
        """Frame rate from the median frame interval."""
        times = np.array([t for t, _ in self.frames])
        return float(1.0 / np.median(np.diff(times))) if len(times) > 1 else 0.0


def open_dataset(path: str | Path, calibration_file: str | Path | None = None) -> Dataset:
    """Read a TUM RGB-D or EuRoC folder; `calibration_file` overrides the folder's intrinsics."""
    root = Path(path)
    if (root / 'rgb.txt').is_file():
        dataset = _tum(root)
    elif (root / 'mav0' / 'cam0' / 'data.csv').is_file() or (root / 'cam0' / 'data.csv').is_file():
        dataset = _euroc(root / 'mav0' if (root / 'mav0').is_dir() else root)
    else:
        raise DatasetError(f'{root} is neither a TUM RGB-D folder (rgb.txt) '
                           'nor EuRoC (mav0/cam0/data.csv)')
    if calibration_file:
        try:
            dataset.calibration = CameraCalibration.from_yaml(calibration_file)
        except CalibrationError as exc:
            raise DatasetError(str(exc)) from exc
    if dataset.calibration is None:
        raise DatasetError(f'{root} has no intrinsics (camera.yaml): '
                           'pass a camera_calibration YAML file')
    if len(dataset.frames) < 2:
        raise DatasetError(f'{root} lists {len(dataset.frames)} frames; need at least 2')
    missing = [str(p) for _, p in dataset.frames[:1] + dataset.frames[-1:] if not p.is_file()]
    if missing:
        raise DatasetError(f'image files listed but missing: {", ".join(missing)}')
    return dataset


def _tum(root: Path) -> Dataset:
    frames = []
    for number, line in enumerate((root / 'rgb.txt').read_text().splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        parts = line.split()
        try:
            frames.append((float(parts[0]), root / parts[1]))
        except (ValueError, IndexError):
            raise DatasetError(
                f'{root / "rgb.txt"}:{number}: expected "timestamp filename"') from None
    calibration = None
    if (root / 'camera.yaml').is_file():
        try:
            calibration = CameraCalibration.from_yaml(root / 'camera.yaml')
        except CalibrationError as exc:
            raise DatasetError(str(exc)) from exc
    dataset = Dataset(root, 'tum', sorted(frames), calibration, _read_tum(root / 'groundtruth.txt'),
                      _read_tum(root / 'body_groundtruth.txt'))
    if (root / 'sequence.yaml').is_file():
        camera = (yaml.safe_load((root / 'sequence.yaml').read_text()) or {}).get('camera') or {}
        if 'pitch_deg' in camera:
            dataset.camera_pitch_deg = float(camera['pitch_deg'])
            dataset.camera_position_m = tuple(float(v) for v in camera.get('position_m', (0, 0, 0)))
    return dataset


def _read_tum(path: Path) -> Trajectory | None:
    if not path.is_file():
        return None
    try:
        return Trajectory.read_tum(path)
    except ValueError as exc:
        raise DatasetError(str(exc)) from exc


def _euroc(mav: Path) -> Dataset:
    camera = mav / 'cam0'
    frames = []
    for line in (camera / 'data.csv').read_text().splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        stamp, name = (v.strip() for v in line.split(',')[:2])
        frames.append((int(stamp) * 1e-9, camera / 'data' / name))
    calibration = (_euroc_calibration(camera / 'sensor.yaml')
                   if (camera / 'sensor.yaml').is_file() else None)
    truth_file = mav / 'state_groundtruth_estimate0' / 'data.csv'
    truth = None
    if truth_file.is_file():
        rows = np.loadtxt(truth_file, delimiter=',', comments='#', ndmin=2)
        # quaternions w x y z -> x y z w
        truth = Trajectory(rows[:, 0] * 1e-9, rows[:, 1:4], rows[:, [5, 6, 7, 4]])
    return Dataset(mav, 'euroc', sorted(frames), calibration, truth)


def _euroc_calibration(path: Path) -> CameraCalibration:
    text = '\n'.join(line for line in path.read_text().splitlines() if not line.startswith('%'))
    try:
        doc = yaml.safe_load(text)
        fu, fv, cu, cv = (float(v) for v in doc['intrinsics'])
        width, height = (int(v) for v in doc['resolution'])
        if doc.get('camera_model', 'pinhole') != 'pinhole':
            raise DatasetError(f"{path}: camera_model {doc['camera_model']} is not supported")
        model = {'radial-tangential': 'plumb_bob', 'equidistant': 'equidistant'}.get(
            doc.get('distortion_model', 'radial-tangential'))
        if model is None:
            raise DatasetError(
                f"{path}: distortion_model {doc['distortion_model']} is not supported")
        return CameraCalibration(width=width, height=height,
                                 k=[fu, 0.0, cu, 0.0, fv, cv, 0.0, 0.0, 1.0],
                                 d=[float(v) for v in doc.get('distortion_coefficients', [])],
                                 distortion_model=model, camera_name='cam0')
    except (yaml.YAMLError, KeyError, TypeError, ValueError, CalibrationError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError(f'{path} is not a EuRoC camera sensor.yaml: {exc}') from exc
