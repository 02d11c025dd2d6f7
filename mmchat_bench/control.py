"""Flight control quality against the built-in simulator: hover, step responses, a square, follow.

Every scenario flies the same controller the flight_controller node runs (mmchat_ros.control: the
flight manager, the cascade and the mixer, with the gains of config/sim/flight_controller.yaml)
against the MuJoCo simulator, in its control loop at 200 Hz but without ROS in between
(closed_loop.ClosedLoop), with wind, gusts, sensor noise and a 10 % mass error (DISTURBANCES).
Errors are measured on the simulator's ground truth.

- hover: RMS 3D distance to the hover point over the measuring window (goal <= 2 cm);
- step responses: a raw 1 m step of the position setpoint (no trajectory shaping; the velocity and
  tilt limits act), vertical and lateral: 10-90 % rise time, overshoot (goal <= 10 %), 5 % settling;
- square: a 3 m square of GOTOs at 1.5 m/s: distance between the vehicle and the reference it
  tracks (goal mean <= 10 cm) and distance from the square's edges;
- follow: a person walking at 0.6 m/s, followed at 1.5 m standoff from a 20 Hz stream of its
  position: mean and max |horizontal distance - standoff| once locked on (after 5 s);
- controller loop time: the motor loop (manager + cascade + mixer) per IMU sample, wall and CPU
  time (wall includes preemption by other processes: see the load average in `machine`), and the
  node's whole IMU callback (message in, motor command out) from its /diagnostics in a ROS run.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict
import math
from pathlib import Path
import time
from typing import Any

import numpy as np

from mmchat_bench.results import Goal, goal_text, latency_summary, machine_info, write_json

HELP = 'flight control: hover RMS in wind, step responses, square tracking, follow, loop time'
DEFAULT_HOVER_S = 20.0
FOLLOW_S = 40.0
SQUARE_SPEED_MPS = 1.5
SQUARE_CORNERS = ((1.5, -1.5), (1.5, 1.5), (-1.5, 1.5), (-1.5, -1.5), (1.5, -1.5))
CRUISE_Z = 1.5
STANDOFF_M = 1.5
GOALS = (Goal('hover_rms_m', 0.02), Goal('altitude_step_overshoot', 0.10),
         Goal('lateral_step_overshoot', 0.10), Goal('square_tracking_mean_m', 0.10))


def disturbances():
    """The wind, noise and model error every scenario flies in."""
    from mmchat_ros.simulation import Disturbances
    return Disturbances(wind_mps=(2.0, 1.0, 0.0), gust_std_mps=0.5, gyro_noise_rps=0.01,
                        accel_noise_mps2=0.1, orientation_noise_rad=0.005, position_noise_m=0.005,
                        velocity_noise_mps=0.02, mass_error_fraction=0.1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--seed of the simulator's noise and gusts."""
    parser.add_argument('--seed', type=int, default=0, help='random seed of noise and gusts')


def _loop(seed: int):
    from mmchat_ros.control.closed_loop import ClosedLoop
    loop = ClosedLoop(disturbances=disturbances(), seed=seed)
    loop.run(0.2)
    return loop


def _loop_times(loop) -> dict[str, list[float]]:
    return {'loop_s': loop.trace.loop_s, 'loop_cpu_s': loop.trace.loop_cpu_s}


def _take_off(loop, altitude: float = CRUISE_Z) -> None:
    from mmchat_ros.control.commands import Verb
    outcome = loop.fly(Verb.TAKEOFF, altitude_m=altitude)
    if not outcome.success:
        raise RuntimeError(f'takeoff failed: {outcome.reason}')


def hover(seed: int, window_s: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """RMS error over `window_s` after a 5 s settle."""
    loop = _loop(seed)
    _take_off(loop)
    loop.run(5.0)
    goal = loop.manager.ref.goal.copy()
    start = len(loop.trace.t)
    loop.run(window_s)
    trace = {k: v[start:] for k, v in loop.trace.arrays().items()}
    error = trace['position'] - goal
    axis_rms = np.sqrt((error ** 2).mean(axis=0))
    return ({'hover_rms_m': round(float(np.sqrt((error ** 2).sum(axis=1).mean())), 4),
             'hover_rms_xyz_m': [round(float(v), 4) for v in axis_rms],
             'hover_max_m': round(float(np.linalg.norm(error, axis=1).max()), 4),
             'window_s': window_s},
            {'t': trace['t'] - trace['t'][0], 'error': error, **_loop_times(loop)})


def step_response(seed: int, axis: int, size_m: float = 1.0) -> tuple[dict[str, Any], dict]:
    """A raw step of the position setpoint along `axis`: rise time, overshoot, settling time."""
    loop = _loop(seed)
    _take_off(loop, 1.0)
    loop.run(3.0)
    ref = loop.manager.ref
    before = ref.position.copy()
    target = before.copy()
    target[axis] += size_m
    ref.reset(target, ref.yaw)                   # the setpoint jumps: no trajectory in between
    start = len(loop.trace.t)
    loop.run(8.0)
    t = np.array(loop.trace.t[start:]) - loop.trace.t[start]
    x = (np.array(loop.trace.position[start:])[:, axis] - before[axis]) / size_m
    rise = float(t[np.argmax(x >= 0.9)] - t[np.argmax(x >= 0.1)])
    outside = np.nonzero(np.abs(x - 1.0) > 0.05)[0]
    settle = float(t[outside[-1] + 1]) if outside.size and outside[-1] + 1 < t.size else math.nan
    return ({'rise_time_s': round(rise, 3), 'overshoot': round(max(0.0, float(x.max()) - 1.0), 4),
             'settling_time_5pct_s': round(settle, 3), 'step_m': size_m},
            {'t': t, 'x': x, **_loop_times(loop)})


def _edge_distance(points: np.ndarray) -> np.ndarray:
    """Horizontal distance of each point from the nearest edge of the square."""
    corners = np.array(SQUARE_CORNERS)
    best = np.full(len(points), np.inf)
    for a, b in zip(corners[:-1], corners[1:]):
        d = b - a
        s = np.clip(((points - a) @ d) / (d @ d), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + s[:, None] * d), axis=1))
    return best


def square(seed: int) -> tuple[dict[str, Any], dict]:
    """GOTO the square's corners; tracking error against the reference and the path."""
    from mmchat_ros.control.commands import Verb
    loop = _loop(seed)
    _take_off(loop)
    x0, y0 = SQUARE_CORNERS[0]
    if not loop.fly(Verb.GOTO, x_m=x0, y_m=y0, z_m=CRUISE_Z, speed_mps=SQUARE_SPEED_MPS).success:
        raise RuntimeError('could not reach the first corner')
    start = len(loop.trace.t)
    for x, y in SQUARE_CORNERS[1:]:
        outcome = loop.fly(Verb.GOTO, x_m=x, y_m=y, z_m=CRUISE_Z, speed_mps=SQUARE_SPEED_MPS)
        if not outcome.success:
            raise RuntimeError(f'square corner ({x}, {y}): {outcome.reason}')
    trace = {k: v[start:] for k, v in loop.trace.arrays().items()}
    tracking = np.linalg.norm(trace['position'] - trace['reference'], axis=1)
    path = _edge_distance(trace['position'][:, :2])
    return ({'square_tracking_mean_m': round(float(tracking.mean()), 4),
             'square_tracking_max_m': round(float(tracking.max()), 4),
             'square_path_mean_m': round(float(path.mean()), 4),
             'square_path_max_m': round(float(path.max()), 4),
             'square_altitude_rms_m': round(float(np.sqrt(((trace['position'][:, 2] - CRUISE_Z)
                                                           ** 2).mean())), 4),
             'square_time_s': round(float(trace['t'][-1] - trace['t'][0]), 2),
             'speed_mps': SQUARE_SPEED_MPS, 'side_m': 3.0},
            {'t': trace['t'] - trace['t'][0], 'position': trace['position'],
             'reference': trace['reference'], 'tracking': tracking, **_loop_times(loop)})


def follow(seed: int) -> tuple[dict[str, Any], dict]:
    """Follow the room's first person at STANDOFF_M for FOLLOW_S seconds."""
    from mmchat_ros.control.commands import Verb
    loop = _loop(seed)
    _take_off(loop)
    target_id = loop.sim.targets()[0].target_id

    def feed() -> None:
        for truth in loop.sim.targets():
            loop.manager.update_target(truth.target_id, truth.position_m, loop.t)

    def where() -> np.ndarray:
        return next(t.position_m for t in loop.sim.targets() if t.target_id == target_id)

    feed()
    decision = loop.submit(Verb.FOLLOW_TRACK, track_id=target_id, standoff_m=STANDOFF_M)
    if not decision.accepted:
        raise RuntimeError(f'follow refused: {decision.reason}')
    t, vehicle, target = [], [], []
    steps_per_update = round(0.05 / loop.dt)                  # a 20 Hz target stream
    for step in range(int(FOLLOW_S / loop.dt)):
        if step % steps_per_update == 0:
            feed()
        loop.step()
        t.append(loop.t)
        vehicle.append(loop.sim.truth().position_m[:2].copy())
        target.append(where()[:2].copy())
    if not loop.manager.active_request_id:
        raise RuntimeError(f'the follow ended early: {loop.outcomes[-1].reason}')
    t, vehicle, target = np.array(t) - t[0], np.array(vehicle), np.array(target)
    error = np.abs(np.linalg.norm(vehicle - target, axis=1) - STANDOFF_M)
    locked = t >= 5.0
    return ({'follow_standoff_error_mean_m': round(float(error[locked].mean()), 4),
             'follow_standoff_error_max_m': round(float(error[locked].max()), 4),
             'standoff_m': STANDOFF_M, 'target_speed_mps': 0.6, 'duration_s': FOLLOW_S},
            {'t': t, 'vehicle': vehicle, 'target': target, 'error': error, **_loop_times(loop)})


def node_loop_time(seed: int) -> dict[str, Any]:
    """Take off with the node in the simulator (ROS, in-process) and read its loop diagnostics."""
    from diagnostic_msgs.msg import DiagnosticArray
    from mmchat_ros import graph
    from mmchat_ros.graph_runner import GraphRunner
    from mmchat_ros.mission_api import Drone

    nodes = [s for s in graph.load_profile('sim').nodes if s.name == 'sim']
    nodes.append(graph.NodeSpec('flight_controller', 'flight_controller_node',
                                ('config/sim/flight_controller.yaml',)))
    profile = graph.Profile('control_bench', 'simulator and flight controller', tuple(nodes))
    overrides = {'sim': {'real_time_factor': 0.0, 'seed': seed, 'camera_rate_hz': 1.0,
                         'camera_width': 32, 'camera_height': 24}}
    values: dict[str, str] = {}
    with GraphRunner(profile, overrides) as runner:
        drone = Drone(context=runner.context, executor=runner.executor)
        drone.node.create_subscription(DiagnosticArray, '/diagnostics', lambda m: values.update(
            {v.key: v.value for s in m.status if s.name == '/flight_controller' for v in s.values}),
            10)
        started = time.monotonic()
        drone.takeoff(1.0)                                   # a failed takeoff raises MissionError
        drone.wait(5.0)
        wall = time.monotonic() - started
        drone.close()

    def number(key: str) -> float | None:
        return float(values[key]) if key in values else None

    return {'node_imu_callback_p50_ms': number('control loop latency p50 (ms)'),
            'node_imu_callback_p99_ms': number('control loop latency p99 (ms)'),
            'node_control_rate_hz': number('control loop rate (Hz)'), 'wall_s': round(wall, 1),
            'note': 'one IMU callback: message in, manager + cascade + mixer, MotorCommand out; '
                    'the 1 s window of the last /diagnostics message'}


def plot(path: Path, data: dict[str, dict], numbers: dict[str, Any]) -> None:
    """Eight panels: hover, steps, square, follow, loop time."""
    from mmchat_tools.plots import plt, save
    fig, axes = plt.subplots(2, 4, figsize=(20, 9))
    h = data['hover']
    ax = axes[0, 0]
    ax.plot(h['error'][:, 0] * 100, h['error'][:, 1] * 100, lw=0.5)
    ax.set(title=f"hover in wind: RMS {numbers['hover_rms_m'] * 100:.2f} cm", xlabel='x error (cm)',
           ylabel='y error (cm)', aspect='equal')
    ax = axes[1, 0]
    for i, name in enumerate('xyz'):
        ax.plot(h['t'], h['error'][:, i] * 100, lw=0.6, label=name)
    ax.set(title='hover error over time', xlabel='s', ylabel='cm')
    ax.legend()
    ax = axes[0, 1]
    for key, label in (('altitude_step', 'altitude'), ('lateral_step', 'lateral')):
        s = data[key]
        ax.plot(s['t'], s['x'], label=f"{label}: rise {numbers[key]['rise_time_s']:.2f} s, "
                                     f"overshoot {numbers[key]['overshoot'] * 100:.1f} %")
    for level in (0.1, 0.9, 1.0, 1.1):
        ax.axhline(level, color='grey', lw=0.5, ls='--')
    ax.set(title='1 m raw setpoint steps', xlabel='s', ylabel='fraction of the step', xlim=(0, 5))
    ax.legend(fontsize=8)
    q = data['square']
    ax = axes[0, 2]
    ax.plot(q['reference'][:, 0], q['reference'][:, 1], 'k--', lw=1, label='reference')
    ax.plot(q['position'][:, 0], q['position'][:, 1], lw=1, label='vehicle')
    ax.set(title='square at 1.5 m/s (top view)', xlabel='x (m)', ylabel='y (m)', aspect='equal')
    ax.legend(fontsize=8)
    ax = axes[1, 2]
    ax.plot(q['t'], q['tracking'] * 100, lw=0.7)
    ax.set(title=f"tracking error: mean {numbers['square_tracking_mean_m'] * 100:.1f} cm, "
                 f"max {numbers['square_tracking_max_m'] * 100:.1f} cm", xlabel='s', ylabel='cm')
    f = data['follow']
    ax = axes[0, 3]
    ax.plot(f['target'][:, 0], f['target'][:, 1], 'r', lw=1, label='person')
    ax.plot(f['vehicle'][:, 0], f['vehicle'][:, 1], 'b', lw=1, label='vehicle')
    ax.set(title=f'follow at {STANDOFF_M} m standoff', xlabel='x (m)', ylabel='y (m)',
           aspect='equal')
    ax.legend(fontsize=8)
    ax = axes[1, 3]
    ax.plot(f['t'], f['error'] * 100, lw=0.7)
    ax.set(title=f"standoff error: mean {numbers['follow_standoff_error_mean_m'] * 100:.1f} cm "
                 '(after 5 s)', xlabel='s', ylabel='cm')
    ax = axes[1, 1]
    cpu = numbers['motor_loop_cpu']
    for key, label in (('loop_s', 'wall'), ('loop_cpu_s', 'CPU')):
        loop_ms = np.concatenate([d[key] for d in data.values()]) * 1e3
        ax.hist(loop_ms, bins=np.linspace(0, 1.0, 80), alpha=0.6, label=label)
    ax.set(title=f"motor loop CPU: p50 {cpu['p50_ms']:.2f}, p99 {cpu['p99_ms']:.2f} ms",
           xlabel='ms per IMU sample (0-1 shown)', ylabel='samples')
    ax.legend(fontsize=8)
    save(fig, path)


def run(args: argparse.Namespace) -> int:
    """Run every scenario, print a summary, write bench/results/control.json and control.png."""
    window = args.duration or DEFAULT_HOVER_S
    started = time.monotonic()
    numbers: dict[str, Any] = {}
    data: dict[str, dict] = {}
    numbers_hover, data['hover'] = hover(args.seed, window)
    numbers.update(numbers_hover)
    for key, axis in (('altitude_step', 2), ('lateral_step', 0)):
        numbers[key], data[key] = step_response(args.seed, axis)
        numbers[f'{key}_overshoot'] = numbers[key]['overshoot']
    numbers_square, data['square'] = square(args.seed)
    numbers.update(numbers_square)
    numbers_follow, data['follow'] = follow(args.seed)
    numbers.update(numbers_follow)
    numbers['motor_loop'] = latency_summary(
        np.concatenate([d['loop_s'] for d in data.values()]) * 1e3)
    numbers['motor_loop_cpu'] = latency_summary(
        np.concatenate([d['loop_cpu_s'] for d in data.values()]) * 1e3)
    numbers['node'] = node_loop_time(args.seed)
    goals = [g.check(numbers) for g in GOALS]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(args.out / 'control.png', data, numbers)
    from mmchat_ros.control.closed_loop import ClosedLoop
    config = ClosedLoop(disturbances=disturbances()).config
    document = {'benchmark': 'control', 'machine': machine_info(), 'seed': args.seed,
                'disturbances': asdict(disturbances()), 'gains': asdict(config.gains),
                'results': numbers, 'goals': goals,
                'elapsed_s': round(time.monotonic() - started, 1), 'description': __doc__}
    write_json(args.out / 'control.json', document)
    print(f"hover RMS {numbers['hover_rms_m'] * 100:.2f} cm "
          f"(max {numbers['hover_max_m'] * 100:.1f})")
    for key in ('altitude_step', 'lateral_step'):
        s = numbers[key]
        print(f"{key}: rise {s['rise_time_s']:.2f} s, overshoot {s['overshoot'] * 100:.1f} %, "
              f"settling {s['settling_time_5pct_s']:.2f} s")
    print(f"square: tracking mean {numbers['square_tracking_mean_m'] * 100:.1f} cm, max "
          f"{numbers['square_tracking_max_m'] * 100:.1f} cm; path mean "
          f"{numbers['square_path_mean_m'] * 100:.1f} cm")
    print(f"follow: standoff error mean {numbers['follow_standoff_error_mean_m'] * 100:.1f} cm, "
          f"max {numbers['follow_standoff_error_max_m'] * 100:.1f} cm")
    wall, cpu = numbers['motor_loop'], numbers['motor_loop_cpu']
    print(f"motor loop CPU p50 {cpu['p50_ms']:.3f} ms, p99 {cpu['p99_ms']:.3f} ms (wall p50 "
          f"{wall['p50_ms']:.3f}, p99 {wall['p99_ms']:.3f}); node IMU callback p50 "
          f"{numbers['node']['node_imu_callback_p50_ms']} ms, p99 "
          f"{numbers['node']['node_imu_callback_p99_ms']} ms")
    for goal in goals:
        print(goal_text(goal))
    print(f"wrote {args.out / 'control.json'} and {args.out / 'control.png'}")
    return 0
