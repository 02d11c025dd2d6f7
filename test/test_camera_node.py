"""The camera node through the in-process runner: rate, stamps, CameraInfo, content, failures."""
import time

from diagnostic_msgs.msg import DiagnosticStatus
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo, Image

from mmchat_ros import ros_io
from mmchat_ros.ros_io import SENSOR_QOS
from mmchat_tools import synthetic_media


IMAGE, INFO = '/camera/image_raw', '/camera/camera_info'


def start_camera(run_profile, make_probe, **camera_overrides):
    """The replay profile's camera, and a probe recording its outputs.

    The probe records images (with arrival times), camera infos and diagnostics.
    """
    overrides = {'source': 'test_pattern', **camera_overrides}
    runner = run_profile('replay', overrides={'camera': overrides})
    probe = make_probe(runner, 'camera_probe')
    probe.record(IMAGE, Image, SENSOR_QOS, arrival=time.monotonic)
    probe.record(INFO, CameraInfo, SENSOR_QOS)
    probe.record_diagnostics()
    return runner, probe


def test_video_is_published_at_the_configured_rate_with_camera_info(run_profile, make_probe,
                                                                    test_video):
    runner, probe = start_camera(run_profile, make_probe, source='video', path=str(test_video),
                                 loop=False, fps=15.0, width=320, height=240)
    def last_frame_seen():
        return probe.messages(IMAGE) and synthetic_media.frame_index_from_brightness(
            ros_io.image_array(probe.messages(IMAGE)[-1][1])) == 44
    assert runner.spin(8.0, until=last_frame_seen)
    runner.spin(0.3)  # the video has ended: let the last CameraInfo arrive
    assert len(probe.messages(IMAGE)) >= 40
    arrivals = np.array([t for t, _ in probe.messages(IMAGE)[:40]])
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert rate == pytest.approx(15.0, rel=0.15)

    stamps = [ros_io.seconds(m.header.stamp) for _, m in probe.messages(IMAGE)]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert abs(stamps[-1] - time.time()) < 1.0
    images = [m for _, m in probe.messages(IMAGE)]
    assert {(m.width, m.height, m.encoding) for m in images} == {(320, 240, 'bgr8')}
    assert {m.header.frame_id for m in images} == {'camera_optical_frame'}
    indices = [synthetic_media.frame_index_from_brightness(ros_io.image_array(m)) for m in images]
    assert indices == list(range(indices[0], indices[0] + len(indices)))  # in order, none skipped

    info_stamps = {(i.header.stamp.sec, i.header.stamp.nanosec) for i in probe.messages(INFO)}
    assert {(m.header.stamp.sec, m.header.stamp.nanosec) for m in images} <= info_stamps
    info = probe.messages(INFO)[-1]
    assert (info.width, info.height) == (320, 240)
    assert info.k[2] == pytest.approx(160.0) and info.k[5] == pytest.approx(120.0)


def test_calibration_file_is_scaled_to_the_published_size(run_profile, make_probe):
    from mmchat_ros import graph
    calibration = graph.share_dir() / 'config' / 'calibration' / 'example_640x480.yaml'
    runner, probe = start_camera(run_profile, make_probe, calibration_file=str(calibration),
                                 width=320, height=240)
    assert runner.spin(5.0, until=lambda: probe.messages(INFO))
    assert probe.messages(INFO)[0].k[0] == pytest.approx(395.2 / 2)
    assert probe.messages(INFO)[0].d == pytest.approx([0.031, -0.082, 0.0004, -0.0011, 0.0])


@pytest.mark.parametrize('encoding, channels', [('rgb8', 3), ('mono8', 1)])
def test_other_encodings(run_profile, make_probe, encoding, channels):
    runner, probe = start_camera(run_profile, make_probe, encoding=encoding, width=64, height=48)
    assert runner.spin(5.0, until=lambda: probe.messages(IMAGE))
    image = probe.messages(IMAGE)[0][1]
    assert image.encoding == encoding and image.step == 64 * channels


def error_status(probe):
    return [s for s in probe.statuses('camera') if s.level == DiagnosticStatus.ERROR]


def test_missing_video_file_reports_an_error_and_the_node_stays_up(run_profile, make_probe):
    runner, probe = start_camera(run_profile, make_probe, source='video',
                                 path='/nonexistent/clip.avi')
    assert runner.spin(5.0, until=lambda: error_status(probe))
    assert 'does not exist' in error_status(probe)[-1].message
    assert not probe.messages(IMAGE)
    assert runner.nodes['camera'].context.ok()


@pytest.mark.parametrize('overrides, message', [
    ({'fps': 0.0}, 'fps must be positive'),
    ({'encoding': '16UC1'}, "encoding '16UC1'"),
    ({'calibration_file': '/nonexistent.yaml'}, 'no usable calibration'),
])
def test_bad_parameters_leave_the_node_up_and_idle(run_profile, make_probe, overrides, message):
    runner, probe = start_camera(run_profile, make_probe, **overrides)
    assert runner.spin(5.0, until=lambda: error_status(probe))
    assert message in error_status(probe)[-1].message
    assert not probe.messages(IMAGE)


def test_image_folder_with_mixed_sizes_counts_skipped_frames(run_profile, make_probe, tmp_path):
    synthetic_media.write_image_folder(tmp_path, 4, width=80, height=60)
    synthetic_media.write_image_folder(tmp_path / 'sub', 1)  # not an image: a folder is ignored
    import cv2
    cv2.imwrite(str(tmp_path / 'frame_0001x.png'), np.zeros((30, 40, 3), np.uint8))
    runner, probe = start_camera(run_profile, make_probe, source='folder', path=str(tmp_path),
                                 loop=False, width=80, height=60, fps=30.0)

    def skipped_reported():
        return any(v.key == 'frames skipped' and v.value == '1'
                   for s in probe.statuses('camera') for v in s.values)
    assert runner.spin(6.0, until=lambda: len(probe.messages(IMAGE)) == 4 and skipped_reported())
    indices = [synthetic_media.frame_index_from_brightness(ros_io.image_array(m))
               for _, m in probe.messages(IMAGE)]
    assert indices == [0, 1, 2, 3]
