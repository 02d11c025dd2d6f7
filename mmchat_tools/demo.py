"""`mmchat demo` (`make demo`): the simulated mission. Take off, fly a square, land, camera on.

Runs the `sim` profile in one process (simulator, flight controller and the perception nodes of the
profile), locked to real time by default, flies the mission through the mission API, and writes to
demo_output/: demo.mcap (the recorded topics), summary.json (each step's result, tracking errors,
what the perception nodes saw), trajectory.png (top view and altitude) and frames.png (camera
frames).
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
from pathlib import Path
import time

import numpy as np
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.parameter import Parameter

from mmchat_ros import graph, image_codec, ros_io
from mmchat_ros.graph_runner import GraphRunner
from mmchat_ros.mcap_recorder import read_messages
from mmchat_ros.mission_api import Drone, MissionError, Step
from mmchat_ros.msg import Command

ALTITUDE_M = 1.5
SQUARE_M = 2.0
SPEED_MPS = 1.0
SQUARE_CORNERS = [(SQUARE_M, 0.0), (SQUARE_M, SQUARE_M), (0.0, SQUARE_M), (0.0, 0.0)]
RECORDED_TOPICS = ['/camera/image_raw', '/camera/camera_info', '/sim/odom', '/sim/targets',
                   '/vehicle/state', '/command_results', '/battery', '/diagnostics', '/rosout',
                   '/detections', '/detections/image_annotated', '/slam/pose', '/slam/state']
#: Perception nodes that can summarise what they saw in a recording:
#: name -> (module, function(mcap_path) -> dict). Missing modules are skipped.
PERCEPTION_SUMMARIES = {'detection': ('mmchat_ros.detection_summary', 'summarise_detections')}


class TruthLogger(Node):
    """Keeps the simulator's ground-truth trajectory (sim time, position)."""

    def __init__(self, context) -> None:
        super().__init__('demo_truth', context=context,
                         parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.samples: list[tuple[float, float, float, float]] = []
        self.create_subscription(Odometry, '/sim/odom', self._on_odom, 10)

    def _on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose.position
        self.samples.append((ros_io.seconds(msg.header.stamp), p.x, p.y, p.z))


def square_mission(drone: Drone) -> None:
    """Take off, fly the square corner by corner, land. A failed step raises MissionError."""
    drone.takeoff(ALTITUDE_M)
    for x, y in SQUARE_CORNERS:
        drone.go_to(x, y, ALTITUDE_M, speed=SPEED_MPS)
    drone.land()


class StepLog:
    """Listens to the mission's steps: result, simulated start and end, the straight leg flown."""

    def __init__(self, truth: TruthLogger, sim_start_s: float) -> None:
        self.truth, self.sim_start_s = truth, sim_start_s
        self.steps: list[dict] = []
        self._started_s = sim_start_s
        self._previous = (0.0, 0.0, ALTITUDE_M)       # above home: where the first leg starts

    def __call__(self, step: Step) -> None:
        now_s = self.truth.samples[-1][0]
        if step.result is None:
            self._started_s = now_s
            return
        name, leg, command = step.name, None, step.command
        if command.verb == Command.GOTO:
            corner = (command.x_m, command.y_m, command.z_m)
            name, leg, self._previous = f'go_to {corner[:2]}', (self._previous, corner), corner
        self.steps.append({'step': name, 'success': step.result.success,
                           'reason': step.result.reason,
                           'sim_start_s': round(self._started_s - self.sim_start_s, 2),
                           'sim_end_s': round(now_s - self.sim_start_s, 2), 'leg': leg})
        print(f"[demo] {name:22s} {'ok ' if step.result.success else 'FAILED'} "
              f'{step.result.reason}', flush=True)


def fly(out: Path, real_time: bool) -> dict:
    """Run the mission in the sim profile, recording; return the summary (also written to disk)."""
    out.mkdir(parents=True, exist_ok=True)
    recording = out / 'demo.mcap'
    overrides = {'sim': {'real_time_factor': 1.0 if real_time else 0.0}}
    profile = graph.load_profile('sim')
    with GraphRunner(profile, overrides, record_path=recording,
                     record_topics=RECORDED_TOPICS) as runner:
        truth = TruthLogger(runner.context)
        runner.add_node(truth)
        drone = Drone(executor=runner.executor, context=runner.context)
        print(f"[demo] sim profile: {', '.join(s.name for s in profile.nodes)}; "
              f"{'real time' if real_time else 'as fast as possible'}; recording to {recording}",
              flush=True)
        if not drone.wait_until_ready(60.0):
            raise RuntimeError('the flight controller reported no state within 60 s')
        wall_start, sim_start = time.monotonic(), truth.samples[-1][0]
        log = StepLog(truth, sim_start)
        drone.add_step_listener(log)
        try:
            square_mission(drone)
        except MissionError as error:
            print(f'[demo] mission stopped: {error}', flush=True)
        steps_report = log.steps
        drone.wait(1.0)
        wall = time.monotonic() - wall_start
        simulated = truth.samples[-1][0] - sim_start
        trajectory = np.array(truth.samples)
    trajectory[:, 0] -= sim_start
    summary = {'mission': steps_report,
               'mission_succeeded': (all(s['success'] for s in steps_report)
                                     and len(steps_report) == 6),
               'real_time_factor': round(simulated / wall, 3),
               'tracking': tracking_errors(trajectory, steps_report),
               'final_position_m': [round(v, 3) for v in trajectory[-1, 1:]],
               'recording': recording_summary(recording),
               'perception': perception_summaries(recording)}
    summary['plots'] = [str(plot_trajectory(trajectory, steps_report, out / 'trajectory.png')),
                        str(plot_frames(recording, out / 'frames.png'))]
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    return summary


def tracking_errors(trajectory: np.ndarray, steps: list[dict]) -> dict:
    """Distance of the flown path from each straight leg, while that leg was flown."""
    errors = []
    for step in steps:
        if step['leg'] is None:
            continue
        start, end = (np.array(p) for p in step['leg'])
        during = trajectory[(trajectory[:, 0] >= step['sim_start_s'])
                            & (trajectory[:, 0] <= step['sim_end_s'])]
        direction = (end - start) / np.linalg.norm(end - start)
        offsets = during[:, 1:] - start
        along = np.clip(offsets @ direction, 0.0, np.linalg.norm(end - start))
        errors.extend(np.linalg.norm(offsets - np.outer(along, direction), axis=1))
    if not errors:
        return {}
    return {'mean_m': round(float(np.mean(errors)), 4), 'max_m': round(float(np.max(errors)), 4),
            'samples': len(errors)}


def recording_summary(recording: Path) -> dict:
    """Message count and rate of every recorded topic."""
    times: dict[str, list[int]] = {}
    for topic, log_time, _ in read_messages(recording):
        times.setdefault(topic, []).append(log_time)
    report = {}
    for topic, stamps in sorted(times.items()):
        span = (stamps[-1] - stamps[0]) * 1e-9
        report[topic] = {'messages': len(stamps),
                         'rate_hz': round((len(stamps) - 1) / span, 2) if span > 0 else None}
    return report


def perception_summaries(recording: Path) -> dict:
    """What each perception node with a summariser saw (see PERCEPTION_SUMMARIES)."""
    found = {}
    for name, (module_name, function) in PERCEPTION_SUMMARIES.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        found[name] = getattr(module, function)(recording)
    return found


def plot_trajectory(trajectory: np.ndarray, steps: list[dict], path: Path) -> Path:
    """Top view of the flown path against the planned square, and altitude over time."""
    from mmchat_tools.plots import plt, save

    fig, (top, side) = plt.subplots(1, 2, figsize=(12, 5))
    legs = [s['leg'] for s in steps if s['leg']]
    planned = np.array([legs[0][0]] + [leg[1] for leg in legs]) if legs else np.zeros((0, 3))
    top.plot(planned[:, 0], planned[:, 1], 'k--', label='planned square')
    top.plot(trajectory[:, 1], trajectory[:, 2], color='tab:blue', label='flown (ground truth)')
    top.set_aspect('equal')
    top.set_xlabel('x (m, east)')
    top.set_ylabel('y (m, north)')
    top.legend()
    top.set_title('top view, odom frame')
    side.plot(trajectory[:, 0], trajectory[:, 3], color='tab:green')
    for step in steps:
        side.axvline(step['sim_start_s'], color='grey', linewidth=0.6)
        side.annotate(step['step'], (step['sim_start_s'], ALTITUDE_M + 0.15), rotation=90,
                      fontsize=7)
    side.set_xlabel('sim time (s)')
    side.set_ylabel('altitude (m)')
    side.set_title('altitude')
    save(fig, path)
    return path


def plot_frames(recording: Path, path: Path, count: int = 8) -> Path:
    """A contact sheet of camera frames from the recording (annotated ones when there are)."""
    from mmchat_tools.plots import plt, save

    images = {'/camera/image_raw': [], '/detections/image_annotated': []}
    for topic, _, message in read_messages(recording, topics=list(images)):
        images[topic].append(message)
    frames = images['/detections/image_annotated'] or images['/camera/image_raw']
    fig, axes = plt.subplots(2, (count + 1) // 2, figsize=(14, 5), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    shown = np.linspace(0, len(frames) - 1, min(count, len(frames))).astype(int)
    for ax, i in zip(axes.flat, shown):
        message = frames[i]
        pixels = image_codec.decode(message)
        ax.imshow(pixels[:, :, ::-1] if message.encoding == 'bgr8' else pixels)
        ax.set_title(f't = {ros_io.seconds(message.header.stamp):.1f} s', fontsize=8)
    source = 'annotated detections' if images['/detections/image_annotated'] else 'camera'
    fig.suptitle(f'{len(frames)} frames recorded ({source})')
    save(fig, path)
    return path


HELP = 'fly the simulated mission and write its recording, summary and plots'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `mmchat demo` (`make demo DEMO_ARGS=...`)."""
    parser.add_argument('--out', type=Path, default=Path('demo_output'),
                        help='folder for the results (default: demo_output)')
    parser.add_argument('--fast', action='store_true',
                        help='run the simulation as fast as possible')


def run(args: argparse.Namespace) -> int:
    """Fly the mission; 0 when it succeeded."""
    summary = fly(args.out, real_time=not args.fast)
    tracking = summary['tracking']
    print(f"[demo] mission {'succeeded' if summary['mission_succeeded'] else 'FAILED'}; "
          f"square tracking error mean {tracking.get('mean_m', math.nan):.3f} m, "
          f"max {tracking.get('max_m', math.nan):.3f} m; "
          f"real-time factor {summary['real_time_factor']}")
    for name, seen in summary['perception'].items():
        print(f'[demo] {name}: {json.dumps(seen)[:300]}')
    plots = ', '.join(Path(p).name for p in summary['plots'])
    print(f'[demo] results in {args.out}/: summary.json, demo.mcap, {plots}')
    return 0 if summary['mission_succeeded'] else 1
