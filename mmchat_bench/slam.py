"""Monocular SLAM on built-in simulator sequences: ATE, frames tracked, maps, time per frame.

Each benchmark sequence (mmchat_tools.slam.sequences: `loop`, `figure_eight`, `fast` with motion
blur and pixel noise; none was used to train the shipped vocabulary) is rendered at 640x480 in the
TUM RGB-D layout (cached under ~/.cache/mmchat_ros/sequences) and run through the offline runner
with the shipped vocabulary, frames paced at the camera rate (20 Hz). Reported per sequence:
- ATE RMSE after Sim(3) alignment of the largest map's camera trajectory (m and % of path length);
- the fraction of frames with tracking state OK, the number of maps;
- time ORB-SLAM3 spends per frame (the whole TrackMonocular call; its mapping threads run beside);
- the metric scale from the take-off climb (mmchat_ros.slam.scale): its error against the Sim(3)
  scale and the ATE of the metric trajectory with rotation/translation alignment only (SE(3)).
Goals: ATE <= 1 % of the path length, >= 95 % of frames tracked, >= 20 frames/s (<= 50 ms a frame).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
import tempfile
from typing import Any

import yaml

from mmchat_bench.results import Goal, goal_text, latency_summary, machine_info, write_json

HELP = 'monocular ORB-SLAM3 on rendered sequences: ATE, tracked frames, maps, time per frame'
SEQUENCES = ('loop', 'figure_eight', 'fast')
WIDTH, HEIGHT = 640, 480
GOALS = (Goal('ate_percent', 1.0), Goal('untracked_percent', 5.0), Goal('mean_track_ms', 50.0))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sequences, cache folder and vocabulary."""
    parser.add_argument('--sequences', nargs='+', default=list(SEQUENCES),
                        help=f"built-in sequences to run (default: {' '.join(SEQUENCES)})")
    parser.add_argument('--cache', type=Path, default=None,
                        help='folder of rendered sequences '
                             '(default: ~/.cache/mmchat_ros/sequences)')
    parser.add_argument('--vocabulary', type=Path, default=None,
                        help='vocabulary (default: shipped)')


def _rendered(name: str, cache: Path, duration_s: float | None) -> Path:
    """The sequence's folder, rendered unless an identical one is cached."""
    from mmchat_tools.slam import sequences

    folder = cache / (f'{name}-{WIDTH}x{HEIGHT}' + (f'-{duration_s:g}s' if duration_s else ''))
    spec = sequences.spec(name)
    described = folder / 'sequence.yaml'
    if described.is_file():
        doc = yaml.safe_load(described.read_text())
        if all(doc.get(k) == v for k, v in vars(spec).items()) and (folder / 'rgb.txt').is_file():
            return folder
    return sequences.render(name, folder, WIDTH, HEIGHT, duration_s)


def run_sequence(name: str, folder: Path, vocabulary: Path) -> tuple[dict[str, Any], dict]:
    """Run SLAM on one rendered sequence; (numbers, arrays for the plot)."""
    from mmchat_ros.slam.settings import OrbParameters
    from mmchat_tools.slam.datasets import open_dataset
    from mmchat_tools.slam.metrics import ate
    from mmchat_tools.slam.offline import dataset_frames, run_frames, start_session

    dataset = open_dataset(folder)
    with tempfile.TemporaryDirectory(prefix='mmchat_slam_bench_') as work:
        session = start_session(dataset, vocabulary, OrbParameters(), Path(work), metric=True)
        try:
            result = run_frames(dataset_frames(dataset, use_body_truth=True), session, rate=1.0)
        finally:
            session.close()
    timing = latency_summary(1e3 * result.track_seconds)
    numbers: dict[str, Any] = {
        'frames': len(result.times), 'tracked_fraction': round(result.tracked_fraction, 4),
        'untracked_percent': round(100 * (1 - result.tracked_fraction), 2), 'maps': result.maps,
        'resets': 0, 'mean_track_ms': timing['mean_ms'], 'p50_track_ms': timing['p50_ms'],
        'p99_track_ms': timing['p99_ms'],
        'frames_per_s': round(1e3 / timing['mean_ms'], 1) if timing['mean_ms'] else None}
    plot: dict[str, Any] = {'truth': dataset.groundtruth.positions}
    best = result.largest_map()
    if best is None or len(result.poses[best]) < 3:
        return numbers, plot
    trajectory = result.trajectory()
    error = ate(trajectory, dataset.groundtruth)
    numbers.update(ate_rmse_m=round(error.rmse_m, 4), ate_percent=round(error.rmse_percent, 3),
                   ate_max_m=round(error.max_m, 4), path_length_m=round(error.path_length_m, 2),
                   largest_map_frames=len(trajectory))
    plot['aligned'] = error.aligned
    if best in result.anchors:
        metric = result.trajectory(metric=True)
        metric_error = ate(metric, dataset.groundtruth, with_scale=False)
        anchor_scale = result.anchors[best].scale
        numbers.update(scale_from_climb=round(anchor_scale, 5),
                       scale_error_percent=round(100 * (anchor_scale / error.scale - 1), 2),
                       metric_ate_rmse_m=round(metric_error.rmse_m, 4),
                       metric_ate_percent=round(metric_error.rmse_percent, 3))
        plot['metric'] = metric.positions
    return numbers, plot


def _plot(plots: dict[str, dict], report: dict, path: Path) -> None:
    from mmchat_tools.plots import plt, save

    fig, axes = plt.subplots(1, len(plots), figsize=(6 * len(plots), 6), squeeze=False)
    for ax, (name, data) in zip(axes[0], plots.items()):
        ax.plot(*data['truth'][:, :2].T, color='black', lw=2, label='ground truth')
        if 'aligned' in data:
            ax.plot(*data['aligned'][:, :2].T, color='tab:blue', lw=1, label='SLAM, Sim(3)-aligned')
        if 'metric' in data:
            ax.plot(*data['metric'][:, :2].T, color='tab:orange', lw=1, ls='--',
                    label='SLAM, metric from the climb (not aligned)')
        numbers = report['sequences'][name]
        ax.set_title(f"{name}: ATE {numbers.get('ate_rmse_m', float('nan')) * 100:.1f} cm "
                     f"({numbers.get('ate_percent', float('nan')):.2f} %), "
                     f"tracked {100 * numbers['tracked_fraction']:.1f} %, {numbers['maps']} map(s)",
                     fontsize=9)
        ax.set_xlabel('x (m)')
        ax.set_ylabel('y (m)')
        ax.set_aspect('equal')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc='lower left')
    save(fig, path)


def run(args: argparse.Namespace) -> int:
    """Render (or reuse), run and report every sequence."""
    from mmchat_ros.graph import share_dir
    from mmchat_ros.slam.vocabulary import SHIPPED

    cache = args.cache or Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') \
        / 'mmchat_ros' / 'sequences'
    vocabulary = args.vocabulary or share_dir() / SHIPPED
    report: dict[str, Any] = {'benchmark': 'slam', 'machine': machine_info(),
                              'setup': {'resolution': f'{WIDTH}x{HEIGHT}', 'fps': 20.0,
                                        'backend': 'orbslam3-python', 'vocabulary': str(SHIPPED
                                        if args.vocabulary is None else args.vocabulary),
                                        'pacing': 'frames fed at the camera rate (real time)',
                                        'duration_s': args.duration},
                              'goals': [{'key': g.key, 'limit': g.limit} for g in GOALS],
                              'sequences': {}}
    plots = {}
    for name in args.sequences:
        print(f'[slam] {name}: rendering (or cached) ...', flush=True)
        folder = _rendered(name, cache, args.duration)
        print(f'[slam] {name}: running SLAM at the camera rate ...', flush=True)
        numbers, plots[name] = run_sequence(name, folder, vocabulary)
        numbers['goals'] = [g.check(numbers) for g in GOALS]
        report['sequences'][name] = numbers
        print(f'[slam] {name}: '
              + ', '.join(f'{k} {v}' for k, v in numbers.items() if k != 'goals'))
        print('[slam]   ' + '; '.join(goal_text(g) for g in numbers['goals']), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / 'slam.json', report)
    _plot(plots, report, args.out / 'slam.png')
    print(f"[slam] wrote {args.out / 'slam.json'} and {args.out / 'slam.png'}")
    return 0
