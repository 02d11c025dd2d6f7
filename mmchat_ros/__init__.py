"""mmchat_ros: multi-modal control of drones and ground robots on ROS 2."""
import os
import sys


def _add_generated_interfaces() -> None:
    """Let `mmchat_ros.msg` / `.action` resolve when this package is imported from its source tree.

    colcon installs the generated interface modules next to (symlinks of) these sources; a process
    started in the repository root imports the source folder first, which has no `msg/`. Adding the
    installed package folder of every AMENT_PREFIX_PATH entry to `__path__` finds them.
    """
    here = os.path.dirname(os.path.realpath(__file__))
    python_dir = f'python{sys.version_info.major}.{sys.version_info.minor}'
    for prefix in filter(None, os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        for site in ('site-packages', 'dist-packages'):
            candidate = os.path.join(prefix, 'lib', python_dir, site, __name__)
            if os.path.isdir(os.path.join(candidate, 'msg')) and candidate not in __path__:
                if os.path.realpath(candidate) != here:
                    __path__.append(candidate)


_add_generated_interfaces()
