"""The flight controller flying on SLAM odometry: when tracking is lost its failsafe acts.

Simulator, flight controller and slam node in one process (real ORB-SLAM3, real MuJoCo). The
controller's state_topic is a relay that forwards the simulator's odometry until SLAM's odometry is
valid (the take-off climb fixes its scale), then SLAM's only. The slam node's camera goes through a
second relay that can black the images out.
"""
import math

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
import pytest
from rclpy.node import Node
from sensor_msgs.msg import Image

from test_flight_helpers import FC_SPEC, FlightProbe, QUICK
from mmchat_ros import graph
from mmchat_ros.graph_runner import GraphRunner
from mmchat_ros.msg import Command, SlamState, VehicleState
from mmchat_ros.ros_io import SENSOR_QOS

S = VehicleState


class Relays(Node):
    """State estimate for the controller (sim, then SLAM) and camera images for SLAM (or black)."""

    def __init__(self, context):
        super().__init__('slam_flight_relays', context=context)
        self.on_slam = False
        self.blind = False
        self.slam_states: list[SlamState] = []
        self.scale_fit: dict[str, str] = {}
        state = self.create_publisher(Odometry, '/test/state', 10)
        image = self.create_publisher(Image, '/test/image_raw', SENSOR_QOS)

        def from_sim(msg):
            if not self.on_slam:
                state.publish(msg)

        def from_slam(msg):
            self.on_slam = self.on_slam or math.isfinite(msg.pose.pose.position.x)
            if self.on_slam:
                state.publish(msg)

        def camera(msg):
            if self.blind:
                msg.data = bytes(len(msg.data))
            image.publish(msg)
        self.create_subscription(Odometry, '/sim/odom', from_sim, 10)
        self.create_subscription(Odometry, '/slam/odom', from_slam, 10)
        self.create_subscription(Image, '/camera/image_raw', camera, SENSOR_QOS)
        self.create_subscription(SlamState, '/slam/state', self.slam_states.append, 10)
        self.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics, 10)

    def diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith('slam'):
                self.scale_fit.update({v.key: v.value for v in status.values if 'scale' in v.key})


def flight_with_slam() -> GraphRunner:
    sim_profile = graph.load_profile('sim')
    slam = sim_profile.node('slam')
    slam = graph.NodeSpec(slam.name, slam.executable, slam.parameters, tuple(
        (source, '/test/image_raw' if source == 'image_raw' else target)
        for source, target in slam.remappings))
    profile = graph.Profile('slam_flight', 'simulator, flight controller on SLAM', (
        sim_profile.node('sim'), FC_SPEC, slam))
    return GraphRunner(profile, overrides={
        # 640x480: at the default 320x240 monocular ORB-SLAM3 drifts too much for a reliable scale
        'sim': {'real_time_factor': 0.0, 'camera_width': 640, 'camera_height': 480},
        'flight_controller': {**QUICK, 'state_topic': '/test/state'}}).start()


@pytest.mark.slow
def test_lost_tracking_makes_the_controller_flying_on_slam_fail_safe():
    runner = flight_with_slam()
    relays = Relays(runner.context)
    probe = FlightProbe(runner)
    runner.add_node(relays)
    try:
        assert runner.spin(30.0, until=lambda: probe.state is not None
                           and probe.state.header.frame_id == 'odom')
        def done(request):
            return runner.spin(60.0, until=lambda: request in probe.results and probe.mode_is(
                S.MODE_FLYING) and not probe.state.active_request_id) \
                and probe.results[request].accepted

        def tracking():
            return (relays.slam_states
                    and relays.slam_states[-1].tracking_state == SlamState.STATE_OK)

        # Take off low, slide sideways (parallax initialises the map), then climb: the climb while
        # tracking gives SLAM its metric scale, and the controller switches to SLAM's odometry.
        assert done(probe.send(Command.TAKEOFF, altitude_m=0.6))
        assert done(probe.send(Command.MOVE_BY, y_m=1.0, frame_id='base_link'))
        assert runner.spin(30.0, until=tracking), f'SLAM is not tracking: {relays.slam_states[-1:]}'
        assert done(probe.send(Command.MOVE_BY, z_m=1.0, frame_id='base_link'))
        assert runner.spin(30.0, until=lambda: relays.on_slam), \
            f'SLAM odometry never became valid: {relays.scale_fit}, {relays.slam_states[-1:]}'
        runner.spin(1.5)                              # hovering on SLAM's estimate
        assert probe.state.failsafe == S.FAILSAFE_NONE and probe.state.armed
        assert abs(probe.position()[2] - 1.6) < 0.4

        relays.blind = True
        assert runner.spin(15.0, until=lambda: probe.state.failsafe == S.FAILSAFE_STATE_STALE)
        assert relays.slam_states[-1].tracking_state != SlamState.STATE_OK
        assert not relays.slam_states[-1].odometry_valid
        assert 'NaN' in probe.state.failsafe_reason or 'stale' in probe.state.failsafe_reason
    finally:
        runner.shutdown()
