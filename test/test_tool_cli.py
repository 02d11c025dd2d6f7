"""`mmchat`: the offline tools of the source checkout are its subcommands, each with --help.

An installed `mmchat` without the checkout says where they are.
"""
import os
from pathlib import Path
import subprocess
import sys

import pytest

from mmchat_ros.bringup import main
from mmchat_tools import TOOL_COMMANDS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize('command', sorted(TOOL_COMMANDS))
def test_every_tool_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, '--help'])
    assert done.value.code == 0
    assert f'usage: mmchat {command}' in capsys.readouterr().out


def test_sequences_lists_and_refuses_unknown_names(capsys):
    assert main(['sequences', 'list']) == 0
    listed = capsys.readouterr().out.split()
    assert {'loop', 'figure_eight', 'fast', 'short'} <= set(listed)
    with pytest.raises(SystemExit) as done:
        main(['sequences', 'render', 'moon', '--out', 'x'])
    assert done.value.code == 2


def test_installed_command_without_the_checkout_names_the_tools(tmp_path):
    """The installed package alone (no checkout on sys.path): run and profiles, and a hint."""
    path = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
            if p and Path(p).resolve() != REPO]
    result = subprocess.run([sys.executable, '-m', 'mmchat_ros.bringup', '--help'], cwd=tmp_path,
                            env={**os.environ, 'PYTHONPATH': os.pathsep.join(path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '{run,profiles}' in result.stdout and 'tools/run mmchat' in result.stdout
