"""ROS-free SLAM parts: alignment and ATE, poses, the scale method, settings, dataset readers."""
import math

import numpy as np
import pytest

from mmchat_ros.calibration import CameraCalibration
from mmchat_ros.geometry import quaternion_from_matrix, rotation_matrix
from mmchat_ros.slam.poses import Trajectory, invert, optical_from_body, pose_matrix
from mmchat_ros.slam.scale import AnchorSample, ScaleEstimator
from mmchat_ros.slam.settings import OrbParameters, SettingsError, settings_text
from mmchat_tools.slam import datasets, metrics


def random_rotation(rng) -> np.ndarray:
    q = rng.normal(size=4)
    return rotation_matrix(q / np.linalg.norm(q))


def test_quaternion_round_trip_and_inverse():
    rng = np.random.default_rng(1)
    for _ in range(50):
        r = random_rotation(rng)
        q = quaternion_from_matrix(r)
        assert q[3] >= 0 and np.allclose(rotation_matrix(q), r, atol=1e-9)
    t = pose_matrix([1.0, 2.0, 3.0], quaternion_from_matrix(random_rotation(rng)))
    assert np.allclose(invert(t) @ t, np.eye(4), atol=1e-12)


def test_umeyama_recovers_a_similarity_and_ate_is_zero_after_it():
    rng = np.random.default_rng(2)
    source = rng.normal(size=(40, 3))
    r, s, t = random_rotation(rng), 3.7, np.array([1.0, -2.0, 0.5])
    target = s * source @ r.T + t
    scale, rotation, translation = metrics.umeyama(source, target)
    assert scale == pytest.approx(s) and np.allclose(rotation, r) and np.allclose(translation, t)
    times = np.arange(40) * 0.05
    estimate = Trajectory(times, source, np.tile([0, 0, 0, 1.0], (40, 1)))
    truth = Trajectory(times + 0.002, target, np.tile([0, 0, 0, 1.0], (40, 1)))
    assert metrics.ate(estimate, truth).rmse_m < 1e-9
    assert metrics.ate(estimate, truth).scale == pytest.approx(s)
    assert metrics.ate(estimate, truth, with_scale=False).rmse_m > 0.5     # SE(3) cannot fix scale


def test_association_takes_the_nearest_time_within_the_limit():
    i, j = metrics.associate(np.array([0.0, 1.0, 2.0, 5.0]), np.array([2.004, 0.999, 3.0]), 0.01)
    assert i.tolist() == [1, 2] and j.tolist() == [1, 0]


def test_camera_mount_matches_the_simulator_camera():
    from mmchat_tools.slam import sequences
    frame = next(sequences.frames('short', 64, 48, duration_s=0.05))
    body_from_camera = invert(frame.world_from_body) @ frame.world_from_camera
    assert np.allclose(body_from_camera, optical_from_body(10.0, (0.15, 0.0, 0.0)), atol=1e-5)


def synthetic_flight(n=120, climb_m=1.2):
    """Body poses climbing and turning; camera poses expressed in an arbitrary SLAM similarity."""
    mount = optical_from_body(10.0, (0.15, 0.0, 0.0))
    bodies = []
    for k in range(n):
        t = k / 20
        yaw = 0.3 * t
        position = [math.cos(0.2 * t) * 2, math.sin(0.2 * t) * 2, 0.3 + climb_m * min(t / 4, 1.0)]
        bodies.append(pose_matrix(position, [0, 0, math.sin(yaw / 2), math.cos(yaw / 2)]))
    rng = np.random.default_rng(3)
    slam_from_world_r, slam_scale, slam_t = random_rotation(rng), 0.25, np.array([0.3, -1.0, 2.0])
    cameras = []
    for body in bodies:
        world_camera = body @ mount
        slam_camera = np.eye(4)
        slam_camera[:3, :3] = slam_from_world_r @ world_camera[:3, :3]
        slam_camera[:3, 3] = slam_scale * slam_from_world_r @ world_camera[:3, 3] + slam_t
        cameras.append(slam_camera)
    return mount, bodies, cameras, slam_scale


def test_scale_and_map_frame_from_altitude_and_attitude():
    mount, bodies, cameras, slam_scale = synthetic_flight()
    estimator = ScaleEstimator(mount, min_climb_m=0.8)
    results = [estimator.add(AnchorSample(c, b[:3, :3], b[2, 3], (b[0, 3], b[1, 3])))
               for b, c in zip(bodies, cameras)]
    first_known = next(k for k, r in enumerate(results) if r is not None)
    assert bodies[first_known][2, 3] - bodies[0][2, 3] >= 0.8            # not before the climb
    anchor = estimator.result
    assert anchor.scale == pytest.approx(1 / slam_scale, rel=1e-9)
    for body, camera in zip(bodies[::17], cameras[::17]):             # metric, z up, take-off x, y
        assert np.allclose(anchor.apply_pose(camera) @ invert(mount), body, atol=1e-9)


def test_scale_fit_is_not_believed_when_the_altitude_disagrees():
    mount, bodies, cameras, _ = synthetic_flight()
    rng = np.random.default_rng(4)
    estimator = ScaleEstimator(mount, min_climb_m=0.8, max_residual_fraction=0.1)
    for body, camera in zip(bodies, cameras):
        estimator.add(AnchorSample(camera, body[:3, :3], body[2, 3] + rng.normal(0, 0.3)))
    assert estimator.result is None and estimator.residual_m > 0.1 * estimator.climb_m


def test_settings_have_typed_values_and_refuse_what_orbslam3_cannot_use():
    calibration = CameraCalibration.pinhole(640, 480, 90.0)
    text = settings_text(calibration, 20.0, OrbParameters())
    lines = dict(line.split(': ', 1) for line in text.splitlines() if ': ' in line)
    assert text.startswith('%YAML:1.0') and lines['Camera.type'] == '"PinHole"'
    assert float(lines['Camera1.fx']) == pytest.approx(320.0) and '.' in lines['Camera1.fx']
    assert lines['Camera1.k1'] == '0.0'
    assert lines['Camera.width'] == '640' and lines['Camera.fps'] == '20'
    assert lines['ORBextractor.scaleFactor'] == '1.2' and lines['ORBextractor.nFeatures'] == '1000'
    fisheye = CameraCalibration(width=640, height=480, k=calibration.k, d=[0.1, 0.01, 0.0, 0.0],
                                distortion_model='equidistant')
    assert 'KannalaBrandt8' in settings_text(fisheye, 30.0, OrbParameters())
    rational = CameraCalibration(width=640, height=480, k=calibration.k,
                                 d=[0, 0, 0, 0, 0, 0.2, 0, 0],
                                 distortion_model='rational_polynomial')
    with pytest.raises(SettingsError, match='k4-k6'):
        settings_text(rational, 30.0, OrbParameters())
    with pytest.raises(SettingsError, match='n_features'):
        settings_text(calibration, 30.0, OrbParameters(n_features=5))
    with pytest.raises(SettingsError, match='fps'):
        settings_text(calibration, 0.0, OrbParameters())


def write_png(path, value=128):
    import cv2
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((48, 64), value, np.uint8))


def test_tum_layout_is_read_with_its_intrinsics_and_ground_truth(tmp_path):
    for t in (0.0, 0.05, 0.1):
        write_png(tmp_path / 'rgb' / f'{t:.6f}.png')
    (tmp_path / 'rgb.txt').write_text('# timestamp filename\n' + ''.join(
        f'{t:.6f} rgb/{t:.6f}.png\n' for t in (0.1, 0.0, 0.05)))
    with pytest.raises(datasets.DatasetError, match='intrinsics'):
        datasets.open_dataset(tmp_path)
    CameraCalibration.pinhole(64, 48, 90.0).to_yaml(tmp_path / 'camera.yaml')
    Trajectory(np.array([0.0, 0.05]), np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 1))).write_tum(
        tmp_path / 'groundtruth.txt')
    dataset = datasets.open_dataset(tmp_path)
    assert dataset.layout == 'tum' and [t for t, _ in dataset.frames] == [0.0, 0.05, 0.1]
    assert dataset.fps == pytest.approx(20.0) and len(dataset.groundtruth) == 2
    assert dataset.calibration.k[0] == pytest.approx(32.0)


def test_euroc_layout_is_read_with_its_sensor_yaml(tmp_path):
    camera = tmp_path / 'mav0' / 'cam0'
    stamps = [1403636579763555584 + k * 50_000_000 for k in range(3)]
    for s in stamps:
        write_png(camera / 'data' / f'{s}.png')
    (camera / 'data.csv').write_text('#timestamp [ns],filename\n'
                                     + ''.join(f'{s},{s}.png\n' for s in stamps))
    (camera / 'sensor.yaml').write_text(
        '%YAML:1.0\ncamera_model: pinhole\nintrinsics: [458.654, 457.296, 367.215, 248.375]\n'
        'distortion_model: radial-tangential\n'
        'distortion_coefficients: [-0.28340811, 0.07395907, 0.00019359, 1.76187114e-05]\n'
        'resolution: [752, 480]\nrate_hz: 20\n')
    truth = tmp_path / 'mav0' / 'state_groundtruth_estimate0'
    truth.mkdir()
    (truth / 'data.csv').write_text('#timestamp,px,py,pz,qw,qx,qy,qz\n'
                                    f'{stamps[0]},1,2,3,1,0,0,0\n{stamps[1]},1,2,3,0,0,0,1\n')
    dataset = datasets.open_dataset(tmp_path)
    assert dataset.layout == 'euroc' and len(dataset.frames) == 3
    assert dataset.frames[0][0] == pytest.approx(1403636579.763555584)
    assert dataset.calibration.width == 752 and dataset.calibration.k[0] == pytest.approx(458.654)
    assert dataset.groundtruth.quaternions[0].tolist() == [0, 0, 0, 1]      # w x y z -> x y z w
    with pytest.raises(datasets.DatasetError, match='neither'):
        datasets.open_dataset(tmp_path / 'mav0' / 'cam0' / 'data')
