"""Run monocular SLAM on an image folder (TUM RGB-D or EuRoC layout) and write the trajectory (TUM).

    mmchat slam-offline SEQUENCE --out trajectory.txt [--calibration camera.yaml] [--metric]

Frames are fed at their own rate (`--rate 1`: real time, what ORB-SLAM3's mapping threads expect;
`--rate 0`: as fast as possible). The trajectory written is the camera (optical frame) in the SLAM
map of the largest map, up to scale, as ORB-SLAM3 gives it; with ground truth in the folder the ATE
after Sim(3) alignment is printed. For generated sequences `--metric` also recovers metric scale
from the body's altitude and attitude (mmchat_ros.slam.scale) and writes `<out>.metric.txt`.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import json
from pathlib import Path
import sys
import tempfile
import time
from typing import Iterable, Iterator

import numpy as np
import yaml

from mmchat_ros.slam.backend import TrackingState, open_backend
from mmchat_ros.slam.poses import Trajectory, optical_from_body
from mmchat_ros.slam.scale import ScaleEstimator, Similarity
from mmchat_ros.slam.session import SlamSession
from mmchat_ros.slam.settings import OrbParameters, SettingsError, write_settings
from mmchat_tools.slam.datasets import Dataset, DatasetError, open_dataset

HELP = 'run monocular SLAM on a TUM RGB-D / EuRoC image folder and write a TUM trajectory'

#: (time, image, (R_wb, altitude, (x, y)) or None)
FrameInput = tuple[float, np.ndarray, tuple | None]


@dataclass
class RunResult:
    """Everything one offline run produced."""

    times: np.ndarray                           # every frame
    states: np.ndarray                          # TrackingState per frame
    track_seconds: np.ndarray                   # time in the tracker per frame
    maps: int
    # map -> raw poses
    poses: dict[int, list[tuple[float, np.ndarray]]] = field(default_factory=dict)
    # map -> metric anchor
    anchors: dict[int, Similarity] = field(default_factory=dict)

    @property
    def tracked_fraction(self) -> float:
        """Frames with tracking state OK over all frames."""
        return float(np.mean(self.states == TrackingState.OK)) if len(self.states) else 0.0

    def largest_map(self) -> int | None:
        """The map with the most tracked frames."""
        return max(self.poses, key=lambda m: len(self.poses[m])) if self.poses else None

    def trajectory(self, map_index: int | None = None, metric: bool = False) -> Trajectory:
        """Camera poses of one map (default: the largest); metric ones need its anchor."""
        index = self.largest_map() if map_index is None else map_index
        entries = self.poses.get(index, [])
        if metric:
            anchor = self.anchors[index]
            entries = [(t, anchor.apply_pose(p)) for t, p in entries]
        return Trajectory.from_matrices([t for t, _ in entries], [p for _, p in entries])


def run_frames(frames: Iterable[FrameInput], session: SlamSession, rate: float = 1.0) -> RunResult:
    """Feed frames to a session, paced at `rate` x their timestamps (0: no pacing)."""
    times, states, seconds = [], [], []
    poses: dict[int, list] = {}
    anchors: dict[int, Similarity] = {}
    wall_start = first_t = None
    for t, image, body in frames:
        if rate > 0:
            if wall_start is None:
                wall_start, first_t = time.monotonic(), t
            delay = wall_start + (t - first_t) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        out = session.process(image, t, body)
        times.append(t)
        states.append(int(out.state))
        seconds.append(out.seconds)
        if out.slam_from_camera is not None:
            poses.setdefault(session.maps, []).append((t, out.slam_from_camera))
            if session.anchor is not None:
                anchors[session.maps] = session.anchor
    return RunResult(np.array(times), np.array(states), np.array(seconds), session.maps, poses,
                     anchors)


def dataset_frames(dataset: Dataset, use_body_truth: bool = False) -> Iterator[FrameInput]:
    """Load a dataset's images in order, with the body's attitude and altitude when asked."""
    import cv2

    bodies = {}
    if use_body_truth and dataset.body_groundtruth is not None:
        for t, m in zip(dataset.body_groundtruth.times, dataset.body_groundtruth.matrices()):
            bodies[round(float(t), 6)] = (m[:3, :3], float(m[2, 3]),
                                          (float(m[0, 3]), float(m[1, 3])))
    for t, path in dataset.frames:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise DatasetError(f'cannot read image {path}')
        yield t, image, bodies.get(round(t, 6))


def orb_parameters_from_yaml(path: str | Path | None, node: str = 'slam') -> OrbParameters:
    """The orb.* parameters of a node's ROS parameter file (defaults where absent)."""
    if not path:
        return OrbParameters()
    doc = yaml.safe_load(Path(path).read_text()) or {}
    params = (doc.get(node) or doc.get(f'/{node}') or {}).get('ros__parameters', {})
    orb = params.get('orb', {}) if isinstance(params.get('orb'), dict) else {
        k.removeprefix('orb.'): v for k, v in params.items() if k.startswith('orb.')}
    defaults = OrbParameters()
    values = {name: getattr(defaults, name) for name in defaults.__dataclass_fields__}
    return OrbParameters(**{name: type(value)(orb.get(name, value))
                            for name, value in values.items()})


def start_session(dataset: Dataset, vocabulary: Path, orb: OrbParameters, work_dir: Path,
                  metric: bool = False, backend: str = 'orbslam3-python') -> SlamSession:
    """A SlamSession for a dataset (settings written into `work_dir`)."""
    from mmchat_ros.slam import vocabulary as vocab

    settings = write_settings(work_dir / 'orbslam3_settings.yaml', dataset.calibration,
                              round(dataset.fps) or 20, orb)
    estimator = None
    if metric:
        if dataset.body_groundtruth is None or dataset.camera_pitch_deg is None:
            raise DatasetError('--metric needs body_groundtruth.txt and the camera mount in '
                               'sequence.yaml (a generated sequence)')
        estimator = ScaleEstimator(optical_from_body(dataset.camera_pitch_deg,
                                                     dataset.camera_position_m))
    return SlamSession(open_backend(backend, vocab.prepare(vocabulary), settings), estimator)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Command-line options of the offline runner."""
    from mmchat_ros.slam.vocabulary import SHIPPED

    parser.add_argument('sequence', type=Path, help='TUM RGB-D or EuRoC folder')
    parser.add_argument('--out', type=Path, required=True,
                        help='trajectory file to write (TUM format)')
    parser.add_argument('--calibration', type=Path,
                        help='camera_calibration YAML (overrides the folder)')
    parser.add_argument('--vocabulary', type=Path, default=None,
                        help=f'DBoW2 text vocabulary, .txt or .txt.gz (default: {SHIPPED}; '
                             'ORBvoc.txt works)')
    parser.add_argument('--params', type=Path, default=None,
                        help='ROS parameter file whose slam node orb.* values to use '
                             '(e.g. config/sim/slam.yaml)')
    parser.add_argument('--rate', type=float, default=1.0,
                        help='playback speed: 1 real time (default), 0 as fast as possible')
    parser.add_argument('--metric', action='store_true',
                        help='recover metric scale from body_groundtruth.txt (generated sequences)')
    parser.add_argument('--report', type=Path, help='also write a JSON summary here')


def run(args: argparse.Namespace) -> int:
    """Run the offline CLI; exit code 0 on success, 2 on bad input."""
    from tqdm import tqdm

    from mmchat_ros.graph import share_dir
    from mmchat_ros.slam.backend import BackendError
    from mmchat_ros.slam.vocabulary import SHIPPED, VocabularyError
    from mmchat_tools.slam.metrics import ate

    try:
        dataset = open_dataset(args.sequence, args.calibration)
        orb = orb_parameters_from_yaml(args.params)
        with tempfile.TemporaryDirectory(prefix='mmchat_slam_') as work:
            session = start_session(dataset, args.vocabulary or share_dir() / SHIPPED, orb,
                                    Path(work), args.metric)
            try:
                frames = tqdm(dataset_frames(dataset, args.metric), total=len(dataset.frames),
                              desc='SLAM', unit='frame')
                result = run_frames(frames, session, args.rate)
            finally:
                session.close()
    except (DatasetError, VocabularyError, SettingsError, BackendError, OSError) as exc:
        print(f'slam-offline: {exc}', file=sys.stderr)
        return 2
    summary = {'frames': len(result.times), 'tracked_fraction': round(result.tracked_fraction, 4),
               'maps': result.maps,
               'mean_track_ms': round(1e3 * float(result.track_seconds.mean()), 2)}
    best = result.largest_map()
    if best is None:
        print('slam-offline: tracking never started; no trajectory written', file=sys.stderr)
        print(json.dumps(summary))
        return 1
    trajectory = result.trajectory()
    trajectory.write_tum(args.out)
    summary['trajectory'] = str(args.out)
    if best in result.anchors:
        metric_path = args.out.with_suffix('.metric.txt')
        result.trajectory(metric=True).write_tum(metric_path)
        summary['metric_trajectory'] = str(metric_path)
        summary['scale'] = round(result.anchors[best].scale, 5)
    if dataset.groundtruth is not None and len(trajectory) >= 3:
        error = ate(trajectory, dataset.groundtruth)
        summary.update(ate_rmse_m=round(error.rmse_m, 4), ate_percent=round(error.rmse_percent, 3),
                       path_length_m=round(error.path_length_m, 2))
    print(json.dumps(summary))
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + '\n')
    return 0

