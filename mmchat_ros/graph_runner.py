"""All nodes of a profile of config/graph.yaml in one process, on one single-threaded executor.

    with GraphRunner(graph.load_profile('sim'), {'sim': {'real_time_factor': 0.0}}) as runner:
        runner.spin(10.0)

What `mmchat run` (mmchat_ros.bringup), the demo, the benchmarks and the tests use: one process, no
DDS discovery between processes. launch/mmchat.launch.py starts the same graph as processes.
"""
from __future__ import annotations

from pathlib import Path
import time
from typing import Any, Callable

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
import yaml

from mmchat_ros import graph
from mmchat_ros.lifecycle import step_down
from mmchat_ros.malloc_tuning import keep_freed_image_buffers
from mmchat_ros.mcap_recorder import McapRecorder


def make_executor(kind: str, context: Context) -> Executor:
    """A single-threaded executor: 'events' or 'single'.

    'events' is rclpy's EventsExecutor (far less overhead per callback), where this rclpy has it:
    Kilted and newer; 'single' is SingleThreadedExecutor.
    """
    if kind == 'events':
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            return SingleThreadedExecutor(context=context)
        return EventsExecutor(context=context)
    if kind == 'single':
        return SingleThreadedExecutor(context=context)
    raise ValueError(f"executor must be 'events' or 'single', got '{kind}'")


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """`node.param=value` strings -> {node: {param: value}}; values are parsed as YAML scalars."""
    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition('=')
        node_name, dot, param = key.partition('.')
        if not sep or not dot or not node_name or not param:
            raise ValueError(f"override '{item}' is not of the form node.parameter=value")
        overrides.setdefault(node_name, {})[param] = yaml.safe_load(raw) if raw else ''
    return overrides


class GraphRunner:
    """Creates every node of a profile in one process and spins them on one executor."""

    def __init__(self, profile: graph.Profile, overrides: dict[str, dict[str, Any]] | None = None,
                 record_path: str | Path | None = None, record_topics: list[str] | None = None,
                 context: Context | None = None, executor: str = 'events') -> None:
        self.profile = profile
        self._context = context or Context()
        self._overrides = overrides or {}
        unknown = set(self._overrides) - {spec.name for spec in profile.nodes}
        if unknown:
            raise graph.GraphError(f"overrides name nodes not in profile '{profile.name}': "
                                   f"{', '.join(sorted(unknown))}")
        self._record_path = record_path
        self._record_topics = record_topics
        self._executor_kind = executor
        self.nodes: dict[str, Node] = {}
        self.recorder: McapRecorder | None = None
        self.executor: Executor | None = None

    def start(self) -> 'GraphRunner':
        """Initialise ROS in this runner's context and create the nodes."""
        keep_freed_image_buffers()
        if not self._context.ok():
            rclpy.init(context=self._context)
        self.executor = make_executor(self._executor_kind, self._context)
        share = graph.share_dir()
        for spec in self.profile.nodes:
            node_type = graph.node_class(spec.executable, share)
            cli_args = ['--ros-args', '-r', f'__node:={spec.name}']
            if spec.namespace:
                cli_args += ['-r', f'__ns:={spec.namespace}']
            for path in graph.parameter_files(spec, share):
                cli_args += ['--params-file', str(path)]
            for source, target in spec.remappings:
                cli_args += ['-r', f'{source}:={target}']
            overrides = [Parameter(k, value=v)
                         for k, v in self._overrides.get(spec.name, {}).items()]
            node = node_type(context=self._context, cli_args=cli_args,
                             parameter_overrides=overrides)
            self.nodes[spec.name] = node
            self.executor.add_node(node)
        if self._record_path is not None:
            recorder_node = Node('mcap_recorder', context=self._context)
            self.executor.add_node(recorder_node)
            self.nodes['mcap_recorder'] = recorder_node
            self.recorder = McapRecorder(recorder_node, self._record_path, self._record_topics)
        return self

    def add_node(self, node: Node) -> None:
        """Spin an extra node (a test probe, a benchmark sink) with the profile's nodes."""
        self.executor.add_node(node)

    @property
    def context(self) -> Context:
        """The rclpy context every node of this runner lives in."""
        return self._context

    def spin(self, duration_s: float | None = None,
             until: Callable[[], bool] | None = None) -> bool:
        """Spin until `duration_s` passes, `until()` holds or shutdown; return `until()`'s value."""
        deadline = None if duration_s is None else time.monotonic() + duration_s
        done = False
        while self._context.ok() and not done:
            if deadline is not None and time.monotonic() >= deadline:
                break
            self.executor.spin_once(timeout_sec=0.05)
            done = bool(until and until())
        return done

    def shutdown(self) -> None:
        """Step the nodes down, finish recording, destroy the nodes, shut the context down.

        Idempotent. Lifecycle nodes go through deactivate, cleanup and shutdown first.
        """
        for node in self.nodes.values():
            step_down(node)
        if self.recorder is not None:
            self.recorder.close()
        for node in self.nodes.values():
            node.destroy_node()
        self.nodes.clear()
        if self.executor is not None:
            self.executor.shutdown()
        rclpy.try_shutdown(context=self._context)

    def __enter__(self) -> 'GraphRunner':
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
