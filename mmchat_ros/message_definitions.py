"""Full ROS 2 message definitions (`ros2msg` text with its dependencies), as MCAP schemas need.

Read from the `.msg` files every interface package installs in its share directory.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
import re

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

PRIMITIVES = {'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16',
              'int32', 'uint32', 'int64', 'uint64', 'string', 'wstring'}
SEPARATOR = '=' * 80
_FIELD = re.compile(r'^\s*([A-Za-z][\w/]*)(?:<=\d+)?(?:\[[^\]]*\])?\s+\w+')


class DefinitionError(LookupError):
    """A message type whose definition cannot be found."""


@lru_cache(maxsize=None)
def _msg_text(full_type: str) -> str:
    package, _, name = full_type.split('/')
    try:
        share = Path(get_package_share_directory(package))
    except PackageNotFoundError as exc:
        raise DefinitionError(f'package {package} of {full_type} is not installed') from exc
    path = share / 'msg' / f'{name}.msg'
    if not path.is_file():
        raise DefinitionError(f'{path} does not exist')
    return path.read_text()


def _dependencies(package: str, text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        line = line.split('#', 1)[0]
        match = _FIELD.match(line)
        if not match or match.group(1) in PRIMITIVES:   # constants are always primitive
            continue
        base = match.group(1)
        if base == 'Header':
            found.append('std_msgs/msg/Header')
        elif '/' in base:
            pkg, name = base.split('/')[0], base.split('/')[-1]
            found.append(f'{pkg}/msg/{name}')
        else:
            found.append(f'{package}/msg/{base}')
    return found


def full_definition(full_type: str) -> str:
    """The definition of `pkg/msg/Type` followed by each dependency once, rosbag2-style."""
    text = _msg_text(full_type)
    parts = [text.rstrip('\n')]
    seen = {full_type}
    queue = _dependencies(full_type.split('/')[0], text)
    while queue:
        dependency = queue.pop(0)
        if dependency in seen:
            continue
        seen.add(dependency)
        dep_text = _msg_text(dependency)
        package, _, name = dependency.split('/')
        parts.append(f'{SEPARATOR}\nMSG: {package}/{name}\n{dep_text.rstrip()}')
        queue.extend(_dependencies(package, dep_text))
    return '\n'.join(parts) + '\n'
