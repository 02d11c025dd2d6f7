"""Camera image transport: latency, loss and CPU of 640x480 bgr8 frames at 30 Hz.

Each case runs in a fresh worker process (`--worker CASE`) on its own ROS domain; CASES below
lists them. In-process: the camera node of the `replay` profile, switched to its test pattern, and
a latency probe on one executor (GraphRunner).
Cross-process: the camera in a child process (`mmchat_ros.bringup run`), the probe in the worker,
both with the case's environment (Fast DDS transports, discovery range).

Latency = probe receive time - header.stamp (the camera's capture time; both system clock).
Frames published are read from the camera's /diagnostics ('image_raw total'); the measuring window
runs from one camera diagnostics message to another, so published and received frames are counted
over exactly the same frames.
"""
from __future__ import annotations

import argparse
from contextlib import ExitStack
from dataclasses import dataclass
import json
import os
from pathlib import Path
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any, Callable

from builtin_interfaces.msg import Time as TimeMsg
from diagnostic_msgs.msg import DiagnosticArray
import psutil
from sensor_msgs.msg import Image
from tqdm import tqdm

from mmchat_bench import processes
from mmchat_bench.results import Goal, goal_text, latency_summary, machine_info, write_json
from mmchat_ros import graph
from mmchat_ros.graph_runner import GraphRunner
from mmchat_ros.ros_io import SENSOR_QOS
from mmchat_tools.probe import Probe

HELP = 'camera image latency, loss and CPU: one process vs two, Fast DDS transports'

TOPIC = '/camera/image_raw'
CAMERA_PROFILE = 'replay'                  # a profile whose node 'camera' is the camera_node
CAMERA = {'source': 'test_pattern', 'width': 640, 'height': 480, 'fps': 30.0, 'encoding': 'bgr8'}
CAMERA_STATUS = '/camera'                  # the camera node's DiagnosticStatus.name
PUBLISHED_KEY = 'image_raw total'          # its count of published images
DEFAULT_DURATION_S = 20.0
DEFAULT_WARMUP_S = 2.0
FIRST_FRAME_TIMEOUT_S = 30.0
DIAGNOSTICS_TIMEOUT_S = 5.0
STRAGGLERS_S = 0.5                         # keep receiving after the window for frames in flight
WORKER_MARGIN_S = 90.0                     # worker time limit beyond warm-up + duration


#: Environment variables the cases control; inherited values of these are dropped.
CONTROLLED_ENV = ('FASTDDS_BUILTIN_TRANSPORTS', 'FASTDDS_DEFAULT_PROFILES_FILE',
                  'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_LOCALHOST_ONLY')
#: Every case keeps DDS on this machine (discovery LOCALHOST). rmw_fastrtps then replaces Fast DDS's
#: builtin transports (so FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA is ignored) with shared memory of
#: 0.5 MB segments, too small for 640x480 frames; a participant profile with larger segments fixes
#: it.
LOCALHOST = ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
SHM_PROFILE = ('FASTDDS_DEFAULT_PROFILES_FILE',
               str(graph.share_dir() / 'config' / 'fastdds' / 'shm_large_images.xml'))
IN_PROCESS_GOALS = (Goal('p50_ms', 2.0), Goal('p99_ms', 10.0), Goal('loss_pct', 0.0))
CROSS_PROCESS_GOALS = (Goal('p50_ms', 5.0), Goal('loss_pct', 0.0))   # latency alone hides loss


@dataclass(frozen=True)
class Case:
    """One way of connecting the camera to the probe, and the environment of both."""

    name: str
    title: str
    cross_process: bool
    settings: tuple[tuple[str, str], ...]
    goals: tuple[Goal, ...]


CASES: dict[str, Case] = {case.name: case for case in (
    Case('in-process', 'one process, camera + probe on one executor', False,
         (LOCALHOST,), IN_PROCESS_GOALS),
    Case('cross-process-shm-profile', 'two processes, shared memory with 16 MB segments '
         '(config/fastdds/shm_large_images.xml)', True, (LOCALHOST, SHM_PROFILE),
         CROSS_PROCESS_GOALS),
    Case('cross-process-default', 'two processes, rmw_fastrtps defaults for LOCALHOST', True,
         (LOCALHOST,), CROSS_PROCESS_GOALS),
)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m mmchat_bench transport`."""
    parser.add_argument('--cases', nargs='+', choices=list(CASES), default=list(CASES),
                        metavar='CASE', help=f"cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument('--warmup', type=float, default=DEFAULT_WARMUP_S,
                        help=f'seconds received before measuring (default {DEFAULT_WARMUP_S:g})')
    parser.add_argument('--worker', choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument('--worker-out', type=Path, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Measure the chosen cases, one worker process each; write transport.json and transport.png."""
    duration_s = args.duration or DEFAULT_DURATION_S
    if args.worker:
        return _worker(CASES[args.worker], duration_s, args.warmup, args.worker_out)
    info = machine_info()
    results = []
    for index, name in enumerate(args.cases, 1):
        case = CASES[name]
        print(f'[transport] case {index}/{len(args.cases)} {name}: {case.title}', flush=True)
        results.append(_run_case(case, duration_s, args.warmup))
    report = {'benchmark': 'transport', 'machine': info, 'camera': CAMERA, 'topic': TOPIC,
              'duration_s': duration_s, 'warmup_s': args.warmup, 'cases': results}
    write_json(args.out / 'transport.json', report)
    _plot(report, args.out / 'transport.png')
    _print_summary(results)
    print(f"[transport] wrote {args.out / 'transport.json'} and {args.out / 'transport.png'}")
    return 1 if any('error' in r for r in results) else 0


# --- orchestrator side (never initialises ROS) -------------------------------------------------

def case_environment(case: Case, domain_id: int) -> dict[str, str]:
    """The environment of a case's processes: this one's, on its own ROS domain, its settings."""
    env = {k: v for k, v in os.environ.items() if k not in CONTROLLED_ENV}
    return {**env, 'ROS_DOMAIN_ID': str(domain_id), **dict(case.settings)}


def _run_case(case: Case, duration_s: float, warmup_s: float) -> dict[str, Any]:
    """Run one case's worker; its numbers with latency summary and goals, or {'error': ...}."""
    domain_id = random.randint(100, 200)
    header = {'name': case.name, 'title': case.title, 'processes': 2 if case.cross_process else 1,
              'environment': {'ROS_DOMAIN_ID': str(domain_id), **dict(case.settings)}}
    with tempfile.TemporaryDirectory(prefix='mmchat_bench_') as tmp:
        out = Path(tmp) / 'raw.json'
        command = [sys.executable, '-m', 'mmchat_bench', 'transport', '--worker', case.name,
                   '--worker-out', str(out), '--duration', str(duration_s),
                   '--warmup', str(warmup_s)]
        env = case_environment(case, domain_id)
        with processes.child(command, grace_s=15.0, env=env) as worker:
            try:
                code = worker.wait(timeout=warmup_s + duration_s + WORKER_MARGIN_S)
            except subprocess.TimeoutExpired:
                return {**header, 'error': 'worker timed out'}
        raw = json.loads(out.read_text()) if out.is_file() else {}
    if code != 0 or 'error' in raw:
        return {**header, 'error': raw.get('error', f'worker exited with code {code}')}
    latency = latency_summary(raw['latencies_ms'])
    goals = [goal.check({**latency, 'loss_pct': raw['loss_pct']}) for goal in case.goals]
    return {**header, **{k: v for k, v in raw.items() if k != 'latencies_ms'}, 'latency': latency,
            'goals': goals, 'all_goals_met': all(g['met'] for g in goals),
            'latencies_ms': raw['latencies_ms']}


def _print_summary(results: list[dict[str, Any]]) -> None:
    print('\n[transport] results (latency = receive time - header.stamp)')
    for r in results:
        if 'error' in r:
            print(f"  {r['name']}: ERROR {r['error']}")
            continue
        lat = {k: 'n/a' if v is None else f'{v:.2f}' for k, v in r['latency'].items()}
        cpu = ', '.join(f'{k} {v:.1f}%' for k, v in r['cpu_pct_of_one_core'].items())
        print(f"  {r['name']}: {r['title']}\n"
              f"    p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms"
              f"  rate {r['received_rate_hz']:.1f} Hz  lost {r['lost']}/{r['published']} "
              f"({r['loss_pct']:.1f}%)  CPU {cpu} (of one core); "
              f"machine busy {r['machine_busy_pct']:.0f}%\n"
              f"    goals: {'; '.join(goal_text(g) for g in r['goals'])}")


def _plot(report: dict[str, Any], path: Path) -> None:
    from mmchat_tools import plots

    fig, ax = plots.new_figure(11.0, 6.5)
    measured = [r for r in report['cases'] if 'error' not in r and r['latency']['count']]
    for index, r in enumerate(measured):
        lat = r['latency']
        cpu = ' + '.join(f'{v:.0f}%' for v in r['cpu_pct_of_one_core'].values())
        plots.latency_cdf(ax, r['latencies_ms'], f"{r['name']}: p50 {lat['p50_ms']:.1f}, p99 "
                          f"{lat['p99_ms']:.1f}, max {lat['max_ms']:.0f} ms; lost "
                          f"{r['loss_pct']:.0f}%; CPU {cpu}; machine busy "
                          f"{r['machine_busy_pct']:.0f}%", f'C{index}')
    for limit in sorted({g['limit'] for r in measured for g in r['goals']
                         if g['key'].endswith('_ms')}):
        ax.axvline(limit, color='grey', linestyle=':', linewidth=1)
        ax.annotate(f'goal {limit:g} ms', (limit, 1.0), fontsize=8, color='grey', rotation=90,
                    xytext=(-10, -4), textcoords='offset points', ha='left', va='top')
    camera, machine = report['camera'], report['machine']
    headline = ', '.join(f"{r['name']} {r['latency']['p50_ms']:.1f}" for r in measured)
    ax.set_title(f"Image transport {camera['width']}x{camera['height']} {camera['encoding']} at "
                 f"{camera['fps']:g} Hz, {report['duration_s']:g} s per case, "
                 f"{machine['cpu_count_logical']} CPUs, {machine['date'][:10]}\n"
                 + textwrap.fill(f'p50 (ms): {headline}', 130), fontsize=9)
    plots.log_ms_axis(ax)
    ax.set_xlabel('latency = receive time - header.stamp (ms, log scale); '
                  'circle: p50, square: p99')
    ax.set_ylabel('fraction of received frames')
    ax.set_ylim(0, 1.02)
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.1), fontsize=8,
              title='latencies in ms; lost: of frames published; CPU: % of one core per process; '
                    'machine busy: all cores, any process',
              title_fontsize=8)
    plots.save(fig, path)


# --- worker side (ROS) -------------------------------------------------------------------------

def _worker(case: Case, duration_s: float, warmup_s: float, out: Path) -> int:
    """Measure one case in this process; write its raw numbers, or {'error': why}, to `out`."""
    try:
        raw = measure_case(case, duration_s, warmup_s)
    except MeasurementError as exc:
        print(f'[transport] {case.name}: {exc}', file=sys.stderr)
        out.write_text(json.dumps({'error': str(exc)}))
        return 1
    out.write_text(json.dumps(raw))
    return 0


class MeasurementError(RuntimeError):
    """A case that could not be measured (no frames, no camera diagnostics)."""


def measure_case(case: Case, duration_s: float, warmup_s: float) -> dict[str, Any]:
    """Start the camera (here or in a child process) and the probe; measure one window."""
    with ExitStack() as stack:
        if case.cross_process:
            lifetime_s = warmup_s + duration_s + WORKER_MARGIN_S  # ends even if we are killed
            camera = stack.enter_context(processes.child(_camera_command(lifetime_s)))
            watched = {'probe': psutil.Process(), 'camera': psutil.Process(camera.pid)}
            runner = GraphRunner(graph.Profile('transport_probe', 'latency probe only', ()))
        else:
            watched = {'camera+probe': psutil.Process()}
            runner = GraphRunner(graph.load_profile(CAMERA_PROFILE), overrides={'camera': CAMERA})
        stack.callback(runner.shutdown)
        runner.start()
        probe = LatencyProbe(runner)
        stack.callback(probe.close)
        return _measure(runner, probe, watched, duration_s, warmup_s, case.name)


def _camera_command(lifetime_s: float) -> list[str]:
    sets = [arg for key, value in CAMERA.items() for arg in ('--set', f'camera.{key}={value}')]
    return [sys.executable, '-m', 'mmchat_ros.bringup', 'run', '--profile', CAMERA_PROFILE,
            '--duration', f'{lifetime_s:.0f}', *sets]


def _stamp_ns(stamp: TimeMsg) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


class LatencyProbe(Probe):
    """Records (header.stamp, receive time) of every image, and the camera's published count."""

    def __init__(self, runner: GraphRunner) -> None:
        super().__init__(runner.executor, runner.context, 'transport_probe')
        self.frames: list[tuple[int, int]] = []          # (header.stamp ns, received ns)
        self.camera_totals: list[tuple[int, int]] = []   # (diagnostics stamp ns, published)
        self.create_subscription(Image, TOPIC, self._on_image, SENSOR_QOS)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    def _on_image(self, msg: Image) -> None:
        received = self.get_clock().now().nanoseconds
        self.frames.append((_stamp_ns(msg.header.stamp), received))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if status.name == CAMERA_STATUS and PUBLISHED_KEY in values:
                self.camera_totals.append((_stamp_ns(msg.header.stamp), int(values[PUBLISHED_KEY])))


@dataclass(frozen=True)
class _Mark:
    """The state at one end of the measuring window."""

    camera_stamp_ns: int
    camera_published: int
    wall_s: float
    cpu_s: dict[str, float]                       # user + system time of each watched process
    machine_cpu: tuple[float, float]              # (busy, total) seconds of all cores


def _spin_until(runner: GraphRunner, condition: Callable[[], bool], timeout_s: float,
                what: str) -> None:
    if not runner.spin(timeout_s, until=condition):
        if not runner.context.ok():
            raise KeyboardInterrupt
        raise MeasurementError(f'{what} within {timeout_s:g} s')


def _mark(runner: GraphRunner, probe: LatencyProbe,
          watched: dict[str, psutil.Process]) -> _Mark:
    """Wait for the camera's next diagnostics message; note its count, the time and CPU times."""
    seen = len(probe.camera_totals)
    _spin_until(runner, lambda: len(probe.camera_totals) > seen, DIAGNOSTICS_TIMEOUT_S,
                f"no '{PUBLISHED_KEY}' from {CAMERA_STATUS} on /diagnostics")
    stamp, published = probe.camera_totals[-1]
    cpu = {name: sum(proc.cpu_times()[:2]) for name, proc in watched.items()}
    return _Mark(stamp, published, time.monotonic(), cpu, _machine_cpu())


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot (Linux counts guest time in user)."""
    times = psutil.cpu_times()._asdict()
    total = sum(times.values()) - times.get('guest', 0.0) - times.get('guest_nice', 0.0)
    return total - times['idle'] - times.get('iowait', 0.0), total


def _spin_with_progress(runner: GraphRunner, probe: LatencyProbe, duration_s: float,
                        label: str) -> None:
    """Spin for `duration_s`; a progress bar on a terminal, one line otherwise."""
    print(f'[transport] {label}: measuring {duration_s:g} s', file=sys.stderr, flush=True)
    deadline = time.monotonic() + duration_s
    with tqdm(total=duration_s, desc=label, unit='s', file=sys.stderr, disable=None,
              bar_format='{desc}: {bar:30} {n:.0f}/{total:.0f} s {postfix}') as bar:
        while (remaining := deadline - time.monotonic()) > 0:
            runner.spin(min(1.0, remaining))
            if not runner.context.ok():
                raise KeyboardInterrupt
            bar.set_postfix(frames=len(probe.frames), refresh=False)
            bar.update(min(1.0, remaining))


def _measure(runner: GraphRunner, probe: LatencyProbe, watched: dict[str, psutil.Process],
             duration_s: float, warmup_s: float, label: str) -> dict[str, Any]:
    """First frame, warm-up, then one window between two camera diagnostics messages."""
    _spin_until(runner, lambda: bool(probe.frames), FIRST_FRAME_TIMEOUT_S, f'no image on {TOPIC}')
    runner.spin(warmup_s)
    start = _mark(runner, probe, watched)
    _spin_with_progress(runner, probe, duration_s, label)
    end = _mark(runner, probe, watched)
    runner.spin(STRAGGLERS_S)
    return _window_numbers(probe.frames, start, end)


def _window_numbers(frames: list[tuple[int, int]], start: _Mark, end: _Mark) -> dict[str, Any]:
    """Counts, rates, CPU and latencies of the frames captured between two marks."""
    latencies_ms = [round((received - stamp) / 1e6, 3) for stamp, received in frames
                    if start.camera_stamp_ns < stamp <= end.camera_stamp_ns]
    published = end.camera_published - start.camera_published
    if published <= 0:
        raise MeasurementError('the camera published no image in the measuring window')
    window_s = (end.camera_stamp_ns - start.camera_stamp_ns) / 1e9
    wall_s = end.wall_s - start.wall_s
    lost = published - len(latencies_ms)
    return {'window_s': round(window_s, 3), 'published': published, 'received': len(latencies_ms),
            'lost': lost, 'loss_pct': round(100 * lost / published, 2),
            'published_rate_hz': round(published / window_s, 2),
            'received_rate_hz': round(len(latencies_ms) / window_s, 2),
            'cpu_pct_of_one_core': {name: round(100 * (end.cpu_s[name] - cpu) / wall_s, 1)
                                    for name, cpu in start.cpu_s.items()},
            'machine_busy_pct': round(100 * (end.machine_cpu[0] - start.machine_cpu[0])
                                      / (end.machine_cpu[1] - start.machine_cpu[1]), 1),
            'latencies_ms': latencies_ms}
