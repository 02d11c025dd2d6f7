"""Per-node diagnostics on /diagnostics: message rates and latencies, and the node's own status."""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from mmchat_ros.stats import RateLatencyStats

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


class NodeDiagnostics:
    """Collects per-stream rate/latency and a status, and publishes them once per `period_s`."""

    def __init__(self, node: Node, period_s: float = 1.0) -> None:
        self._node = node
        self._streams: dict[str, RateLatencyStats] = {}
        self._level = OK
        self._message = 'starting'
        self._values: dict[str, object] = {}
        self._publisher = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._timer = node.create_timer(period_s, self.publish)

    def record(self, stream: str, latency_s: float | None = None) -> None:
        """Count one message of `stream` now, with its latency in seconds if known."""
        now = self._node.get_clock().now().nanoseconds * 1e-9
        self._streams.setdefault(stream, RateLatencyStats()).record(now, latency_s)

    def set_value(self, key: str, value: object) -> None:
        """Report a named value (a counter of dropped frames, a model name, ...)."""
        self._values[key] = value

    def set_status(self, level: bytes, message: str) -> None:
        """Set the node's overall level (OK, WARN, ERROR) and a one-line message."""
        self._level, self._message = level, message

    def publish(self) -> None:
        """Publish the current status now."""
        values = []
        for stream, stats in sorted(self._streams.items()):
            s = stats.summary()
            values += [KeyValue(key=f'{stream} rate (Hz)', value=f'{s.rate_hz:.2f}'),
                       KeyValue(key=f'{stream} latency p50 (ms)',
                                value=f'{s.latency_p50_s * 1e3:.2f}'),
                       KeyValue(key=f'{stream} latency p99 (ms)',
                                value=f'{s.latency_p99_s * 1e3:.2f}'),
                       KeyValue(key=f'{stream} total', value=str(stats.total))]
        values += [KeyValue(key=k, value=str(v)) for k, v in sorted(self._values.items())]
        status = DiagnosticStatus(level=self._level, name=self._node.get_fully_qualified_name(),
                                  message=self._message, hardware_id=self._node.get_name(),
                                  values=values)
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(array)
