"""The simulator node through the runner: sim time, sensors, cameras, lockstep, bad input."""
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import Odometry
import pytest
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, CameraInfo, Image, Imu

from mmchat_ros import graph, ros_io
from mmchat_ros.msg import DetectionArray, MotorCommand
from mmchat_ros.ros_io import SENSOR_QOS

FAST = {'real_time_factor': 0.0}


#: What the tests record of the simulator's outputs: key -> (topic, type, QoS).
TOPICS = {'clock': ('/clock', Clock, 10), 'imu': ('/imu', Imu, SENSOR_QOS),
          'odom': ('/sim/odom', Odometry, 10), 'image': ('/camera/image_raw', Image, SENSOR_QOS),
          'info': ('/camera/camera_info', CameraInfo, SENSOR_QOS),
          'battery': ('/battery', BatteryState, 10),
          'targets': ('/sim/targets', DetectionArray, 10),
          'diagnostics': ('/diagnostics', DiagnosticArray, 10)}


def start(run_profile, make_probe, thrust_n: float | None = None, stamp_offset_ns: int = 0,
          **sim_overrides):
    """The sim profile's simulator node alone, and a probe recording its outputs (TOPICS).

    Given `thrust_n`, the probe answers each IMU sample like a controller (its stamp shifted by
    `stamp_offset_ns`). Returns the runner, the probe and the recorded messages by key.
    """
    alone = graph.Profile('sim_alone', 'the simulator node',
                          (graph.load_profile('sim').node('sim'),))
    runner = run_profile(alone, overrides={'sim': {**FAST, **sim_overrides}})
    probe = make_probe(runner, 'sim_listener')
    messages = {key: probe.record(topic, msg_type, qos)
                for key, (topic, msg_type, qos) in TOPICS.items()}
    if thrust_n is not None:
        motors = probe.publisher('/motor_command', MotorCommand)

        def answer(imu: Imu) -> None:
            command = MotorCommand(armed=True, thrust_n=[thrust_n] * 4)
            command.header.stamp = imu.header.stamp
            command.header.stamp.nanosec = (command.header.stamp.nanosec
                                            + stamp_offset_ns) % 1_000_000_000
            motors.publish(command)
        probe.create_subscription(Imu, '/imu', answer, SENSOR_QOS)
    return runner, probe, messages


def sim_time(messages: dict[str, list]) -> float:
    """The latest /clock, 0 before the first."""
    return ros_io.seconds(messages['clock'][-1].clock) if messages['clock'] else 0.0


def test_sim_publishes_time_sensors_cameras_and_truth(run_profile, make_probe):
    runner, _, m = start(run_profile, make_probe)
    assert runner.spin(30.0, until=lambda: sim_time(m) > 1.0 and m['image'])
    imu, odom = m['imu'][-1], m['odom'][-1]
    assert imu.header.frame_id == 'base_link'
    assert imu.linear_acceleration.z == pytest.approx(9.81, abs=0.2)
    assert odom.header.frame_id == 'odom' and odom.child_frame_id == 'base_link'
    assert 0.0 < odom.pose.pose.position.z < 0.1                        # resting on the floor
    image, info = m['image'][-1], m['info'][-1]
    assert (image.width, image.height, image.encoding) == (320, 240, 'bgr8')
    assert image.header.frame_id == 'camera_optical_frame' and info.k[2] == pytest.approx(160.0)
    assert ros_io.image_array(image).std() > 20
    stamps = [ros_io.seconds(i.header.stamp) for i in m['imu']]
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    runner.spin(0.5)
    assert m['battery'] and m['battery'][-1].percentage == pytest.approx(1.0, abs=0.01)
    assert {d.class_name for d in m['targets'][-1].detections} == {'person'}
    camera_stamps = [ros_io.seconds(i.header.stamp) for i in m['image']]
    if len(camera_stamps) > 2:
        # 20 Hz in sim time
        assert (camera_stamps[-1] - camera_stamps[-2]) == pytest.approx(0.05, abs=1e-6)


def test_lockstep_runs_a_controller_at_every_step_and_thrust_lifts(run_profile, make_probe):
    runner, probe, m = start(run_profile, make_probe, thrust_n=9.80665 / 4 * 1.3)
    assert runner.spin(30.0, until=lambda: sim_time(m) > 1.0)
    heights = [o.pose.pose.position.z for o in m['odom']]
    assert heights[-1] > 0.5
    stats = [v for s in probe.statuses('sim') for v in s.values if v.key == 'lockstep timeouts']
    assert not stats, 'every IMU sample was answered, so lockstep never timed out'


def test_lockstep_waits_for_the_answer_to_the_current_sample(run_profile, make_probe):
    """A controller whose answers carry the wrong stamp makes the simulator wait (then time out)."""
    runner, _, m = start(run_profile, make_probe, thrust_n=3.0, stamp_offset_ns=1,
                         lockstep_timeout_s=0.2)
    started = time.monotonic()
    runner.spin(2.0)
    elapsed = time.monotonic() - started
    samples = len(m['imu'])
    assert samples <= elapsed / 0.2 + 2          # one step per timeout at most


def test_bad_motor_commands_are_ignored_with_an_error(run_profile, make_probe):
    runner, probe, m = start(run_profile, make_probe)
    publisher = probe.publisher('/motor_command', MotorCommand)
    runner.spin(1.0)
    publisher.publish(MotorCommand(armed=True, thrust_n=[100.0, 100.0]))
    publisher.publish(MotorCommand(armed=True, thrust_n=[float('nan')] * 4))

    def warned():
        return any(s.level == DiagnosticStatus.WARN and 'bad motor command' in s.message
                   for s in probe.statuses())
    assert runner.spin(10.0, until=warned)
    assert m['odom'][-1].pose.pose.position.z < 0.1


def test_missing_world_file_leaves_the_node_up_with_an_error(run_profile, make_probe):
    runner, probe, m = start(run_profile, make_probe, world='sim/worlds/atlantis.yaml')

    def error_reported():
        return any(s.level == DiagnosticStatus.ERROR and 'atlantis' in s.message
                   for s in probe.statuses())
    assert runner.spin(5.0, until=error_reported)
    assert not m['clock']
