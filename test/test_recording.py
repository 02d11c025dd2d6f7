"""MCAP recording from the runner, read back with mcap-ros2-support; the `mmchat` CLI end to end."""
from collections import Counter
import subprocess
import sys

import numpy as np

from mmchat_ros import graph, message_definitions
from mmchat_ros.mcap_recorder import read_messages
from mmchat_tools import synthetic_media

REPO = graph.share_dir()


def test_runner_records_topics_that_read_back(run_profile, tmp_path, test_video):
    path = tmp_path / 'run.mcap'
    runner = run_profile('replay', record_path=path,
                         record_topics=['/camera/image_raw', '/camera/camera_info'],
                         overrides={'camera': {'source': 'video', 'path': str(test_video),
                                               'loop': False, 'fps': 30.0}})
    runner.spin(4.0, until=lambda: runner.recorder.counts.get('/camera/image_raw', 0) >= 40)
    counts = dict(runner.recorder.counts)
    runner.shutdown()

    seen = Counter()
    images = []
    for topic, _, message in read_messages(path):
        seen[topic] += 1
        if topic == '/camera/image_raw':
            images.append(message)
    assert set(seen) == {'/camera/image_raw', '/camera/camera_info'}
    assert seen == counts and seen['/camera/image_raw'] >= 40
    first = images[0]
    pixels = np.frombuffer(bytes(first.data), np.uint8).reshape(first.height, first.width, 3)
    index = synthetic_media.frame_index_from_brightness(pixels)
    assert 0 <= index < 45 and first.encoding == 'bgr8'


def test_full_definitions_include_dependencies():
    text = message_definitions.full_definition('mmchat_ros/msg/DetectionArray')
    assert 'MSG: mmchat_ros/Detection' in text and 'MSG: std_msgs/Header' in text
    assert 'MSG: geometry_msgs/Point' in text and 'MSG: builtin_interfaces/Time' in text
    assert text.count('MSG: std_msgs/Header') == 1


def test_cli_reports_bad_arguments_without_a_traceback():
    result = subprocess.run([sys.executable, '-m', 'mmchat_ros.bringup', 'run',
                             '--profile', 'moon'],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown profile 'moon'" in result.stderr and 'Traceback' not in result.stderr
