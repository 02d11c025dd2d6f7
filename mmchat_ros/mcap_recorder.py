"""Record live topics to an MCAP file (ros2msg schemas, CDR messages), as rosbag2 would.

rosbag2 is not available from PyPI; this records the serialized messages exactly as they travel,
so `ros2 bag info` / Foxglove / mcap-ros2-support read the file.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from mcap.writer import CompressionType, Writer
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from mmchat_ros.message_definitions import DefinitionError, full_definition

IGNORED_TOPICS = ('/parameter_events',)
#: Hidden topics (actions' feedback and status, '/_...') are recorded only when asked for by name,
#: as rosbag2 does without --include-hidden-topics.
HIDDEN_MARK = '/_'


def message_type(type_name: str) -> type:
    """The Python class of 'pkg/msg/Type' (rosidl_runtime_py is not available everywhere)."""
    package, kind, name = type_name.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)


class McapRecorder:
    """Subscribes to topics as they appear and writes every message to an MCAP file.

    `topics`: exact topic names to record; None records every topic but /parameter_events and
    hidden ones.
    """

    def __init__(self, node: Node, path: str | Path, topics: list[str] | None = None,
                 discovery_period_s: float = 0.2) -> None:
        self._node = node
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open('wb')
        self._writer = Writer(self._file, compression=CompressionType.ZSTD)
        self._writer.start(profile='ros2', library='mmchat_ros')
        self._wanted = set(topics) if topics is not None else None
        self._subscriptions = {}
        self._skipped: set[str] = set()
        self.counts: dict[str, int] = {}
        self._timer = node.create_timer(discovery_period_s, self.discover)
        self.discover()

    def discover(self) -> None:
        """Subscribe to any new topic that should be recorded."""
        for topic, types in self._node.get_topic_names_and_types():
            if topic in self._subscriptions or topic in self._skipped or topic in IGNORED_TOPICS:
                continue
            if self._wanted is not None and topic not in self._wanted:
                continue
            if self._wanted is None and HIDDEN_MARK in topic:
                continue
            publishers = self._node.get_publishers_info_by_topic(topic)
            if not publishers:
                continue
            self._subscribe(topic, types[0], publishers)

    def _subscribe(self, topic: str, type_name: str, publishers) -> None:
        try:
            schema_id = self._writer.register_schema(type_name, 'ros2msg',
                                                     full_definition(type_name).encode())
            msg_type = message_type(type_name)
        except (DefinitionError, AttributeError, ModuleNotFoundError, ValueError) as exc:
            self._node.get_logger().warn(f'not recording {topic}: {exc}')
            self._skipped.add(topic)
            return
        channel_id = self._writer.register_channel(topic, 'cdr', schema_id)
        qos = QoSProfile(depth=100)
        if any(p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT for p in publishers):
            qos.reliability = ReliabilityPolicy.BEST_EFFORT
        if all(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers):
            qos.durability = DurabilityPolicy.TRANSIENT_LOCAL
        self.counts[topic] = 0

        def write(data: bytes) -> None:
            now = self._node.get_clock().now().nanoseconds
            self._writer.add_message(channel_id, log_time=now, data=data, publish_time=now,
                                     sequence=self.counts[topic])
            self.counts[topic] += 1

        self._subscriptions[topic] = self._node.create_subscription(msg_type, topic, write, qos,
                                                                    raw=True)

    def close(self) -> None:
        """Stop recording and finish the file (idempotent)."""
        if self._file.closed:
            return
        self._timer.cancel()
        for subscription in self._subscriptions.values():
            self._node.destroy_subscription(subscription)
        self._writer.finish()
        self._file.close()


def read_messages(path: str | Path, topics: list[str] | None = None):
    """Yield (topic, log_time_ns, decoded message) from an MCAP file written by McapRecorder."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    with open(path, 'rb') as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        for _, channel, message, decoded in reader.iter_decoded_messages(topics=topics):
            yield channel.topic, message.log_time, decoded
