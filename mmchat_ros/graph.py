"""The node graph description (config/graph.yaml): one source for launch files and the runner.

ROS-free: this module only reads files, so launch files, the runner and tests share it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import importlib
from pathlib import Path

import yaml

PACKAGE = 'mmchat_ros'


class GraphError(ValueError):
    """A graph description that names something that does not exist or is malformed."""


@dataclass(frozen=True)
class NodeSpec:
    """One node of a profile."""

    name: str
    executable: str
    parameters: tuple[str, ...] = ()      # parameter files, relative to the package share
    remappings: tuple[tuple[str, str], ...] = ()
    namespace: str = ''


@dataclass(frozen=True)
class Profile:
    """A named set of nodes that run together."""

    name: str
    description: str
    nodes: tuple[NodeSpec, ...]
    external_topics: tuple[str, ...] = field(default=())

    def node(self, name: str) -> NodeSpec:
        """The node called `name`; GraphError when the profile has none."""
        for spec in self.nodes:
            if spec.name == name:
                return spec
        raise GraphError(f"profile '{self.name}' has no node '{name}' "
                         f"(nodes: {', '.join(s.name for s in self.nodes)})")


def share_dir() -> Path:
    """The package's share directory: the source tree when run from it, else the ament index."""
    source_root = Path(__file__).resolve().parent.parent
    if (source_root / 'config' / 'graph.yaml').is_file():
        return source_root
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory(PACKAGE))


def executables(share: Path | None = None) -> dict[str, str]:
    """Executable name -> 'module:function', from config/executables.txt."""
    text = ((share or share_dir()) / 'config' / 'executables.txt').read_text()
    entries = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            name, target = line.split()
            entries[name] = target
    return entries


def node_class(executable: str, share: Path | None = None) -> type:
    """The node class behind an executable (its module's NODE_CLASS)."""
    targets = executables(share)
    if executable not in targets:
        raise GraphError(f"unknown executable '{executable}' (known: {', '.join(sorted(targets))})")
    module = importlib.import_module(targets[executable].split(':')[0])
    if not hasattr(module, 'NODE_CLASS'):
        raise GraphError(f"executable '{executable}' is not a node (its module has no NODE_CLASS)")
    return module.NODE_CLASS


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """All profiles of a graph file (default: the package's config/graph.yaml)."""
    path = path or share_dir() / 'config' / 'graph.yaml'
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise GraphError(f'cannot read graph description {path}: {exc}') from exc
    profiles = {}
    for name, body in (doc or {}).get('profiles', {}).items():
        try:
            nodes = tuple(NodeSpec(name=n['name'], executable=n['executable'],
                                   parameters=tuple(n.get('parameters', ())),
                                   remappings=tuple((n.get('remappings') or {}).items()),
                                   namespace=n.get('namespace', ''))
                          for n in body['nodes'])
        except (KeyError, TypeError) as exc:
            raise GraphError(f"profile '{name}' in {path}: malformed node entry ({exc})") from exc
        names = [n.name for n in nodes]
        if len(set(names)) != len(names):
            raise GraphError(f"profile '{name}' in {path}: node names repeat: {names}")
        profiles[name] = Profile(name=name, description=body.get('description', ''), nodes=nodes,
                                 external_topics=tuple(body.get('external_topics') or ()))
    if not profiles:
        raise GraphError(f'{path} defines no profiles')
    return profiles


def load_profile(name: str, path: Path | None = None) -> Profile:
    """One profile by name; GraphError naming the known ones when it does not exist."""
    profiles = load_profiles(path)
    if name not in profiles:
        raise GraphError(f"unknown profile '{name}' (known: {', '.join(sorted(profiles))})")
    return profiles[name]


def parameter_files(spec: NodeSpec, share: Path | None = None) -> list[Path]:
    """Absolute paths of a node's parameter files; GraphError when one is missing."""
    share = share or share_dir()
    paths = [share / p for p in spec.parameters]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise GraphError(f"node '{spec.name}': parameter file(s) not found: {', '.join(missing)}")
    return paths


def launch_node_arguments(profile: Profile, share: Path | None = None) -> list[dict]:
    """Keyword arguments of one launch_ros Node action per node of `profile`.

    Checks that every executable and parameter file exists, so a launch file built from these
    fails before anything starts.
    """
    share = share or share_dir()
    known = executables(share)
    arguments = []
    for spec in profile.nodes:
        if spec.executable not in known:
            raise GraphError(f"node '{spec.name}': unknown executable '{spec.executable}'")
        arguments.append({'package': PACKAGE, 'executable': spec.executable, 'name': spec.name,
                          'namespace': spec.namespace,
                          'parameters': [str(p) for p in parameter_files(spec, share)],
                          'remappings': list(spec.remappings), 'output': 'screen'})
    return arguments
