"""camera_calibration YAML loading, the ideal pinhole, and scaling."""
import math

import pytest

from mmchat_ros import graph
from mmchat_ros.calibration import CalibrationError, CameraCalibration

EXAMPLE = graph.share_dir() / 'config' / 'calibration' / 'example_640x480.yaml'


def test_example_file_loads_and_round_trips(tmp_path):
    calibration = CameraCalibration.from_yaml(EXAMPLE)
    assert (calibration.width, calibration.height) == (640, 480)
    assert calibration.k[0] == pytest.approx(395.2) and len(calibration.d) == 5
    copy_path = tmp_path / 'copy.yaml'
    calibration.to_yaml(copy_path)
    assert CameraCalibration.from_yaml(copy_path) == calibration


def test_pinhole_focal_length_matches_field_of_view():
    calibration = CameraCalibration.pinhole(640, 480, 90.0)
    assert calibration.k[0] == pytest.approx(320.0)
    assert calibration.k[2] == 320.0 and calibration.k[5] == 240.0
    assert calibration.p[:3] == [calibration.k[0], 0.0, 320.0]


def test_scaling_keeps_field_of_view():
    full = CameraCalibration.pinhole(640, 480, 70.0)
    half = full.scaled_to(320, 240)
    fov = 2 * math.degrees(math.atan((half.width / 2) / half.k[0]))
    assert fov == pytest.approx(70.0)
    assert half.p[0] == pytest.approx(full.p[0] / 2)


@pytest.mark.parametrize('text, message', [
    ('image_width: 640\n', 'lacks'),
    ('[1, 2', 'not valid YAML'),
    ('just a string', 'does not hold a mapping'),
    ('image_width: 640\nimage_height: 480\ncamera_matrix: {rows: 3, cols: 3, data: [1, 2]}\n'
     'distortion_coefficients: {data: []}\nrectification_matrix: {data: [1,0,0,0,1,0,0,0,1]}\n'
     'projection_matrix: {data: []}\n', 'does not match'),
])
def test_bad_files_give_clear_errors(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    with pytest.raises(CalibrationError, match=message):
        CameraCalibration.from_yaml(path)


def test_missing_file_and_bad_values():
    with pytest.raises(CalibrationError, match='cannot read'):
        CameraCalibration.from_yaml('/nonexistent/calibration.yaml')
    with pytest.raises(CalibrationError, match='non-finite'):
        CameraCalibration(width=2, height=2, k=[1, 0, 1, 0, 1, 1, 0, 0, float('nan')])
    with pytest.raises(CalibrationError, match='horizontal_fov_deg'):
        CameraCalibration.pinhole(640, 480, 180.0)
