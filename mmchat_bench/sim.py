"""Built-in simulator speed: physics and rendering alone, and the `sim` profile's real-time factor.

The real-time factor (sim seconds per wall second) is measured with the simulator running as fast
as it can (`real_time_factor: 0`), the forward camera rendering 320x240 at 20 Hz, on one executor:
the simulator with the flight controller (closed loop, lockstep), and the whole `sim` profile (with
the perception nodes, which process every camera frame). Goal: >= 1.0 on this machine, so the demo
can run locked to real time.
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from rosgraph_msgs.msg import Clock

from mmchat_bench.results import machine_info, write_json
from mmchat_ros import graph, ros_io
from mmchat_tools.plots import plt, save
from mmchat_tools.probe import Probe

HELP = 'simulator speed: physics steps/s, render fps, real-time factor of the sim profile'
DEFAULT_DURATION_S = 20.0          # wall seconds of the profile run
RTF_GOAL = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options beyond --out and --duration."""


def physics_and_render() -> dict[str, Any]:
    """Physics steps per second and render frames per second of the ROS-free core."""
    from mmchat_ros.simulation import Simulator

    share = graph.share_dir()
    sim = Simulator.from_files(share / 'sim/worlds/indoor_room.yaml',
                               share / 'sim/vehicles/quadrotor.yaml')
    sim.set_thrusts([sim.vehicle.hover_thrust_n / 4] * 4, armed=True)
    started = time.perf_counter()
    sim.step(5.0)
    steps_per_s = 5.0 / sim.physics_dt_s / (time.perf_counter() - started)
    fps = {}
    for width, height in ((320, 240), (640, 480)):
        sim.render('forward', width, height)                      # context and textures
        started = time.perf_counter()
        for _ in range(40):
            sim.step(0.05)
            sim.render('forward', width, height)
        fps[f'{width}x{height}'] = round(40 / (time.perf_counter() - started), 1)
    sim.close()
    return {'physics_steps_per_s': round(steps_per_s), 'render_fps': fps}


#: Node sets measured: name -> nodes of the sim profile (None: all of them).
CONFIGURATIONS = {'simulator + flight controller': ('sim', 'flight_controller'),
                  'sim profile': None}


def profile_real_time_factor(duration_s: float, nodes: tuple[str, ...] | None) -> dict[str, Any]:
    """Run `nodes` of the sim profile flat out for `duration_s` wall seconds and compare clocks."""
    from mmchat_ros.graph_runner import GraphRunner

    profile = graph.load_profile('sim')
    if nodes is not None:
        profile = graph.Profile(profile.name, profile.description,
                                tuple(profile.node(name) for name in nodes))
    overrides = {'sim': {'real_time_factor': 0.0, 'camera_width': 320, 'camera_height': 240,
                         'camera_rate_hz': 20.0}}
    with GraphRunner(profile, overrides) as runner:
        clocks = Probe(runner.executor, runner.context, 'rtf_probe').record(
            '/clock', Clock, arrival=time.monotonic)
        runner.spin(3.0)                                           # warm-up: renderer, discovery
        first = len(clocks)
        runner.spin(duration_s)
        window = [(wall, ros_io.seconds(m.clock)) for wall, m in clocks[first:]]
    if len(window) < 2:
        return {'nodes': [s.name for s in profile.nodes], 'real_time_factor': None}
    wall = window[-1][0] - window[0][0]
    simulated = window[-1][1] - window[0][1]
    rtf = simulated / wall
    return {'nodes': [s.name for s in profile.nodes], 'wall_s': round(wall, 2),
            'sim_s': round(simulated, 2), 'real_time_factor': round(rtf, 3),
            'goal': {'key': 'real_time_factor', 'at_least': RTF_GOAL, 'met': rtf >= RTF_GOAL}}


def run(args: argparse.Namespace) -> int:
    """Measure, print, write bench/results/sim.json and sim.png."""
    duration = args.duration or DEFAULT_DURATION_S
    print('[bench sim] physics and rendering ...', flush=True)
    core = physics_and_render()
    print(f"[bench sim] {core['physics_steps_per_s']} physics steps/s, "
          f"render fps {core['render_fps']}")
    runs = {}
    for name, nodes in CONFIGURATIONS.items():
        print(f'[bench sim] {name} flat out for {duration:.0f} s ...', flush=True)
        runs[name] = profile_real_time_factor(duration, nodes)
        rtf = runs[name]['real_time_factor']
        verdict = ('n/a' if rtf is None else
                   f"{rtf:.2f} (goal >= {RTF_GOAL}: {'PASS' if rtf >= RTF_GOAL else 'MISS'})")
        print(f"[bench sim] real-time factor of {runs[name]['nodes']}: {verdict}")
    report = {'machine': machine_info(), 'core': core, 'real_time_factor': runs}
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / 'sim.json', report)
    _plot(report, args.out / 'sim.png')
    print(f"[bench sim] wrote {args.out / 'sim.json'} and {args.out / 'sim.png'}")
    return 0


def _plot(report: dict[str, Any], path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.5))
    fps = report['core']['render_fps']
    left.bar(list(fps), list(fps.values()), color=['tab:blue', 'tab:orange'])
    left.axhline(20.0, color='grey', linestyle='--', label='camera rate 20 Hz')
    left.set_ylabel('frames per second')
    left.set_title('forward camera rendering (CPU, EGL)')
    left.legend()
    runs = report['real_time_factor']
    values = [run['real_time_factor'] or 0.0 for run in runs.values()]
    right.bar([f"{name}\n({', '.join(run['nodes'])})" for name, run in runs.items()], values,
              color=['tab:green', 'tab:olive'])
    right.axhline(RTF_GOAL, color='red', linestyle='--', label=f'goal {RTF_GOAL}')
    right.set_ylabel('sim seconds per wall second')
    right.set_title('real-time factor, camera 320x240 at 20 Hz')
    right.tick_params(axis='x', labelsize=8)
    right.legend()
    save(fig, path)
