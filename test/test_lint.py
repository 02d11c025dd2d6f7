"""The code passes ruff with the repository's ruff.toml (as ament_flake8 and ament_pep257 would)."""
import importlib.util
from pathlib import Path
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKED = ('mmchat_ros', 'mmchat_bench', 'mmchat_tools', 'test', 'launch', 'setup.py', 'models')


@pytest.mark.skipif(importlib.util.find_spec('ruff') is None,
                    reason='ruff is not installed in this environment '
                           '(it is listed in requirements/python.txt)')
def test_ruff_reports_nothing():
    result = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache',
                             '--config', str(REPO / 'ruff.toml'), *CHECKED],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f'ruff check found problems:\n{result.stdout}{result.stderr}'
