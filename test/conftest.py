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
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from mmchat_ros import graph, synthetic_media  # noqa: E402
from mmchat_ros.bringup import GraphRunner  # noqa: E402

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


def spin_until(executor, predicate, timeout_s: float) -> bool:
    """Spin `executor` until `predicate()` is true or `timeout_s` passes; returns predicate()."""
    import time
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.02)
    return bool(predicate())


@pytest.fixture
def run_profile():
    """Start a profile (by name, or a graph.Profile) in-process: run_profile('sim', overrides={...})."""
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
