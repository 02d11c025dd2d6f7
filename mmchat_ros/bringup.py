"""Run a profile of config/graph.yaml in one process with a single-threaded executor.

    mmchat run --profile sim --set camera.source=video --set camera.path=clip.avi \
        --record out.mcap --duration 10
    mmchat profiles

The same graph description feeds launch/mmchat.launch.py; this runner is what the demo, the
built-in simulator and the tests use (one process, no DDS discovery between processes).
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path
import sys
import time
from typing import Any, Callable

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
import yaml

from mmchat_ros import graph
from mmchat_ros.lifecycle import step_down
from mmchat_ros.mcap_recorder import McapRecorder
from mmchat_ros.runtime import keep_freed_image_buffers
from mmchat_ros.shutdown_signals import ShutdownSignals


def make_executor(kind: str, context: Context) -> Executor:
    """A single-threaded executor: 'events' (rclpy's EventsExecutor, far less overhead per callback,
    where this rclpy has it: Kilted and newer) or 'single' (SingleThreadedExecutor)."""
    if kind == 'events':
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            return SingleThreadedExecutor(context=context)
        return EventsExecutor(context=context)
    if kind == 'single':
        return SingleThreadedExecutor(context=context)
    raise ValueError(f"executor must be 'events' or 'single', got '{kind}'")


# Subcommands that live in other modules: name -> module with HELP, add_arguments(parser) and
# run(args) -> exit code. Such a module imports heavy libraries inside run(), not at import time.
TOOL_COMMANDS: dict[str, str] = {
    'build-engine': 'mmchat_ros.detection.engines',
    'build-vocab': 'mmchat_ros.slam.build_vocab',
    'enroll': 'mmchat_ros.auth.enroll', 'operators': 'mmchat_ros.auth.operators',
    'slam-offline': 'mmchat_ros.slam.offline',
}


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
            overrides = [Parameter(k, value=v) for k, v in self._overrides.get(spec.name, {}).items()]
            node = node_type(context=self._context, cli_args=cli_args, parameter_overrides=overrides)
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
        """Spin until `duration_s` passes, `until()` is true, or shutdown; returns `until()`'s last value."""
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


def _run(args: argparse.Namespace) -> int:
    profile = graph.load_profile(args.profile)
    runner = GraphRunner(profile, parse_overrides(args.set), record_path=args.record,
                         record_topics=args.topics, executor=args.executor)
    with ShutdownSignals() as signals:       # SIGINT / SIGTERM end the spin, then all shuts down
        try:
            runner.start()
            print(f"[mmchat] profile '{profile.name}': {', '.join(s.name for s in profile.nodes)}"
                  + (f'; recording to {args.record}' if args.record else ''), flush=True)
            runner.spin(args.duration, until=lambda: signals.requested)
        except ExternalShutdownException:
            pass
        finally:
            runner.shutdown()
    if runner.recorder is not None:
        for topic, count in sorted(runner.recorder.counts.items()):
            print(f'[mmchat] recorded {count:6d} messages on {topic}')
    return 0


def _profiles(_: argparse.Namespace) -> int:
    for name, profile in graph.load_profiles().items():
        print(f'{name}: {profile.description}')
        for spec in profile.nodes:
            print(f'  {spec.name} ({spec.executable}) params={list(spec.parameters)}')
    return 0


def main(argv: list[str] | None = None) -> int:
    """The `mmchat` command."""
    parser = argparse.ArgumentParser(prog='mmchat', description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run', help='run a profile in one process')
    run.add_argument('--profile', default='sim')
    run.add_argument('--set', action='append', default=[], metavar='NODE.PARAM=VALUE',
                     help='override a parameter (repeatable); values are YAML (30.0 for a double)')
    run.add_argument('--record', metavar='FILE.mcap', help='record topics to an MCAP file')
    run.add_argument('--topics', nargs='+', help='topics to record (default: all)')
    run.add_argument('--duration', type=float, help='stop after this many seconds')
    run.add_argument('--executor', choices=('events', 'single'), default='events',
                     help='events: EventsExecutor where rclpy has it (default); single: '
                          'SingleThreadedExecutor')
    run.set_defaults(handler=_run)
    commands.add_parser('profiles', help='list the profiles of config/graph.yaml').set_defaults(
        handler=_profiles)
    for name, module_name in TOOL_COMMANDS.items():
        module = importlib.import_module(module_name)
        tool = commands.add_parser(name, help=module.HELP)
        module.add_arguments(tool)
        tool.set_defaults(handler=module.run)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (graph.GraphError, ValueError) as exc:
        print(f'mmchat: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
