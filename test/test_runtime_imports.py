"""The runtime package stays free of the offline tools' libraries.

Benchmarks, dataset writers, engine and vocabulary builders and the demo live in mmchat_bench and
mmchat_tools (not installed). The runtime package mmchat_ros must not import matplotlib, psutil or
motmetrics anywhere, and only the simulator may import MuJoCo: mmchat_ros.simulation, the node that
runs it (nodes.sim_node) and the controller closed around it without ROS (control.closed_loop).
Nothing in it imports the offline packages, but the `mmchat` command (bringup), which offers their
subcommands when the source checkout provides them.
"""
import ast
from pathlib import Path
import subprocess
import sys

import mmchat_ros

PACKAGE_DIR = Path(mmchat_ros.__file__).resolve().parent
OFFLINE_ONLY = ('matplotlib', 'psutil', 'motmetrics')
SIMULATOR_ONLY = ('mujoco',)
#: Modules that legitimately need MuJoCo (a name and everything under it).
MUJOCO_MODULES = ('mmchat_ros.simulation', 'mmchat_ros.nodes.sim_node',
                  'mmchat_ros.control.closed_loop')
OFFLINE_PACKAGES = ('mmchat_tools', 'mmchat_bench')
TOOL_COMMAND_MODULE = 'mmchat_ros.bringup'


def _modules() -> list[str]:
    """Every module of the source package (not the generated interfaces)."""
    names = []
    for path in sorted(PACKAGE_DIR.rglob('*.py')):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix('').parts
        names.append('.'.join(parts[:-1] if parts[-1] == '__init__' else parts))
    return names


def _needs_mujoco(module: str) -> bool:
    return any(module == m or module.startswith(m + '.') for m in MUJOCO_MODULES)


def _imported(tree: ast.AST) -> set[str]:
    """Top-level names of every module an import statement (at any depth) names."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split('.')[0])
    return names


def test_no_runtime_module_names_an_offline_library():
    """Also imports inside functions, which importing a module does not run."""
    found = {}
    for module in _modules():
        path = PACKAGE_DIR.parent / (module.replace('.', '/') + '.py')
        if not path.is_file():
            path = path.with_suffix('') / '__init__.py'
        banned = set(OFFLINE_ONLY)
        banned.update(() if _needs_mujoco(module) else SIMULATOR_ONLY)
        banned.update(() if module == TOOL_COMMAND_MODULE else OFFLINE_PACKAGES)
        bad = _imported(ast.parse(path.read_text())) & banned
        if bad:
            found[module] = sorted(bad)
    assert found == {}


IMPORT_ALL = '''
import importlib, json, sys
watched = {watched!r}
result = {{}}
for group in ({plain!r}, {simulator!r}):
    for name in group:
        importlib.import_module(name)
    result[len(result)] = sorted({{m.split('.')[0] for m in sys.modules}} & set(watched))
print(json.dumps(result))
'''


def test_importing_every_module_loads_no_offline_library():
    """In a fresh interpreter: every module but the simulator's, then the simulator's too."""
    modules = _modules()
    plain = [m for m in modules if not _needs_mujoco(m)]
    simulator = [m for m in modules if _needs_mujoco(m)]
    assert len(plain) > 50 and 'mmchat_ros.nodes.sim_node' in simulator
    code = IMPORT_ALL.format(watched=OFFLINE_ONLY + SIMULATOR_ONLY, plain=plain,
                             simulator=simulator)
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=240, cwd=PACKAGE_DIR.parent)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == '{"0": [], "1": ["mujoco"]}'
