"""The SLAM node's bookkeeping without ROS: sensor matching, body velocity, the map cloud."""
import numpy as np
import pytest

from mmchat_ros.slam.bookkeeping import BodyVelocity, MapCloud, SampleBuffer


def body_pose(x: float, yaw_deg: float = 0.0) -> np.ndarray:
    yaw = np.radians(yaw_deg)
    pose = np.eye(4)
    pose[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
    pose[0, 3] = x
    return pose


def test_the_nearest_sample_within_the_tolerance_is_matched():
    samples = SampleBuffer(size=3, tolerance_s=0.05)
    assert samples.nearest(1.0) is None
    for t in (1.00, 1.10, 1.20, 1.30):                 # the oldest falls out of a buffer of 3
        samples.add(t, f'at {t:.2f}')
    assert samples.nearest(1.12) == 'at 1.10'
    assert samples.nearest(1.34) == 'at 1.30'
    assert samples.nearest(1.00) is None               # dropped
    assert samples.nearest(1.40) is None               # too far from any


def test_body_velocity_is_smoothed_and_in_the_body_frame():
    velocity = BodyVelocity()
    assert velocity.update(0.0, body_pose(0.0, 90.0)) == pytest.approx([0, 0, 0])
    # 1 m/s along world x while facing +y (yaw 90 deg): body -y; half of it after one step.
    assert velocity.update(1.0, body_pose(1.0, 90.0)) == pytest.approx([0, -0.5, 0], abs=1e-9)
    assert velocity.update(2.0, body_pose(2.0, 90.0)) == pytest.approx([0, -0.75, 0], abs=1e-9)
    assert velocity.update(2.0, body_pose(5.0, 90.0)) == pytest.approx([0, -0.75, 0], abs=1e-9)
    velocity.forget_pose()                              # a new map: no jump from the old pose
    assert velocity.update(3.0, body_pose(100.0, 90.0)) == pytest.approx([0, -0.75, 0], abs=1e-9)
    velocity.reset()
    assert velocity.update(4.0, body_pose(0.0)) == pytest.approx([0, 0, 0])


def test_the_map_cloud_drops_repeats_and_keeps_the_newest():
    cloud = MapCloud()
    cloud.add(np.array([[0, 0, 1.0], [1, 0, 1.0]]), limit=10)
    cloud.add(np.array([[1, 0, 1.0 + 1e-8], [2, 0, 1.0]]), limit=10)   # a repeat, a new point
    assert cloud.points.tolist() == [[0, 0, 1.0], [1, 0, 1.0], [2, 0, 1.0]]
    cloud.add(np.array([[3, 0, 1.0]]), limit=2)
    assert cloud.points.tolist() == [[2, 0, 1.0], [3, 0, 1.0]]
    assert len(cloud) == 2
    cloud.clear()
    assert len(cloud) == 0
