"""Detector benchmark: accuracy and speed per backend, node latency, tracking identity metrics.

    python -m mmchat_bench detector [--val-images 400] [--out bench/results]

All data are rendered from the simulator with seed 2024 (training and validation used seeds 0-10,
int8 calibration 100), so nothing here was seen in training:
  accuracy   mAP50 / mAP50-95 (COCO-style, conf 0.001) of the .pt, ONNX fp32 and ONNX int8 models on
             --val-images held-out images of both worlds;
  speed      the same models through the detector (pre- and post-processing included), then the
             two ONNX models' run() alone, interleaved image by image so that load from other
             processes hits both alike, with ONNX Runtime's default threads (as the node runs it;
             the int8 speed-up goal is judged on this wall time) and on one thread; and where
             that time goes: ONNX Runtime's profile per operator type, one thread;
  node       the detector node in one process (real DDS): latency from publishing an image (its
             header stamped with the wall clock) to receiving its DetectionArray, frame by frame,
             at imgsz 320 (320x240 images) and 640 (640x480); then frames per second sustained
             while a camera stand-in publishes at 30 Hz. ONNX models for 640 are exported for the
             run (the int8 one calibrated on 64 renders);
  tracking   rendered sequences with crossings, an occluding pillar, exit/re-entry and a busy yard;
             the int8 detector at the node's settings (config/sim/detector.yaml; detections down to
             track_low_conf, chosen with `bench tracker` on other scenarios), then each tracker
             on the same detections:
             IDF1, ID switches, MOTA (motmetrics, IoU >= 0.5) of the confirmed tracks (what a
             follow behaviour acts on), per sequence and over all; and the reid tracker on the
             ground-truth boxes (every labelled target, even 12 visible pixels), its own share.
Writes detector.json and detector.png to --out.
"""
from __future__ import annotations

import argparse
from collections import Counter
import json
import os
from pathlib import Path
import tempfile
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from mmchat_bench.results import machine_info, write_report
from mmchat_bench.tracker import (RATE_HZ, load_detector, node_settings, render, scenario_set,
                                      track_sequences)

HELP = 'detector: mAP and speed of .pt / ONNX fp32 / ONNX int8, node latency, tracking IDF1'
HELD_OUT_SEED = 2024
ACCURACY_CONF, ACCURACY_IOU = 0.001, 0.7       # as Ultralytics validation
MAX_INT8_MAP_DROP_POINTS = 1.0
MIN_INT8_SPEEDUP = 1.5
MIN_IDF1 = 0.9
CAMERA_RATE_HZ = 30.0
GROUND_TRUTH_ROW = 'reid on ground-truth boxes'
PROFILE_IMAGES = 20                            # images per model in the operator profile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m mmchat_bench detector`."""
    parser.add_argument('--models', type=Path, help='model folder (default: models/detector)')
    parser.add_argument('--stem', default='sim_yolo11n',
                        help='<stem>.pt, <stem>.onnx, <stem>_int8.onnx')
    parser.add_argument('--val-images', type=int, default=400, help='held-out images')
    parser.add_argument('--speed-images', type=int, default=60,
                        help='images per model in the speed pass')
    parser.add_argument('--latency-frames', type=int, default=60,
                        help='frames per node latency case')
    parser.add_argument('--sizes', type=int, nargs='+', default=[320, 640], help='node imgsz cases')
    parser.add_argument('--trackers', nargs='+', default=['reid', 'bytetrack', 'botsort'])


def run(args: argparse.Namespace) -> int:
    """Run every part and write the report."""
    from mmchat_ros import graph

    share = graph.share_dir()
    models_dir = args.models or share / 'models' / 'detector'
    models = {'pytorch fp32 (.pt)': models_dir / f'{args.stem}.pt',
              'onnxruntime fp32': models_dir / f'{args.stem}.onnx',
              'onnxruntime int8': models_dir / f'{args.stem}_int8.onnx'}
    missing = [str(p) for p in models.values() if not p.is_file()]
    if missing:
        print(f'missing model files: {", ".join(missing)} (see models/detector/MODEL_CARD.md)')
        return 2
    duration_s = args.duration or 10.0
    report: dict[str, Any] = {'machine': machine_info(), 'held_out_seed': HELD_OUT_SEED,
                              'models': {k: str(v) for k, v in models.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        images, truths = held_out_set(Path(tmp), args.val_images, share)
        report['accuracy'] = accuracy(models, images, truths)
        report['speed'] = speed(models, images[:args.speed_images])
        report['node'] = node_cases(models, args.stem, args.sizes, args.latency_frames, duration_s,
                                    Path(tmp), share)
    report['tracking'] = tracking_cases(models['onnxruntime int8'], args.trackers, share)
    report['goals'] = goals(report)
    write_report(args.out, 'detector', report, plot, print_summary)
    return 0


# --- data ----------------------------------------------------------------------------------------

def held_out_set(root: Path, count: int, share: Path):
    """Render the held-out images; returns (BGR images, ImageTruth per image)."""
    import cv2

    from mmchat_tools.detection import sim_data
    from mmchat_tools.detection.metrics import ImageTruth

    with tqdm(total=count, desc='rendering held-out images', unit='img') as bar:
        sim_data.write_dataset(root, 'heldout', count, HELD_OUT_SEED,
                               sorted((share / 'sim' / 'worlds').glob('*.yaml')),
                               share / 'sim' / 'vehicles' / 'quadrotor.yaml', progress=bar.update)
    images, truths = [], []
    for path in sorted((root / 'images' / 'heldout').glob('*.jpg')):
        image = cv2.imread(str(path))
        boxes, classes = sim_data.read_yolo_labels(root / 'labels' / 'heldout' / f'{path.stem}.txt',
                                                   image.shape[1], image.shape[0])
        images.append(image)
        truths.append(ImageTruth(boxes, classes))
    return images, truths


# --- accuracy and speed --------------------------------------------------------------------------

def accuracy(models: dict[str, Path], images: list, truths: list) -> dict[str, Any]:
    """Mean average precision (mAP) of each model on the held-out images."""
    from mmchat_tools.detection.metrics import ImageDetections, detection_map
    from mmchat_tools.detection.sim_data import CLASS_NAMES

    out = {}
    for name, path in models.items():
        detector = load_detector(path, ACCURACY_CONF, ACCURACY_IOU)
        predictions = []
        for image in tqdm(images, desc=f'accuracy {name}', unit='img'):
            boxes = detector.detect(image)
            predictions.append(ImageDetections(np.array([b.xyxy for b in boxes]).reshape(-1, 4),
                                               np.array([b.score for b in boxes]),
                                               np.array([b.class_id for b in boxes], int)))
        result = detection_map(predictions, truths, CLASS_NAMES)
        out[name] = {'map50': round(result['map50'], 4), 'map50_95': round(result['map50_95'], 4),
                     'per_class': {c: {k: round(v, 4) if isinstance(v, float) else v
                                       for k, v in r.items()}
                                   for c, r in result['per_class'].items()},
                     'images': len(images),
                     'instances': int(sum(len(t.classes) for t in truths))}
    return out


def speed(models: dict[str, Path], images: list) -> dict[str, Any]:
    """Time per image of each model, through the detector and then on ONNX Runtime alone.

    Through the detector: Ultralytics pre/post-processing included, default threads. Then the two
    ONNX models alone (`model_runs`, `operator_times`).
    """
    from mmchat_tools.detection.build_engine import letterbox

    detectors = {name: load_detector(path, ACCURACY_CONF, ACCURACY_IOU)
                 for name, path in models.items()}
    for detector in detectors.values():                      # warm-up
        for image in images[:5]:
            detector.detect(image)
    run_ms = {name: [] for name in models}
    total_ms = {name: [] for name in models}
    for image in tqdm(images, desc='speed through the detector', unit='img'):
        for name, detector in detectors.items():
            started = time.perf_counter()
            detector.detect(image)
            total_ms[name].append((time.perf_counter() - started) * 1e3)
            run_ms[name].append(detector.last_speed_ms['inference'])
    out: dict[str, Any] = {
        name: {'end_to_end_ms_p50': _p(total_ms[name], 50),
               'end_to_end_ms_p95': _p(total_ms[name], 95),
               'inference_ms_p50': _p(run_ms[name], 50),
               'samples_end_to_end_ms': _rounded_list(total_ms[name])}
        for name in models}
    onnx_models = {name: models[name] for name in ('onnxruntime fp32', 'onnxruntime int8')}
    inputs = [letterbox(image, 320) for image in images]
    out['model_run_default_threads'] = model_runs(onnx_models, inputs, threads=0)
    out['model_run_one_thread'] = model_runs(onnx_models, inputs, threads=1)
    out['operator_ms_one_thread'] = {name: operator_times(path, inputs[:PROFILE_IMAGES])
                                     for name, path in onnx_models.items()}
    out['int8_speedup_end_to_end'] = round(out['onnxruntime fp32']['end_to_end_ms_p50'] /
                                           out['onnxruntime int8']['end_to_end_ms_p50'], 3)
    out['load_average_after'] = [round(x, 2) for x in os.getloadavg()]
    return out


def _onnx_session(model: Path, threads: int, profile_prefix: Path | None = None):
    """An ONNX Runtime CPU session on `threads` threads (0: one per core).

    It profiles into files starting with `profile_prefix` if one is given.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = threads
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    return onnxruntime.InferenceSession(str(model), options, providers=['CPUExecutionProvider'])


def model_runs(models: dict[str, Path], inputs: list[np.ndarray], threads: int) -> dict[str, Any]:
    """Wall and CPU time of ONNX Runtime's run() alone for the fp32 and int8 models.

    The inputs are letterboxed, and the models interleaved input by input so that load from other
    processes hits both alike. threads=0: ONNX Runtime's default (one per core, as the detector
    node runs it).
    """
    sessions = {name: _onnx_session(path, threads) for name, path in models.items()}
    wall = {name: [] for name in sessions}
    cpu = {name: [] for name in sessions}
    label = 'default threads' if threads == 0 else f'{threads} thread(s)'
    for x in tqdm(inputs[:5] + inputs, desc=f'ONNX Runtime run(), {label}', unit='img'):
        for name, session in sessions.items():
            feed = {session.get_inputs()[0].name: x}
            started, started_cpu = time.perf_counter(), time.process_time()
            session.run(None, feed)
            wall[name].append((time.perf_counter() - started) * 1e3)
            cpu[name].append((time.process_time() - started_cpu) * 1e3)
    out: dict[str, Any] = {
        name: {'wall_ms_p50': _p(wall[name][5:], 50), 'cpu_ms_p50': _p(cpu[name][5:], 50),
               'samples_wall_ms': _rounded_list(wall[name][5:])} for name in sessions}
    fp32, int8 = out['onnxruntime fp32'], out['onnxruntime int8']
    out['threads'] = threads or os.cpu_count()
    out['int8_speedup_wall'] = round(fp32['wall_ms_p50'] / int8['wall_ms_p50'], 3)
    out['int8_speedup_cpu'] = round(fp32['cpu_ms_p50'] / int8['cpu_ms_p50'], 3)
    return out


def operator_times(model: Path, inputs: list[np.ndarray]) -> dict[str, float]:
    """Milliseconds per letterboxed input on each operator type, largest first.

    As ONNX Runtime's profiler (one thread) measures them: where int8 saves time (convolutions) and
    where it does not. The first input is a warm-up run (profiling cannot start later), left out
    by its time stamps.
    """
    with tempfile.TemporaryDirectory() as tmp:
        session = _onnx_session(model, threads=1, profile_prefix=Path(tmp) / model.stem)
        feed_name = session.get_inputs()[0].name
        for x in [inputs[0]] + inputs:
            session.run(None, {feed_name: x})
        events = json.loads(Path(session.end_profiling()).read_text())
    warm_up = min((e for e in events if e['name'] == 'model_run'), key=lambda e: e['ts'])
    warm_up_end = warm_up['ts'] + warm_up['dur']
    total_us: Counter = Counter()
    for event in events:
        if (event.get('cat') == 'Node' and event['name'].endswith('_kernel_time')
                and event['ts'] >= warm_up_end):
            total_us[event['args']['op_name']] += event['dur']
    return {op: round(us / len(inputs) / 1e3, 2) for op, us in total_us.most_common()}


def _rounded_list(values) -> list[float]:
    return [round(float(v), 2) for v in values]


def _p(values, q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


# --- the node ------------------------------------------------------------------------------------

def node_cases(models: dict[str, Path], stem: str, sizes: list[int], frames: int, duration_s: float,
               tmp: Path, share: Path) -> dict[str, Any]:
    """Latency and sustained rate of the detector node for each backend and imgsz."""
    from mmchat_tools.detection import build_engine

    out = {}
    for imgsz in sizes:
        cases = dict(models)
        if imgsz != 320:
            onnx = build_engine.export_onnx(models['pytorch fp32 (.pt)'], imgsz,
                                            tmp / f'{stem}_{imgsz}.onnx')
            calibration = [build_engine.letterbox(image, imgsz)
                           for image in build_engine.rendered_images(64)]
            int8 = build_engine.quantize_onnx(onnx, tmp / f'{stem}_{imgsz}_int8.onnx', calibration)
            cases.update({'onnxruntime fp32': onnx, 'onnxruntime int8': int8})
        images = _node_images(imgsz, share)
        for name, path in cases.items():
            print(f'node: {name} at imgsz {imgsz}', flush=True)
            out[f'{name} @ {imgsz}'] = node_run(path, imgsz, images, frames, duration_s,
                                                node_settings(share))
    return out


def _node_images(imgsz: int, share: Path) -> list[np.ndarray]:
    """Camera frames of the yard sequence at 320x240 (imgsz 320) or 640x480 (larger)."""
    from mmchat_tools.detection import sim_data

    width, height = (320, 240) if imgsz <= 320 else (640, 480)
    scenarios, vehicle = scenario_set(share)
    return [f.image for f in sim_data.render_sequence(scenarios['yard'], vehicle, 5.0,
                                                      width, height, HELD_OUT_SEED)]


def node_run(model: Path, imgsz: int, images: list[np.ndarray], frames: int, duration_s: float,
             settings: dict[str, Any]) -> dict:
    """Frame-by-frame latency, then the sustained rate, of one detector node.

    The node runs in its own context, at the sim profile's `settings` otherwise.
    """
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from mmchat_ros.msg import DetectionArray
    from mmchat_ros.nodes.detector_node import DetectorNode
    from mmchat_ros.ros_io import SENSOR_QOS, image_msg
    from mmchat_tools.probe import Probe

    context = Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    try:
        node = DetectorNode(context=context, parameter_overrides=[
            Parameter('model', value=str(model)), Parameter('imgsz', value=imgsz),
            Parameter('max_rate_hz', value=0.0),
            *(Parameter(k, value=settings[k])
              for k in ('conf', 'track_low_conf', 'iou', 'tracker'))])
        executor.add_node(node)
        probe = Probe(executor, context, 'detector_bench_probe')
        publisher = probe.publisher('image', Image, SENSOR_QOS)
        received: list[tuple[int, DetectionArray]] = probe.record('detections', DetectionArray,
                                                                   arrival=time.time_ns)
        if not probe.wait_for_subscribers(publisher, timeout_s=120.0):
            raise RuntimeError(f'the detector node did not start with {model}')

        def publish(i: int) -> Header:
            now = time.time_ns()
            header = Header(frame_id='camera_optical_frame')
            header.stamp.sec, header.stamp.nanosec = now // 1_000_000_000, now % 1_000_000_000
            publisher.publish(image_msg(images[i % len(images)], 'bgr8', header))
            return header

        latencies = []
        for i in range(frames + 5):
            header = publish(i)
            limit = time.monotonic() + 30.0
            while not (received and received[-1][1].header == header) and time.monotonic() < limit:
                executor.spin_once(timeout_sec=0.01)
            if received and received[-1][1].header == header and i >= 5:      # 5 warm-up frames
                stamp = header.stamp.sec * 1_000_000_000 + header.stamp.nanosec
                latencies.append((received[-1][0] - stamp) * 1e-6)

        before = len(received)
        timer = probe.create_timer(1.0 / CAMERA_RATE_HZ, lambda: publish(len(received)))
        started = time.monotonic()
        while time.monotonic() - started < duration_s:
            executor.spin_once(timeout_sec=0.01)
        probe.destroy_timer(timer)
        sustained = (len(received) - before) / duration_s
    finally:
        executor.shutdown()
        rclpy.try_shutdown(context=context)
    return {'latency_ms_p50': _p(latencies, 50), 'latency_ms_p95': _p(latencies, 95),
            'frames': len(latencies), 'sustained_fps': round(sustained, 2),
            'camera_rate_hz': CAMERA_RATE_HZ, 'image_size': list(images[0].shape[1::-1]),
            'samples_latency_ms': [round(v, 2) for v in latencies]}


# --- tracking ------------------------------------------------------------------------------------

def tracking_cases(model: Path, trackers: list[str], share: Path) -> dict[str, Any]:
    """Identity metrics of each tracker on each rendered sequence, and over all of them.

    The trackers run at the sim profile's settings; then the reid tracker is fed the ground-truth
    boxes, which separates its own errors from the detector's.
    """
    from mmchat_ros.detection.tracking import detection_conf, make_tracker

    settings = node_settings(share)
    conf = settings['conf']
    low = detection_conf(settings['tracker'], conf, settings['track_low_conf'])
    scenarios, vehicle = scenario_set(share)
    detected, perfect = render(scenarios, vehicle, load_detector(model, low, settings['iou']),
                               HELD_OUT_SEED)
    out: dict[str, Any] = {'rate_hz': RATE_HZ, 'conf': conf, 'track_low_conf': low,
                           'sequences': {n: scenarios[n].description for n in scenarios}}
    for kind in trackers:
        out[kind] = track_sequences(lambda: make_tracker(kind, RATE_HZ, conf, low), detected)
    out[GROUND_TRUTH_ROW] = track_sequences(lambda: make_tracker('reid', RATE_HZ, conf, low),
                                            perfect)
    return out


# --- goals, report -------------------------------------------------------------------------------

def goals(report: dict) -> list[dict]:
    """The issue's goals, each with its value and whether it is met."""
    fp32, int8 = report['accuracy']['onnxruntime fp32'], report['accuracy']['onnxruntime int8']
    drop = round((fp32['map50_95'] - int8['map50_95']) * 100, 2)
    runs = report['speed']['model_run_default_threads']
    speedup = runs['int8_speedup_wall']
    idf1 = report['tracking'].get('reid', {}).get('all', {}).get('idf1')
    return [
        {'goal': f'int8 loses <= {MAX_INT8_MAP_DROP_POINTS} mAP50-95 point vs ONNX fp32',
         'value': drop, 'met': drop <= MAX_INT8_MAP_DROP_POINTS},
        {'goal': f'int8 runs >= {MIN_INT8_SPEEDUP}x faster than ONNX fp32 (model run p50, '
                 f"imgsz 320, ONNX Runtime's default {runs['threads']} threads as in the node)",
         'value': speedup, 'met': speedup >= MIN_INT8_SPEEDUP},
        {'goal': f'tracking IDF1 >= {MIN_IDF1} (reid tracker, all sequences)',
         'value': idf1, 'met': idf1 is not None and idf1 >= MIN_IDF1}]


def print_summary(report: dict) -> None:
    """The headline numbers on stdout."""
    for name, acc in report['accuracy'].items():
        s = report['speed'][name]
        print(f"{name:22s} mAP50 {acc['map50']:.3f}  mAP50-95 {acc['map50_95']:.3f}  "
              f"detect() {s['end_to_end_ms_p50']:.1f} ms p50")
    for key in ('model_run_default_threads', 'model_run_one_thread'):
        runs = report['speed'][key]
        for name in ('onnxruntime fp32', 'onnxruntime int8'):
            print(f"{name:22s} run() on {runs['threads']} thread(s): "
                  f"{runs[name]['wall_ms_p50']:.1f} ms wall, "
                  f"{runs[name]['cpu_ms_p50']:.1f} ms CPU (p50)")
        print(f"{'':22s} int8 speed-up {runs['int8_speedup_wall']}x wall, "
              f"{runs['int8_speedup_cpu']}x CPU")
    for name, ops in report['speed']['operator_ms_one_thread'].items():
        top = ', '.join(f'{op} {ms:.1f}' for op, ms in list(ops.items())[:5])
        print(f"{name:22s} ms per image by operator (one thread): {top}")
    for case, r in report['node'].items():
        print(f"node {case:30s} latency p50 {r['latency_ms_p50']:.1f} ms "
              f"p95 {r['latency_ms_p95']:.1f} ms"
              f"  sustained {r['sustained_fps']:.1f} fps")
    for kind, rows in report['tracking'].items():
        if isinstance(rows, dict) and 'all' in rows:
            a = rows['all']
            print(f"tracking {kind:10s} IDF1 {a['idf1']:.3f}  ID switches {a['num_switches']}  "
                  f"MOTA {a['mota']:.3f}")
    for g in report['goals']:
        print(f"goal: {g['goal']}: {g['value']} {'MET' if g['met'] else 'MISSED'}")


def plot(report: dict, path: Path) -> None:
    """Accuracy and speed per backend, node latency CDFs, tracking metrics per sequence."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    names = list(report['accuracy'])
    x = np.arange(len(names))
    ax = axes[0, 0]
    ax.bar(x - 0.2, [report['accuracy'][n]['map50'] for n in names], 0.4, label='mAP50')
    ax.bar(x + 0.2, [report['accuracy'][n]['map50_95'] for n in names], 0.4, label='mAP50-95')
    for i, n in enumerate(names):
        ax.text(i + 0.2, report['accuracy'][n]['map50_95'] + 0.01,
                f"{report['accuracy'][n]['map50_95']:.3f}", ha='center', fontsize=8)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"held-out accuracy ({report['accuracy'][names[0]]['images']} rendered images, "
                 f"seed {report['held_out_seed']})")
    ax.legend()

    ax = axes[0, 1]
    default = report['speed']['model_run_default_threads']
    single = report['speed']['model_run_one_thread']
    series = [(f"{n}\ndetect(), p50 {report['speed'][n]['end_to_end_ms_p50']:.0f} ms",
               report['speed'][n]['samples_end_to_end_ms']) for n in names]
    series += [(f"{n.split()[-1]} run()\n{r['threads']} thread(s)\n"
                f"p50 {r[n]['wall_ms_p50']:.1f} ms", r[n]['samples_wall_ms'])
               for r in (default, single) for n in ('onnxruntime fp32', 'onnxruntime int8')]
    ax.boxplot([v for _, v in series], showfliers=False)
    ax.set_xticks(np.arange(1, len(series) + 1), [label for label, _ in series], fontsize=7)
    ax.set_ylabel('ms per image (imgsz 320)')
    ax.set_title(f"speed; int8 vs fp32 ONNX run(): {default['int8_speedup_wall']}x on "
                 f"{default['threads']} threads, {single['int8_speedup_wall']}x on one (wall time)",
                 fontsize=9)

    ax = axes[1, 0]
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for i, (case, r) in enumerate(report['node'].items()):
        values = np.sort(r['samples_latency_ms'])
        if values.size:
            style = '-' if case.endswith('320') else '--'
            ax.step(values, np.arange(1, values.size + 1) / values.size, where='post',
                    linestyle=style, color=colours[i % len(colours)],
                    label=f"{case}: p50 {r['latency_ms_p50']:.0f} ms, {r['sustained_fps']:.1f} fps")
    ax.set_xscale('log')
    ax.set_xlabel('image published -> DetectionArray received (ms)')
    ax.set_ylabel('fraction of frames')
    ax.set_title('detector node latency (one process, real DDS)')
    ax.legend(fontsize=7)

    ax = axes[1, 1]
    kinds = [k for k, v in report['tracking'].items() if isinstance(v, dict) and 'all' in v]
    sequences = list(report['tracking'][kinds[0]]) if kinds else []
    width = 0.8 / max(len(kinds), 1)
    for i, kind in enumerate(kinds):
        values = [report['tracking'][kind][s]['idf1'] for s in sequences]
        ax.bar(np.arange(len(sequences)) + i * width, values, width,
               label=f"{kind} (ID switches {report['tracking'][kind]['all']['num_switches']})")
    ax.axhline(MIN_IDF1, color='grey', linestyle=':', label=f'goal {MIN_IDF1}')
    ax.set_xticks(np.arange(len(sequences)) + width * (len(kinds) - 1) / 2, sequences)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel('IDF1')
    ax.set_title('tracking on rendered sequences (int8 detector; last: ground-truth boxes)')
    ax.legend(fontsize=8, loc='lower left', framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
