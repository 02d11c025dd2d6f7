"""Run a profile of config/graph.yaml in one process with a single-threaded executor.

    mmchat run --profile sim --set camera.source=video --set camera.path=clip.avi \
        --record out.mcap --duration 10
    mmchat profiles

The `mmchat` command: `run` and `profiles` here (the runner is mmchat_ros.graph_runner), plus the
offline tools' subcommands when the source checkout provides them (mmchat_tools.TOOL_COMMANDS).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from rclpy.executors import ExternalShutdownException

from mmchat_ros import graph
from mmchat_ros.graph_runner import GraphRunner, parse_overrides
from mmchat_ros.shutdown_signals import ShutdownSignals


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


def _add_tool_commands(parser: argparse.ArgumentParser,
                       commands: argparse._SubParsersAction) -> None:
    """The offline tools' subcommands (build-engine, ...), from the source checkout's mmchat_tools.

    mmchat_tools is not installed with the runtime package: without it `mmchat --help` says where
    the tools are instead of listing them.
    """
    try:
        from mmchat_tools import TOOL_COMMANDS
    except ModuleNotFoundError:
        parser.epilog = ('build-engine, build-vocab, slam-offline, sequences and demo are offline '
                         'tools of the source checkout: run them there with `tools/run mmchat ...`')
        return
    for name, module_name in TOOL_COMMANDS.items():
        module = importlib.import_module(module_name)
        tool = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(tool)
        tool.set_defaults(handler=module.run)


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
    _add_tool_commands(parser, commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (graph.GraphError, ValueError) as exc:
        print(f'mmchat: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
