"""pip install of the pure-Python part of mmchat_ros, where the interfaces are already built.

colcon ignores this file (package.xml says ament_cmake); the development set-up is tools/setup.sh.
The console scripts are the executables listed in config/executables.txt (`name module:function`).
Only the runtime package is packaged: mmchat_tools/ and mmchat_bench/ (offline tools, benchmarks)
run from the source checkout.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
NAME = 'mmchat_ros'


def console_scripts():
    lines = (HERE / 'config' / 'executables.txt').read_text().splitlines()
    entries = [line.split() for line in lines if line.strip() and not line.lstrip().startswith('#')]
    return [f'{name} = {target}' for name, target in entries]


def data_files():
    """package.xml, launch/ and config/ under share/mmchat_ros, as colcon installs them."""
    files = [(f'share/{NAME}', ['package.xml'])]
    for top in ('launch', 'config'):
        for path in sorted((HERE / top).rglob('*')):
            if path.is_file() and '__pycache__' not in path.parts:
                rel = path.relative_to(HERE)
                files.append((f'share/{NAME}/{rel.parent.as_posix()}', [rel.as_posix()]))
    return files


setup(
    name=NAME,
    version=re.search(r'<version>([^<]+)</version>', (HERE / 'package.xml').read_text()).group(1),
    description='Multi-modal drone and robot control on ROS 2',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=[NAME, f'{NAME}.*']),
    data_files=data_files(),
    entry_points={'console_scripts': console_scripts()},
    zip_safe=False,
)
