"""The slam node on a rendered sequence: real ORB-SLAM3 with the shipped vocabulary, real DDS."""
from dataclasses import dataclass
import math
from pathlib import Path

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Point, PoseStamped, Quaternion
from lifecycle_msgs.srv import GetState
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image, Imu
from std_msgs.msg import Header
from std_srvs.srv import Trigger

from mmchat_ros import ros_io
from mmchat_ros.calibration import CameraCalibration
from mmchat_ros.geometry import quaternion_from_matrix
from mmchat_ros.msg import SlamState
from mmchat_ros.nodes.sim_node import stamp
from mmchat_ros.nodes.slam_node import SlamNode
from mmchat_ros.ros_io import SENSOR_QOS
from mmchat_ros.slam.poses import Trajectory
from mmchat_tools.probe import Probe, spin_until
from mmchat_tools.slam import metrics
from mmchat_tools.slam.datasets import open_dataset
from test_slam_helpers import HEIGHT, WIDTH, short_sequence as rendered_short

FPS = 20.0


@dataclass(frozen=True)
class Frame:
    """One frame of the rendered sequence, read from disk when published."""

    path: Path
    world_from_camera: np.ndarray
    world_from_body: np.ndarray

    @property
    def image(self) -> np.ndarray:
        return cv2.imread(str(self.path))


@pytest.fixture(scope='module')
def short_sequence() -> list[Frame]:
    """The 'short' sequence (take-off and a quarter lap, 12 s, 640x480) with its ground truth."""
    dataset = open_dataset(rendered_short())
    return [Frame(path, camera, body) for (_, path), camera, body in zip(
        dataset.frames, dataset.groundtruth.matrices(), dataset.body_groundtruth.matrices())]


class Player(Probe):
    """Publishes frames with camera_info, IMU attitude and altitude odometry, like the simulator.

    It records what the SLAM node publishes.
    """

    def __init__(self, executor, context, frames, black_after=None, black_frames=0):
        super().__init__(executor, context, 'sequence_player')
        self.frames, self.index = frames, 0
        self.black_frames = black_frames
        self.image = self.publisher('/image_raw', Image, SENSOR_QOS)
        self.info = self.publisher('/camera_info', CameraInfo, SENSOR_QOS)
        self.imu = self.publisher('/imu', Imu, SENSOR_QOS)
        self.altitude = self.publisher('/altitude', Odometry)
        self.calibration = CameraCalibration.pinhole(WIDTH, HEIGHT, 90.0)
        self.records = {key: self.record(topic, kind) for key, kind, topic in (
            ('state', SlamState, '/slam/state'), ('pose', PoseStamped, '/slam/pose'),
            ('odom', Odometry, '/slam/odom'), ('diagnostics', DiagnosticArray, '/diagnostics'))}
        self.timer = self.create_timer(1.0 / FPS, self.tick)

    @property
    def done(self) -> bool:
        return self.index >= len(self.frames) + self.black_frames

    def tick(self):
        if self.done:
            return
        frame = self.frames[min(self.index, len(self.frames) - 1)]
        t = self.index / FPS
        image = (frame.image if self.index < len(self.frames)
                 else np.zeros((HEIGHT, WIDTH, 3), np.uint8))
        self.publish(image, t, frame.world_from_body)
        self.index += 1

    def publish(self, image, t, body, encoding='bgr8'):
        header = Header(stamp=stamp(t), frame_id='camera_optical_frame')
        q = quaternion_from_matrix(body[:3, :3])
        self.imu.publish(Imu(header=header, orientation=Quaternion(**dict(zip('xyzw', q)))))
        odometry = Odometry(header=Header(stamp=header.stamp, frame_id='odom'))
        odometry.pose.pose.position = Point(**dict(zip('xyz', map(float, body[:3, 3]))))
        self.altitude.publish(odometry)
        self.info.publish(ros_io.camera_info_msg(self.calibration, header))
        self.image.publish(ros_io.image_msg(image, encoding, header))

    def last_state(self):
        return self.records['state'][-1] if self.records['state'] else None


def start(ros_context, executor, player_args=(), **parameters):
    node = SlamNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {'fps': FPS, **parameters}.items()])
    executor.add_node(node)
    return node, Player(executor, ros_context, *player_args)


@pytest.mark.slow
def test_slam_tracks_follows_ground_truth_reports_loss_and_resets(ros_context, executor,
                                                                 short_sequence):
    node, player = start(ros_context, executor, (short_sequence, None, 50))
    assert spin_until(executor, lambda: player.done, 120.0)
    spin_until(executor, lambda: False, 0.3)
    states = player.records['state']
    tracking = [s for s in states if s.tracking_state == SlamState.STATE_OK]
    assert len(tracking) >= 0.8 * len(short_sequence), \
        'SLAM should track most of the take-off and lap'
    assert tracking[-1].maps == 1 and tracking[-1].scale_known
    assert tracking[-1].scale > 0 and tracking[-1].map_points > 0 and tracking[-1].keyframes > 2

    # The camera pose follows the ground truth after Sim(3) alignment (metric poses: frame 'map').
    poses = [p for p in player.records['pose'] if p.header.frame_id == 'map']
    times = np.array([ros_io.seconds(p.header.stamp) for p in poses])
    positions = np.array([[p.pose.position.x, p.pose.position.y, p.pose.position.z] for p in poses])
    truth = Trajectory.from_matrices([k / FPS for k in range(len(short_sequence))],
                                     [f.world_from_camera for f in short_sequence])
    error = metrics.ate(Trajectory(times, positions, np.tile([0, 0, 0, 1.0], (len(times), 1))),
                        truth)
    assert error.rmse_m < 0.08 and error.rmse_percent < 1.0, error

    # The odometry is metric and in the world frame without any alignment: the scale and the map
    # frame come from the climb (the benchmark measures scale errors of 0.1-2.2 %).
    valid = [o for o in player.records['odom'] if math.isfinite(o.pose.pose.position.x)]
    assert valid and valid[0].header.frame_id == 'map' and valid[0].child_frame_id == 'base_link'
    gaps = []
    for o in valid:
        body = short_sequence[round(ros_io.seconds(o.header.stamp) * FPS)].world_from_body
        p = o.pose.pose.position
        gaps.append(np.linalg.norm(np.array([p.x, p.y, p.z]) - body[:3, 3]))
    # Exact where the map was anchored; a scale error of a few percent grows with the distance.
    assert np.median(gaps[:20]) < 0.1 and np.median(gaps) < 0.3 and max(gaps) < 0.6, \
        (np.median(gaps[:20]), np.median(gaps), max(gaps))

    # Black frames: tracking is lost, reported, and the odometry turns invalid (NaN) at once.
    last = player.last_state()
    assert last.tracking_state in (SlamState.STATE_RECENTLY_LOST, SlamState.STATE_LOST)
    assert not last.odometry_valid
    assert math.isnan(player.records['odom'][-1].pose.pose.position.x)

    client = player.create_client(Trigger, '/slam/reset')
    # discovery is slow on a loaded machine
    assert spin_until(executor, client.service_is_ready, 30.0)
    future = client.call_async(Trigger.Request())
    assert spin_until(executor, future.done, 10.0)
    assert future.result().success and '1 resets' in future.result().message


def warnings(player, level):
    return [s.message for d in player.records['diagnostics'] for s in d.status
            if s.level == level and s.name.endswith('slam')]


def test_bad_images_are_rejected_and_a_dead_slam_process_is_restarted(
        ros_context, executor, short_sequence):
    node, player = start(ros_context, executor, (short_sequence[:0],))
    frame = short_sequence[0]

    def send(image, t, encoding='bgr8'):
        player.publish(image, t, frame.world_from_body, encoding)
        spin_until(executor, lambda: False, 0.15)

    t = 0.0
    while not player.records['state'] and t < 30.0:    # the first camera_info starts ORB-SLAM3
        send(frame.image, t)
        t += 0.05
    assert player.records['state'], 'SLAM never started'
    processed = player.last_state().frames_processed

    def reasons():
        return {v.value for d in player.records['diagnostics'] for s in d.status
                if s.name.endswith('slam') for v in s.values if v.key == 'last rejection'}

    def rejected(image, t, expected, encoding='bgr8'):
        send(image, t, encoding)
        return spin_until(executor, lambda: any(expected in r for r in reasons()), 3.0)

    assert rejected(np.zeros((HEIGHT, WIDTH), np.uint16), t + 0.1,
                    "encoding 'mono16' is not one of", 'mono16')
    assert rejected(np.zeros((HEIGHT // 2, WIDTH // 2, 3), np.uint8), t + 0.2,
                    f'size {WIDTH // 2}x{HEIGHT // 2} differs from the calibrated {WIDTH}x{HEIGHT}')
    assert rejected(frame.image, t - 0.05, 'is not after the previous frame')
    send(frame.image, t + 0.3)
    assert spin_until(executor, lambda: player.last_state().frames_processed > processed, 5.0)
    assert player.last_state().frames_rejected == 3

    # ORB-SLAM3's process dies: the node reports it and starts a new one from the next camera_info.
    node._session.backend._process.kill()
    send(frame.image, t + 0.4)
    assert spin_until(executor, lambda: any('SLAM failed' in m
                                            for m in warnings(player, DiagnosticStatus.ERROR)),
                      3.0)

    def starts():
        return [v.value for d in player.records['diagnostics'] for s in d.status
                if s.name.endswith('slam') for v in s.values if v.key == 'SLAM starts']
    for k in range(1, 60):
        send(frame.image, t + 0.4 + 0.05 * k)
        if starts()[-1:] == ['2']:
            break
    assert starts()[-1:] == ['2'], starts()[-3:]
    count = len(player.records['state'])
    send(frame.image, t + 3.5)
    # tracking again
    assert spin_until(executor, lambda: len(player.records['state']) > count, 3.0)


def lifecycle_state(executor, asker) -> int:
    client = asker.create_client(GetState, '/slam/get_state')
    # discovery is slow on a loaded machine
    assert spin_until(executor, client.service_is_ready, 30.0)
    future = client.call_async(GetState.Request())
    assert spin_until(executor, future.done, 5.0)
    return future.result().current_state.id


def test_missing_vocabulary_leaves_the_node_unconfigured_with_the_reason(ros_context, executor):
    from lifecycle_msgs.msg import State
    node, player = start(ros_context, executor, ([],), vocabulary='/nonexistent/ORBvoc.txt')

    def error_reported():
        return any('ORBvoc.txt does not exist' in m
                   for m in warnings(player, DiagnosticStatus.ERROR))
    assert spin_until(executor, error_reported, 5.0)
    assert lifecycle_state(executor, player) == State.PRIMARY_STATE_UNCONFIGURED
