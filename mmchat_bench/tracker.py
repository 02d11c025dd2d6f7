"""Tracking on rendered sequences.

The validation sweep that chose the tracker's settings, and the scored tracking cases of the
detector benchmark.

    python -m mmchat_bench tracker [--out bench/results]

The sweep renders sim_data.validation_scenarios (other people, colours, paths and camera moves than
the scenarios the detector benchmark scores) with seed 7, detects with the shipped int8 model, and
runs the reid tracker over a grid of
  low_conf        lowest detection confidence given to the tracker (such detections only continue
                  tracks, as in ByteTrack); the node's `track_low_conf`
  new_track_conf  lowest confidence that starts a track; the node's `conf`
  unmatched_cost  cost of leaving a recent track unmatched in the motion + appearance assignment
scoring the confirmed tracks by IDF1, MOTA, ID switches, false positives and misses (motmetrics,
IoU >= 0.5), on the detections and on the ground-truth boxes. The defaults in
config/sim/detector.yaml and ReidConfig were chosen from this sweep; the detector benchmark then
scores them on its own scenarios, which no choice looked at. Writes tracker.json and tracker.png.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import itertools
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from mmchat_bench.results import machine_info, write_report

HELP = 'tracker: the validation sweep behind the tracker settings (IDF1 / MOTA per setting)'
VALIDATION_SEED = 7
RATE_HZ = 10.0
LOW_CONFS = (0.3, 0.2, 0.15, 0.1, 0.05)
NEW_TRACK_CONFS = (0.3, 0.35, 0.5)
UNMATCHED_COSTS = (1.0, 1.5, 2.0, 1e5)          # 1e5: never left unmatched (every swap is cheaper)
GROUND_TRUTH = 'ground-truth boxes'

Sequences = dict[str, tuple[list, list]]        # name -> (frames, detections per frame)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m mmchat_bench tracker`."""
    parser.add_argument('--model', type=Path, help='detector (default: the sim profile\'s model)')


def run(args: argparse.Namespace) -> int:
    """Render the validation sequences, sweep the settings and write the report."""
    from mmchat_ros import graph

    share = graph.share_dir()
    settings = node_settings(share)
    model = args.model or share / settings['model']
    if not Path(model).is_file():
        print(f'missing model file: {model} (see models/detector/MODEL_CARD.md)')
        return 2
    scenarios, vehicle = scenario_set(share, validation=True)
    detected, perfect = render(scenarios, vehicle,
                               load_detector(model, min(LOW_CONFS), settings['iou']),
                               VALIDATION_SEED)
    report: dict[str, Any] = {
        'machine': machine_info(), 'seed': VALIDATION_SEED, 'model': str(model), 'rate_hz': RATE_HZ,
        'sequences': {n: s.description for n, s in scenarios.items()},
        'configured': {'low_conf': settings['track_low_conf'], 'new_track_conf': settings['conf'],
                       'unmatched_cost': _reid_defaults().unmatched_cost},
        'grid': sweep(detected, perfect)}
    write_report(args.out, 'tracker', report, plot, print_summary)
    return 0


# --- shared with the detector benchmark ---------------------------------------------------------

def node_settings(share: Path) -> dict[str, Any]:
    """The detector node's parameters in the sim profile (config/sim/detector.yaml)."""
    import yaml
    document = yaml.safe_load((share / 'config' / 'sim' / 'detector.yaml').read_text())
    return document['detector']['ros__parameters']


def load_detector(path: Path, conf: float, iou: float, imgsz: int = 320):
    """The YOLO detector of `path` at the given thresholds."""
    from mmchat_ros.detection.yolo import YoloDetector
    return YoloDetector(path, imgsz=imgsz, conf=conf, iou=iou)


def scenario_set(share: Path, validation: bool = False):
    """sim_data's scripted scenarios (or its validation ones), and the vehicle that films them."""
    from mmchat_ros.simulation import World
    from mmchat_ros.vehicle_model import VehicleModel
    from mmchat_tools.detection import sim_data

    worlds = share / 'sim' / 'worlds'
    make = sim_data.validation_scenarios if validation else sim_data.scenarios
    scenarios = make(World.from_yaml(worlds / 'indoor_room.yaml'),
                     World.from_yaml(worlds / 'outdoor_yard.yaml'))
    return scenarios, VehicleModel.from_yaml(share / 'sim' / 'vehicles' / 'quadrotor.yaml')


def render(scenarios: dict, vehicle, detector, seed: int) -> tuple[Sequences, Sequences]:
    """Each scenario rendered at RATE_HZ: (frames, detections) and (frames, ground-truth boxes)."""
    from mmchat_ros.detection.yolo import Box
    from mmchat_tools.detection import sim_data

    detected, perfect = {}, {}
    for name, scenario in scenarios.items():
        frames = list(tqdm(sim_data.render_sequence(scenario, vehicle, RATE_HZ, seed=seed),
                           desc=f'tracking sequence {name}', unit='frame'))
        detected[name] = (frames, [detector.detect(f.image) for f in frames])
        perfect[name] = (frames, [[Box(*(float(v) for v in b.box_xyxy), 1.0, b.class_id)
                                   for b in f.boxes]
                                  for f in frames])
    return detected, perfect


def track_sequences(make_tracker: Callable[[], Any], sequences: Sequences,
                    min_score: float = 0.0) -> dict[str, Any]:
    """Metrics of a fresh tracker per sequence, per sequence and over all.

    Each tracker is fed the detections of at least `min_score`.
    """
    from mmchat_ros.detection.tracking import TrackState
    from mmchat_tools.detection.metrics import tracking_metrics

    rows = {}
    everything: list[list] = [[], [], [], []]
    for index, (name, (frames, detections)) in enumerate(sequences.items()):
        tracker = make_tracker()
        t_ids, t_boxes, h_ids, h_boxes = [], [], [], []
        for frame, boxes in zip(frames, detections):
            given = [b for b in boxes if b.score >= min_score]
            tracks = [t for t in tracker.update(given, frame.image, frame.time_s)
                      if t.state == TrackState.CONFIRMED]
            t_ids.append([b.target_id for b in frame.boxes])
            t_boxes.append(np.array([b.box_xyxy for b in frame.boxes]).reshape(-1, 4))
            h_ids.append([t.track_id for t in tracks])
            h_boxes.append(np.array([t.box_xyxy for t in tracks]).reshape(-1, 4))
        rows[name] = _rounded(tracking_metrics(t_ids, t_boxes, h_ids, h_boxes))
        offset = 100_000 * (index + 1)          # sequences never share identities
        everything[0] += [[offset + v for v in ids] for ids in t_ids]
        everything[1] += t_boxes
        everything[2] += [[offset + v for v in ids] for ids in h_ids]
        everything[3] += h_boxes
    rows['all'] = _rounded(tracking_metrics(*everything))
    return rows


def _rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


# --- the sweep -----------------------------------------------------------------------------------

def _reid_defaults():
    from mmchat_ros.detection.tracking import ReidConfig
    return ReidConfig()


def sweep(detected: Sequences, perfect: Sequences) -> list[dict[str, Any]]:
    """The reid tracker at every setting of the grid, on detections and on ground-truth boxes."""
    from mmchat_ros.detection.tracking import ReidTracker

    grid = []
    settings = list(itertools.product(LOW_CONFS, NEW_TRACK_CONFS, UNMATCHED_COSTS))
    truth_rows = {}
    for low, new, unmatched in tqdm(settings, desc='tracker settings', unit='setting'):
        config = replace(_reid_defaults(), new_track_score=new, unmatched_cost=unmatched)
        # ground-truth boxes all score 1: only the cost matters
        if unmatched not in truth_rows:
            truth_rows[unmatched] = track_sequences(lambda: ReidTracker(config), perfect)
        grid.append({'low_conf': low, 'new_track_conf': new, 'unmatched_cost': unmatched,
                     'detected': track_sequences(lambda: ReidTracker(config), detected,
                                                 min_score=low),
                     GROUND_TRUTH: truth_rows[unmatched]})
    return grid


def _row(report: dict, **setting) -> dict:
    return next(r for r in report['grid'] if all(r[k] == v for k, v in setting.items()))


def print_summary(report: dict) -> None:
    """The configured setting and the best one on stdout."""
    configured = _row(report, **report['configured'])
    best = max(report['grid'], key=lambda r: r['detected']['all']['idf1'])
    for label, row in (('configured', configured), ('best IDF1', best)):
        a = row['detected']['all']
        print(f"{label:10s} low_conf {row['low_conf']} new_track_conf {row['new_track_conf']} "
              f"unmatched_cost {row['unmatched_cost']:g}: IDF1 {a['idf1']:.3f} "
              f"MOTA {a['mota']:.3f} ID switches {a['num_switches']} "
              f"FP {a['num_false_positives']} misses {a['num_misses']}; "
              f"ground-truth boxes IDF1 {row[GROUND_TRUTH]['all']['idf1']:.3f}")


def plot(report: dict, path: Path) -> None:
    """IDF1 and MOTA against low_conf per unmatched cost, at the configured new_track_conf."""
    from mmchat_tools import plots

    configured = report['configured']
    fig, axes = plots.plt.subplots(1, 2, figsize=(13, 5))
    for ax, metric in zip(axes, ('idf1', 'mota')):
        for unmatched in UNMATCHED_COSTS:
            rows = [_row(report, low_conf=low, new_track_conf=configured['new_track_conf'],
                         unmatched_cost=unmatched) for low in LOW_CONFS]
            never = unmatched >= 1e4
            label = 'never unmatched' if never else f'unmatched cost {unmatched:g}'
            truth = rows[0][GROUND_TRUTH]['all'][metric]
            ax.plot(LOW_CONFS, [r['detected']['all'][metric] for r in rows], marker='o',
                    zorder=1 if never else 2,
                    linestyle='--' if never else '-', linewidth=4 if never else 1.5,
                    label=f"{label} (ground-truth boxes {metric.upper()} {truth:.3f})")
        chosen = _row(report, **configured)['detected']['all'][metric]
        ax.plot([configured['low_conf']], [chosen], marker='*', markersize=16, color='black',
                linestyle='none', label=f'configured: {chosen:.3f}')
        ax.set_xlabel('lowest detection confidence given to the tracker (low_conf)')
        ax.set_ylabel(metric.upper())
        ax.invert_xaxis()
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(f"reid tracker on the validation sequences ({', '.join(report['sequences'])}; "
                 f"seed {report['seed']}), new tracks from confidence "
                 f"{configured['new_track_conf']}", fontsize=10)
    plots.save(fig, path)
