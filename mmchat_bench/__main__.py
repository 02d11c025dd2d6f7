"""Run benchmarks and write their reports.

Usage:
    python -m mmchat_bench transport [--duration 20] [--out bench/results]
    python -m mmchat_bench all
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path
import sys
from types import ModuleType

from mmchat_bench import BENCHMARK_MODULES


def _benchmark(name: str) -> ModuleType:
    return importlib.import_module(f'mmchat_bench.{name}')


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--out', type=Path, default=Path('bench/results'),
                        help='folder for the JSON and PNG reports (default: bench/results)')
    common.add_argument('--duration', type=float, default=None,
                        help="measuring time in seconds (default: each benchmark's own)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per benchmark module, plus `all`."""
    parser = argparse.ArgumentParser(prog='python -m mmchat_bench',
                                     description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='benchmark', required=True)
    common = _common_options()
    for name in BENCHMARK_MODULES:
        module = _benchmark(name)
        sub = commands.add_parser(name, parents=[common], help=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    commands.add_parser('all', parents=[common], help='every benchmark with its defaults, in turn '
                        f"({', '.join(BENCHMARK_MODULES)})").set_defaults(handler=_run_all)
    return parser


def _run_all(args: argparse.Namespace) -> int:
    common = ['--out', str(args.out)]
    if args.duration is not None:
        common += ['--duration', str(args.duration)]
    worst = 0
    for name in BENCHMARK_MODULES:
        print(f'=== {name} ===', flush=True)
        worst = max(worst, main([name, *common]))
    return worst


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen benchmark(s)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
