"""Helpers (no tests) for the SLAM tests: one rendered copy of the 'short' sequence per test run."""
from __future__ import annotations

import functools
from pathlib import Path
import tempfile

from mmchat_tools.slam import sequences

#: The benchmark's resolution: at 320x240 (fx 160 px) monocular ORB-SLAM3 drifts several degrees
#: and its scale by tens of percent over this sequence, too much to check a metric estimate against.
WIDTH, HEIGHT = 640, 480
_folder = tempfile.TemporaryDirectory(prefix='mmchat_slam_test_')


@functools.cache
def short_sequence() -> Path:
    """The 'short' sequence (take-off and a quarter lap, 12 s, 20 Hz) in the TUM layout."""
    return sequences.render('short', Path(_folder.name) / 'short', WIDTH, HEIGHT,
                            show_progress=False)
