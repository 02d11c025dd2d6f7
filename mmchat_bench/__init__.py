"""Benchmarks of the mmchat_ros stack: `python -m mmchat_bench <name>` (see __main__.py).

A benchmark is a module of this package listed in BENCHMARK_MODULES that defines
  HELP: str                                             one line for `--help`
  add_arguments(parser: argparse.ArgumentParser) -> None   its own options (may add none)
  run(args: argparse.Namespace) -> int                  exit code; never non-zero for a missed goal
`args` always carries the common options `out` (results folder) and `duration` (seconds or None).
Every module is imported to build the command line, so keep heavy imports (models, simulators)
inside `run`.
"""

#: Benchmark modules in the order `all` runs them; the module name is the subcommand.
BENCHMARK_MODULES: tuple[str, ...] = ('transport', 'sim', 'gesture', 'control', 'slam', 'tracker',
                                          'detector', 'auth')
