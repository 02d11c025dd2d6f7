"""A probe node for tests and benchmarks: records topics, publishes on others, waits for messages.

    probe = Probe(runner.executor, runner.context)          # the `make_probe` fixture in tests
    images = probe.record('/camera/image_raw', Image, SENSOR_QOS)
    assert probe.wait(lambda: len(images) >= 10)

The probe lives in the caller's rclpy context and is spun by the caller's executor, so it sees the
in-process graph without DDS discovery between processes. Waits spin until a condition holds or a
generous limit passes (never a fixed sleep): the machine may be loaded.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.context import Context
from rclpy.executors import Executor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile

#: Default limit of a wait: long enough for a loaded 2-core machine, short enough to fail a test.
WAIT_TIMEOUT_S = 30.0
DIAGNOSTICS_TOPIC = '/diagnostics'


def spin_until(executor: Executor, predicate: Callable[[], Any], timeout_s: float) -> bool:
    """Spin `executor` until `predicate()` is true or `timeout_s` passes; returns predicate()."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.02)
    return bool(predicate())


class Probe(Node):
    """A node that records what topics carry and publishes what a test or benchmark sends."""

    def __init__(self, executor: Executor, context: Context, name: str = 'probe',
                 namespace: str | None = None, use_sim_time: bool = False) -> None:
        """Create the node in `context` and add it to `executor` (which spins it)."""
        overrides = [Parameter('use_sim_time', value=True)] if use_sim_time else []
        super().__init__(name, context=context, namespace=namespace,
                         parameter_overrides=overrides)
        self._received: dict[str, list] = {}
        self._closed = False
        self.executor = executor

    def record(self, topic: str, msg_type: type, qos: QoSProfile | int = 10,
               arrival: Callable[[], Any] | None = None) -> list:
        """Keep every message of `topic` in the list returned (also `messages(topic)`).

        With an `arrival` clock (time.monotonic, time.time_ns, ...), keep (its reading, message)
        pairs.
        """
        received = self._received.setdefault(topic, [])
        if arrival is None:
            self.create_subscription(msg_type, topic, received.append, qos)
        else:
            self.create_subscription(msg_type, topic,
                                     lambda m: received.append((arrival(), m)), qos)
        return received

    def messages(self, topic: str) -> list:
        """What `record(topic, ...)` has kept so far."""
        return self._received[topic]

    def record_diagnostics(self) -> list[DiagnosticArray]:
        """Record /diagnostics (see `statuses`)."""
        return self.record(DIAGNOSTICS_TOPIC, DiagnosticArray)

    def statuses(self, name_suffix: str = '') -> list[DiagnosticStatus]:
        """Every recorded diagnostic status whose name ends with `name_suffix`, oldest first."""
        return [status for array in self._received.get(DIAGNOSTICS_TOPIC, [])
                for status in array.status if status.name.endswith(name_suffix)]

    def publisher(self, topic: str, msg_type: type, qos: QoSProfile | int = 10) -> Publisher:
        """A publisher on `topic`."""
        return self.create_publisher(msg_type, topic, qos)

    def wait(self, until: Callable[[], Any], timeout_s: float = WAIT_TIMEOUT_S) -> bool:
        """Spin until `until()` is true (True) or `timeout_s` passes (False)."""
        return spin_until(self.executor, until, timeout_s)

    def wait_for_subscribers(self, publisher: Publisher, count: int = 1,
                             timeout_s: float = WAIT_TIMEOUT_S) -> bool:
        """Spin until `publisher` has at least `count` subscribers."""
        return self.wait(lambda: publisher.get_subscription_count() >= count, timeout_s)

    def close(self) -> None:
        """Leave the executor and destroy the node (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.executor = None
        self.destroy_node()
