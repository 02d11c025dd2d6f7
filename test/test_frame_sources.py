"""Frame sources: test pattern, video file, image folder, and their failure modes."""
import cv2
import numpy as np
import pytest

from mmchat_ros import frame_sources
from mmchat_ros.frame_sources import SourceError
from mmchat_tools import synthetic_media


def test_test_pattern_changes_every_frame():
    source = frame_sources.open_source('test_pattern', width=160, height=120)
    first, second = source.read(), source.read()
    assert first.shape == (120, 160, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, second)


def test_video_plays_in_order_then_ends_or_loops(test_video):
    once = frame_sources.open_source('video', width=640, height=480, path=str(test_video),
                                     loop=False)
    indices = []
    while (frame := once.read()) is not None:
        indices.append(synthetic_media.frame_index_from_brightness(frame))
    assert indices == list(range(45)) and once.exhausted

    looping = frame_sources.open_source('video', width=320, height=240, path=str(test_video),
                                        loop=True)
    frames = [looping.read() for _ in range(50)]
    assert all(f is not None and f.shape == (240, 320, 3) for f in frames)
    assert synthetic_media.frame_index_from_brightness(frames[45]) == 0


def test_folder_skips_unreadable_and_mismatched_images(tmp_path):
    synthetic_media.write_image_folder(tmp_path, 3, width=64, height=48)
    cv2.imwrite(str(tmp_path / 'frame_0001b.png'), np.zeros((10, 10, 3), np.uint8))
    (tmp_path / 'frame_0002b.png').write_bytes(b'not a png')
    source = frame_sources.open_source('folder', width=64, height=48, path=str(tmp_path),
                                       loop=False)
    frames = []
    while not source.exhausted:
        frame = source.read()
        if frame is not None:
            frames.append(synthetic_media.frame_index_from_brightness(frame))
    assert frames == [0, 1, 2]
    assert sum(source.problems.values()) == 2
    assert any('10x10' in problem for problem in source.problems)
    assert any('unreadable' in problem for problem in source.problems)


@pytest.mark.parametrize('kind, kwargs, message', [
    ('video', {'path': '/nonexistent/clip.avi'}, 'does not exist'),
    ('folder', {'path': '/nonexistent/frames'}, 'does not exist'),
    ('v4l2', {'device': '/dev/video99'}, 'does not exist'),
    ('webcam', {}, "unknown source 'webcam'"),
])
def test_sources_that_cannot_open_say_why(kind, kwargs, message):
    with pytest.raises(SourceError, match=message):
        frame_sources.open_source(kind, width=64, height=48, **kwargs)


def test_undecodable_video_and_empty_folder(tmp_path):
    bogus = tmp_path / 'bogus.avi'
    bogus.write_bytes(b'\x00' * 1000)
    with pytest.raises(SourceError, match='cannot decode'):
        frame_sources.open_source('video', width=64, height=48, path=str(bogus))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SourceError, match='holds no images'):
        frame_sources.open_source('folder', width=64, height=48, path=str(empty))
