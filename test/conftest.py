"""Shared fixtures: an isolated DDS domain per test session, runners, and synthetic media."""
from __future__ import annotations

import os
from pathlib import Path
import random

# Isolate this session's DDS traffic before any rclpy context exists.
os.environ.setdefault('ROS_DOMAIN_ID', str(random.randint(120, 230)))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

import pytest  # noqa: E402
import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import Executor, SingleThreadedExecutor  # noqa: E402

from mmchat_ros import graph  # noqa: E402
from mmchat_ros.graph_runner import GraphRunner  # noqa: E402
from mmchat_tools import synthetic_media  # noqa: E402
from mmchat_tools.probe import Probe  # noqa: E402

SHARED_DATA = Path(os.environ.get('MMCHAT_SHARED_DATA')
                   or Path(__file__).resolve().parents[2] / 'shared' / 'data')


@pytest.fixture
def ros_context():
    """A fresh rclpy context, shut down after the test."""
    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


@pytest.fixture
def executor(ros_context):
    """A single-threaded executor in the test's context."""
    executor = SingleThreadedExecutor(context=ros_context)
    yield executor
    executor.shutdown()


@pytest.fixture
def run_profile():
    """Start a profile (by name, or a graph.Profile) in-process, shut down after the test.

    Usage: run_profile('sim', overrides={...}).
    """
    runners = []

    def start(profile: str | graph.Profile = 'sim', **kwargs) -> GraphRunner:
        if isinstance(profile, str):
            profile = graph.load_profile(profile)
        runner = GraphRunner(profile, **kwargs).start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.shutdown()


@pytest.fixture
def make_probe():
    """A Probe node (mmchat_tools.probe) spun with the graph under test, destroyed after the test.

    Usage: make_probe(runner) or make_probe(executor, context); keyword arguments go to Probe.
    """
    probes = []

    def make(spinner: GraphRunner | Executor, context: Context | None = None, name: str = 'probe',
             **kwargs) -> Probe:
        if isinstance(spinner, GraphRunner):
            spinner, context = spinner.executor, spinner.context
        probe = Probe(spinner, context, name, **kwargs)
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        probe.close()


@pytest.fixture(scope='session')
def test_video(tmp_path_factory) -> Path:
    """A 45-frame 640x480 numbered MJPG video."""
    return synthetic_media.write_video(tmp_path_factory.mktemp('media') / 'numbered.avi', 45)


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """../shared/data, or skip when it is not beside the repository (e.g. on a robot)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'test data folder {SHARED_DATA} is absent (it sits beside the repo in CI)')
    return SHARED_DATA
