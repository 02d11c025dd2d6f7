"""Gesture recognition: held-out accuracy, real photos, latency at 640x480, false triggers.

  static         the committed hand shape model on keypoint.csv's held-out split (the rows
                 training never saw; mmchat_tools.gestures.datasets.split) and on generated hands
                 from a seed training did not use
  dynamic        the committed fingertip path model on point_history.csv's held-out split, on the
                 rows with recorder dropouts (left out of training and of the split) and on
                 generated swipes and still paths
  photos         MediaPipe + shape model on the 60 real photos of ../shared/data/hands: hand found,
                 open-finger count (geometry) and the gesture of 0/1/2/5 fingers (fist, pointing,
                 v_sign, open_palm), for both landmark model complexities
  latency        the robot profile's gesture node in one process (GraphRunner): 640x480 bgr8
                 frames at 30 Hz (each photo held 1 s), frame -> Gesture latency = receive time -
                 header.stamp (player and probe on their own executor thread); the engine alone
                 (MediaPipe + classifiers) per frame is timed in the false-trigger run
  false_triggers the engine on a sequence without deliberate gestures: a test pattern with random
                 flickers (photos of hands shown for 1-8 frames, sometimes several in a row), at a
                 simulated 30 fps; every command request counts. A held fist on the same background
                 is the control (it must give exactly one request).
Writes gesture.json and gesture_*.png (confusion matrices, latency CDF) to --out.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from mmchat_bench.results import Goal, goal_text, latency_summary, machine_info, write_json
from mmchat_ros import graph

HELP = 'gesture recognition: held-out accuracy, real photos, latency at 640x480, false triggers'
DEFAULT_DURATION_S = 20.0            # latency measurement
DEFAULT_FALSE_TRIGGER_S = 60.0       # simulated seconds of the no-gesture sequence
FPS = 30.0
GOALS = (Goal('static_error_pct', 3.0), Goal('dynamic_error_pct', 10.0),
         Goal('latency_p50_ms', 30.0), Goal('false_trigger_commands', 0))
ROBOT_CONFIG = 'config/robot/gesture.yaml'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m mmchat_bench gesture`."""
    parser.add_argument('--data', type=Path, default=graph.share_dir().parent / 'shared' / 'data',
                        help='the shared data folder (hand_keypoints/, hands/)')
    parser.add_argument('--false-trigger-s', type=float, default=DEFAULT_FALSE_TRIGGER_S,
                        help='simulated seconds of the no-gesture sequence (default '
                        f'{DEFAULT_FALSE_TRIGGER_S:g})')


def run(args: argparse.Namespace) -> int:
    """Run every part; write gesture.json and the PNGs."""
    from mmchat_tools.gestures import datasets

    if not (args.data / 'hand_keypoints').is_dir() or not (args.data / 'hands').is_dir():
        print(f'[gesture] data folder {args.data} lacks hand_keypoints/ or hands/', file=sys.stderr)
        return 1
    info = machine_info()
    models = load_models()
    photos = datasets.load_hand_photos(args.data / 'hands')
    print('[gesture] static and dynamic held-out accuracy', flush=True)
    static = evaluate_static(models, args.data / 'hand_keypoints')
    dynamic = evaluate_dynamic(models, args.data / 'hand_keypoints')
    print('[gesture] real photos', flush=True)
    photo_results = {f'model_complexity_{c}': evaluate_photos(models, photos, c) for c in (0, 1)}
    print('[gesture] false triggers', flush=True)
    false_triggers = count_false_triggers(models, photos, args.false_trigger_s)
    print('[gesture] frame -> gesture latency through the node', flush=True)
    latency = measure_node_latency(photos, args.duration or DEFAULT_DURATION_S)
    numbers = {'static_error_pct': static['error_pct'], 'dynamic_error_pct': dynamic['error_pct'],
               'latency_p50_ms': latency['frame_to_gesture']['p50_ms'],
               'false_trigger_commands': false_triggers['commands']}
    goals = [goal.check(numbers) for goal in GOALS]
    report = {'benchmark': 'gesture', 'machine': info, 'robot_config': load_robot_config(),
              'numbers': numbers, 'goals': goals, 'all_goals_met': all(g['met'] for g in goals),
              'static': static, 'dynamic': dynamic, 'photos': photo_results,
              'latency': latency, 'false_triggers': false_triggers}
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / 'gesture.json', _without_samples(report))
    plot_confusions(report, args.out)
    plot_latency(latency, args.out / 'gesture_latency.png')
    print('[gesture] ' + '; '.join(goal_text(g) for g in goals))
    print(f"[gesture] wrote {args.out / 'gesture.json'} and gesture_*.png")
    return 0


# --- models and data ----------------------------------------------------------------------------

def load_robot_config() -> dict[str, Any]:
    """The gesture node's parameters of the robot profile."""
    import yaml
    document = yaml.safe_load((graph.share_dir() / ROBOT_CONFIG).read_text())
    return document['gesture']['ros__parameters']


def load_models() -> dict[str, Any]:
    """The committed classifiers and the mapping the robot profile uses."""
    from mmchat_ros.gestures.dynamic_gestures import DynamicGestureClassifier
    from mmchat_ros.gestures.mapping import GestureMapping
    from mmchat_ros.gestures.model_files import resolve
    from mmchat_ros.gestures.static_gestures import StaticGestureClassifier

    share, config = graph.share_dir(), load_robot_config()
    return {'shapes': StaticGestureClassifier.from_file(resolve(config['static_model'], share)),
            'paths': DynamicGestureClassifier.from_file(resolve(config['dynamic_model'], share)),
            'mapping': GestureMapping.from_yaml(resolve(config['mapping_file'], share))}


def crosstab(truth: np.ndarray, predicted: np.ndarray, rows: list[str],
             columns: list[str]) -> dict[str, Any]:
    """Counts of (truth, prediction) pairs: rows truth, columns prediction."""
    matrix = [[int(np.sum((truth == r) & (predicted == c))) for c in columns] for r in rows]
    return {'count': int(len(truth)), 'rows': rows, 'columns': columns, 'matrix': matrix}


def confusion(truth: np.ndarray, predicted: np.ndarray, rows: list[str],
              columns: list[str]) -> dict[str, Any]:
    """A crosstab of labels with the same names, with accuracy and error in percent."""
    accuracy = float(np.mean(truth == predicted))
    return {**crosstab(truth, predicted, rows, columns), 'accuracy': round(accuracy, 4),
            'error_pct': round(100 * (1 - accuracy), 2)}


def evaluate_static(models: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The shape model on keypoint.csv's held-out split and on generated hands."""
    from mmchat_ros.gestures.static_gestures import LABELS
    from mmchat_tools.gestures import datasets, synthetic_hands

    _, test = datasets.split(datasets.load_keypoints(folder))
    predicted, _ = models['shapes'].classify_many(test.samples)
    real_rows = sorted(set(test.labels), key=LABELS.index)
    held_out = confusion(test.labels, predicted, real_rows, list(LABELS))
    generated = datasets.Labelled(*synthetic_hands.sample_dataset(300, seed=2))
    predicted_generated, _ = models['shapes'].classify_many(generated.samples)
    return {**held_out, 'generated': confusion(generated.labels, predicted_generated,
                                               list(LABELS), list(LABELS))}


def evaluate_dynamic(models: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The path model on point_history.csv's held-out split, its dropout rows, generated paths."""
    from mmchat_ros.gestures.dynamic_gestures import LABELS
    from mmchat_tools.gestures import datasets, synthetic_paths

    _, test = datasets.split(datasets.load_point_history(folder))
    everything = datasets.load_point_history(folder, drop_dropouts=False)
    dropouts = everything.subset(datasets.has_dropout(everything.samples))
    generated = datasets.Labelled(*synthetic_paths.sample_paths(300, seed=2))
    parts = {}
    for name, data in (('held_out', test), ('dropout_rows', dropouts), ('generated', generated)):
        predicted, _ = models['paths'].classify_many(data.samples)
        rows = sorted(set(data.labels), key=LABELS.index)
        parts[name] = confusion(data.labels, predicted, rows, list(LABELS))
    return {**parts.pop('held_out'), **parts}


# --- real photos -------------------------------------------------------------------------------

def evaluate_photos(models: dict[str, Any], photos: list, complexity: int) -> dict[str, Any]:
    """Hands found, open-finger counts and gestures of the real photos."""
    import cv2
    from mmchat_ros.gestures.features import extended_fingers
    from mmchat_ros.gestures.mediapipe_hands import DetectorSettings, HandDetector
    from mmchat_ros.gestures.static_gestures import LABELS
    from mmchat_tools.gestures import datasets

    detector = HandDetector(DetectorSettings(static_image_mode=True, model_complexity=complexity,
                                             max_num_hands=2, min_detection_confidence=0.5))
    truth, counts, labels = [], [], []
    for photo in tqdm(photos, desc=f'photos, complexity {complexity}', unit='photo',
                      file=sys.stderr):
        hands = detector.detect(cv2.imread(str(photo.path)))
        truth.append(photo.open_fingers)
        if hands:
            counts.append(str(int(extended_fingers(hands[0].pixels()).sum())))
            labels.append(models['shapes'].classify(hands[0].pixels()).label)
        else:
            counts.append('no hand')
            labels.append('no hand')
    detector.close()
    truth_text = np.array([str(t) for t in truth])
    counts, labels = np.array(counts), np.array(labels)
    found = labels != 'no hand'
    finger_rows = [str(n) for n in range(6)]
    gesture_rows = [n for n in finger_rows if int(n) in datasets.PHOTO_GESTURES]
    expected = np.array([datasets.PHOTO_GESTURES.get(int(t), '') for t in truth_text])
    scored = np.isin(truth_text, gesture_rows)
    return {
        'photos': len(photos), 'hands_found': int(found.sum()),
        'open_finger_count': confusion(truth_text[found], counts[found], finger_rows,
                                       finger_rows),
        'gesture_all_photos': confusion(expected[scored], labels[scored],
                                        [datasets.PHOTO_GESTURES[int(n)] for n in gesture_rows],
                                        list(LABELS) + ['no hand']),
        'gesture_hand_found': confusion(expected[scored & found], labels[scored & found],
                                        [datasets.PHOTO_GESTURES[int(n)] for n in gesture_rows],
                                        list(LABELS)),
        'labels_by_finger_count': crosstab(truth_text, labels, finger_rows,
                                           list(LABELS) + ['no hand'])}


# --- false triggers ----------------------------------------------------------------------------

def _engine(models: dict[str, Any]):
    from mmchat_ros.gestures.mediapipe_hands import DetectorSettings, HandDetector
    from mmchat_ros.gestures.pipeline import GesturePipeline, PipelineSettings

    config = load_robot_config()
    detector = HandDetector(DetectorSettings(
        model_complexity=config['model_complexity'], max_num_hands=config['max_hands'] + 1,
        min_detection_confidence=config['min_detection_confidence'],
        min_tracking_confidence=config['min_tracking_confidence'],
        image_mirrored=config['image_mirrored']))
    settings = PipelineSettings(max_hands=config['max_hands'], **{k: config[k] for k in (
        'static_min_confidence', 'dynamic_min_confidence', 'static_hold_s', 'dynamic_hold_s',
        'max_gap_s', 'path_window_s', 'image_mirrored')})
    return GesturePipeline(detector, models['shapes'], models['paths'], models['mapping'], settings)


def flicker_sequence(photos: list, seconds: float, seed: int = 0) -> list[tuple[int, int]]:
    """(frame index, photo index or -1 for background) pairs of a flickering hand sequence.

    A hand flashes up every 0.5-2 s for 1-8 frames (under the 0.5 s hold), a third of the time
    followed by up to two other hands.
    """
    rng = np.random.default_rng(seed)
    total = int(seconds * FPS)
    shown = np.full(total, -1)
    frame = int(rng.integers(15, 60))
    while frame < total:
        for _ in range(1 + (rng.integers(1, 3) if rng.random() < 1 / 3 else 0)):
            length = int(rng.integers(1, 9))
            shown[frame:frame + length] = rng.integers(len(photos))
            frame += length
        frame += int(rng.integers(15, 60))
    return list(enumerate(shown.tolist()))


def count_false_triggers(models: dict[str, Any], photos: list, seconds: float) -> dict[str, Any]:
    """Command requests on the flicker sequence, the held-fist control, and engine timing."""
    import cv2
    from mmchat_tools.synthetic_media import numbered_frame

    images = [cv2.resize(cv2.imread(str(p.path)), (640, 480)) for p in photos]
    engine = _engine(models)
    sequence = flicker_sequence(photos, seconds)
    requests, timings = [], {'with_hand_ms': [], 'without_hand_ms': []}
    for index, shown in tqdm(sequence, desc='no-gesture sequence', unit='frame', file=sys.stderr):
        frame = images[shown] if shown >= 0 else numbered_frame(index, 640, 480)
        started = time.perf_counter()
        result = engine.process(frame, index / FPS)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        timings['with_hand_ms' if result.hands else 'without_hand_ms'].append(elapsed_ms)
        if result.request:
            requests.append({'frame': index, 'gesture': result.request_gesture,
                             'verb': result.request.verb_name})
    fist = next(i for i, p in enumerate(photos) if p.open_fingers == 0)
    control = []
    for index in range(int(2 * FPS)):                       # 0.5 s background, 1 s fist, 0.5 s
        shown = fist if FPS // 2 <= index < FPS * 1.5 else -1
        frame = images[shown] if shown >= 0 else numbered_frame(index, 640, 480)
        result = engine.process(frame, 10_000 + index / FPS)
        control += [result.request.verb_name] if result.request else []
    engine.detector.close()
    flicker_frames = sum(1 for _, shown in sequence if shown >= 0)
    return {'simulated_s': seconds, 'frames': len(sequence), 'frames_with_a_photo': flicker_frames,
            'commands': len(requests), 'requests': requests, 'control_held_fist_requests': control,
            'engine_ms': {k: latency_summary(v) for k, v in timings.items()}}


# --- latency through the node ------------------------------------------------------------------

def measure_node_latency(photos: list, duration_s: float) -> dict[str, Any]:
    """Latency of the robot profile's gesture node on the runner's executor.

    A 30 Hz frame player and the probe run on a second executor in a thread, so neither waits for
    the node's callbacks.
    """
    import threading

    import cv2
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from mmchat_ros import ros_io
    from mmchat_ros.graph_runner import GraphRunner
    from mmchat_ros.msg import Gesture
    from mmchat_tools.probe import Probe

    robot = graph.load_profile('robot')
    profile = graph.Profile('gesture_latency', 'gesture node of the robot profile',
                            (robot.node('gesture'),), robot.external_topics)
    images = [cv2.resize(cv2.imread(str(p.path)), (640, 480)) for p in photos]
    published, latencies = [0], []

    with GraphRunner(profile) as runner:
        side = SingleThreadedExecutor(context=runner.context)      # the camera's own thread
        node = Probe(side, runner.context, 'gesture_latency_probe')
        publisher = node.publisher('/camera/image_raw', Image, ros_io.SENSOR_QOS)

        def play() -> None:
            frame = images[(published[0] // int(FPS)) % len(images)]
            header = Header(stamp=node.get_clock().now().to_msg(), frame_id='camera_optical_frame')
            publisher.publish(ros_io.image_msg(frame, 'bgr8', header))
            published[0] += 1

        def received(msg: Gesture) -> None:
            now = node.get_clock().now().nanoseconds * 1e-9
            latencies.append((now - ros_io.seconds(msg.header.stamp)) * 1e3)

        node.create_timer(1 / FPS, play)
        node.create_subscription(Gesture, '/gesture/gestures', received, 10)
        thread = threading.Thread(target=side.spin, daemon=True)
        thread.start()
        try:
            if not runner.spin(60.0, until=lambda: latencies):
                return {'error': 'no Gesture within 60 s', 'frame_to_gesture': latency_summary([])}
            latencies.clear()
            start_published = published[0]
            deadline = time.monotonic() + duration_s
            with tqdm(total=duration_s, desc='latency', unit='s', file=sys.stderr,
                      bar_format='{desc}: {bar:30} {n:.0f}/{total:.0f} s') as bar:
                while (remaining := deadline - time.monotonic()) > 0:
                    runner.spin(min(1.0, remaining))
                    bar.update(min(1.0, remaining))
            frames, received_ms = published[0] - start_published, list(latencies)
        finally:
            side.shutdown()
            thread.join(timeout=5.0)
            node.close()
    return {'frames_published': frames, 'gestures_received': len(received_ms),
            'frame_size': '640x480 bgr8', 'rate_hz': FPS,
            'frame_to_gesture': latency_summary(received_ms), 'samples_ms': received_ms}


# --- report ------------------------------------------------------------------------------------

def _without_samples(report: dict[str, Any]) -> dict[str, Any]:
    latency = {k: v for k, v in report['latency'].items() if k != 'samples_ms'}
    return {**report, 'latency': latency}


def _matrix(ax, part: dict[str, Any], title: str, note: str = '') -> None:
    matrix = np.array(part['matrix'], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap='Blues', vmin=0, vmax=1, aspect='auto')
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            ax.text(j, i, f'{value:.0f}', ha='center', va='center', fontsize=8,
                    color='white' if shares[i, j] > 0.5 else 'black')
    ax.set_xticks(range(len(part['columns'])), part['columns'], rotation=45, ha='right',
                  fontsize=8)
    ax.set_yticks(range(len(part['rows'])), part['rows'], fontsize=8)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    if 'accuracy' in part:
        note = f"accuracy {100 * part['accuracy']:.1f} %"
    ax.set_title(f"{title}\n{part['count']} samples, {note}", fontsize=9)


def plot_confusions(report: dict[str, Any], out: Path) -> None:
    """gesture_static.png, gesture_dynamic.png, gesture_photos.png."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    static, dynamic = report['static'], report['dynamic']
    photos = report['photos']['model_complexity_0']
    figures = {
        'gesture_static.png': [(static, 'keypoint.csv held-out split'),
                               (static['generated'], 'generated hands (unseen seed)')],
        'gesture_dynamic.png': [(dynamic, 'point_history.csv held-out split'),
                                (dynamic['dropout_rows'], 'rows with recorder dropouts'),
                                (dynamic['generated'], 'generated swipes / still')],
        'gesture_photos.png': [(photos['labels_by_finger_count'], 'real photos: open fingers -> '
                                'shape (complexity 0)'),
                               (photos['open_finger_count'], 'open-finger count (geometry)')]}
    gestures = photos['gesture_all_photos']
    notes = {id(photos['labels_by_finger_count']): f"0/1/2/5 fingers -> fist/pointing/v_sign/"
             f"open_palm: {100 * gestures['accuracy']:.1f} % of {gestures['count']}"}
    for name, parts in figures.items():
        fig, axes = plt.subplots(1, len(parts), figsize=(5.5 * len(parts), 4.8))
        for ax, (part, title) in zip(np.atleast_1d(axes), parts):
            _matrix(ax, part, title, notes.get(id(part), ''))
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)


def plot_latency(latency: dict[str, Any], path: Path) -> None:
    """CDF of the frame -> Gesture latency."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    samples = np.sort(np.asarray(latency.get('samples_ms', []), dtype=float))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if samples.size:
        ax.step(samples, np.arange(1, samples.size + 1) / samples.size, where='post')
        summary = latency['frame_to_gesture']
        ax.axvline(30.0, color='red', linestyle=':', label='goal p50 30 ms')
        ax.set_title(f"gesture node, 640x480 at {latency['rate_hz']:g} Hz: p50 "
                     f"{summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, "
                     f"{latency['gestures_received']} gestures / {latency['frames_published']} "
                     'frames', fontsize=9)
        ax.legend(loc='lower right')
    ax.set_xlabel('receive time - image header.stamp (ms)')
    ax.set_ylabel('fraction of gestures')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
