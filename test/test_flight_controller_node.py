"""The flight_controller node flying the simulator node in one process (real rclpy, real MuJoCo).

Commands go in over the `commands` topic and the `execute_command` action; the tests read
`command_results`, `vehicle/state`, the motor commands and the simulator's ground truth.
"""
import math

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.parameter import Parameter
import pytest

from test_flight_helpers import FlightProbe, start_flight
from mmchat_ros.action import ExecuteCommand
from mmchat_ros.mission_api import Drone, MissionError
from mmchat_ros.msg import Command, VehicleState
from mmchat_ros.nodes.flight_controller_node import FlightControllerNode
from mmchat_tools.probe import spin_until

S = VehicleState


@pytest.fixture
def flights():
    runners = []

    def start(lockstep=False, **kwargs):
        runner = start_flight(**kwargs)
        runners.append(runner)
        probe = FlightProbe(runner, lockstep)
        assert runner.spin(20.0, until=lambda: probe.state is not None
                           and probe.state.header.frame_id == 'odom')
        return runner, probe

    yield start
    for runner in runners:
        runner.shutdown()


def take_off(runner, probe, altitude=1.0) -> None:
    request = probe.send(Command.TAKEOFF, altitude_m=altitude)
    assert runner.spin(30.0, until=lambda: probe.mode_is(S.MODE_FLYING)
                       and not probe.state.active_request_id)
    assert probe.results[request].accepted


def test_every_imu_sample_is_answered_by_one_motor_command_and_the_state_is_published(flights):
    runner, probe = flights(lockstep=True)
    assert runner.spin(10.0, until=lambda: len(probe.imu_stamps) > 100 and len(probe.states) > 5)
    stamps = probe.imu_stamps[-50:-1]
    answered = {round(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9, 6) for m in probe.motor}
    assert {round(s, 6) for s in stamps} <= answered
    assert len(probe.motor) == len({(m.header.stamp.sec, m.header.stamp.nanosec)
                                    for m in probe.motor})
    assert not any(m.armed or any(m.thrust_n) for m in probe.motor)
    state = probe.state
    assert state.mode == S.MODE_DISARMED and not state.armed and state.failsafe == S.FAILSAFE_NONE
    assert state.battery_fraction == pytest.approx(1.0, abs=0.01)
    assert state.pose.position.z == pytest.approx(probe.position()[2], abs=0.01)


def test_bad_commands_are_rejected_with_reasons_and_emergency_stop_wins(flights):
    runner, probe = flights()
    results = probe.results

    def answer(request):
        assert runner.spin(5.0, until=lambda: request in results)
        return results[request]

    voice = {'source': Command.SOURCE_VOICE, 'operator_id': 'alice'}
    r = answer(probe.send(Command.TAKEOFF, altitude_m=1.0, **voice))
    assert not r.accepted and 'not authorised: no authentication state' in r.reason
    probe.authorise('alice')
    runner.spin(0.3)
    r = answer(probe.send(Command.TAKEOFF, altitude_m=1.0, source=Command.SOURCE_VOICE,
                          operator_id='mallory'))
    assert not r.accepted and "'mallory' is not the authenticated operator 'alice'" in r.reason
    r = answer(probe.send(Command.TAKEOFF, altitude_m=math.nan, **voice))
    assert not r.accepted and 'non-finite argument(s): altitude_m' in r.reason
    r = answer(probe.send(42, **voice))
    assert not r.accepted and 'unknown verb 42' in r.reason and r.verb == 42
    r = answer(probe.send(Command.TAKEOFF, altitude_m=9.0, **voice))
    assert not r.accepted and 'ceiling' in r.reason
    assert probe.mode_is(S.MODE_DISARMED)

    takeoff = probe.send(Command.TAKEOFF, altitude_m=1.0, **voice)
    assert answer(takeoff).accepted
    assert runner.spin(30.0, until=lambda: probe.mode_is(S.MODE_FLYING)
                       and not probe.state.active_request_id)
    hover = probe.position()
    r = answer(probe.send(Command.GOTO, x_m=30.0, y_m=0.0, z_m=1.0, **voice))
    assert not r.accepted and 'outside the geofence box' in r.reason
    r = answer(probe.send(Command.GOTO, x_m=1.0, y_m=0.0, z_m=1.0, speed_mps=10.0, **voice))
    assert not r.accepted and 'exceeds the limit' in r.reason
    r = answer(probe.send(Command.MOVE_BY, x_m=1.0, frame_id='camera_optical_frame', **voice))
    assert not r.accepted and "frame 'camera_optical_frame' not supported" in r.reason
    runner.spin(1.0)
    assert probe.mode_is(S.MODE_FLYING)
    assert math.dist(probe.position(), hover) < 0.1                  # nothing moved

    # Emergency stop from anyone, authorised or not: motors off at once, the vehicle drops.
    r = answer(probe.send(Command.EMERGENCY_STOP, source=Command.SOURCE_GESTURE))
    assert r.accepted
    assert runner.spin(5.0, until=lambda: probe.mode_is(S.MODE_EMERGENCY))
    assert probe.state.failsafe == S.FAILSAFE_EMERGENCY_STOP and not probe.state.armed
    assert runner.spin(10.0, until=lambda: probe.position()[2] < 0.1)
    r = answer(probe.send(Command.TAKEOFF, altitude_m=1.0, **voice))
    assert not r.accepted and 'EMERGENCY' in r.reason


def test_command_timeout_hovers_then_lands(flights):
    runner, probe = flights(controller={'failsafe.command_timeout_s': 1.5,
                                        'failsafe.land_delay_s': 1.0})
    take_off(runner, probe)
    assert runner.spin(20.0, until=lambda: probe.state.failsafe == S.FAILSAFE_COMMAND_TIMEOUT)
    assert 'no command for 1.5 s' in probe.state.failsafe_reason
    assert probe.state.mode == S.MODE_FLYING
    assert runner.spin(20.0, until=lambda: probe.mode_is(S.MODE_LANDING))
    assert runner.spin(30.0, until=lambda: probe.mode_is(S.MODE_LANDED))
    assert probe.position()[2] < 0.1


class OdometryRelay(Node):
    """Republishes the simulator's odometry on /test/odom; `corrupt` makes the poses NaN."""

    def __init__(self, context):
        super().__init__('odometry_relay', context=context)
        self.corrupt = False
        publisher = self.create_publisher(Odometry, '/test/odom', 10)

        def relay(msg):
            if self.corrupt:
                msg.pose.pose.position.x = math.nan
            publisher.publish(msg)
        self.create_subscription(Odometry, '/sim/odom', relay, 10)


def test_nan_or_stale_odometry_hovers_on_attitude_then_lands():
    runner = start_flight(controller={'state_topic': '/test/odom'})
    relay = OdometryRelay(runner.context)
    probe = FlightProbe(runner)
    runner.add_node(relay)
    try:
        assert runner.spin(20.0, until=lambda: probe.state is not None
                           and probe.state.header.frame_id == 'odom')
        take_off(runner, probe)
        relay.corrupt = True
        assert runner.spin(10.0, until=lambda: probe.state.failsafe == S.FAILSAFE_STATE_STALE)
        assert 'NaN' in probe.state.failsafe_reason and probe.state.header.frame_id == ''
        assert runner.spin(30.0, until=lambda: probe.mode_is(S.MODE_LANDED))
        assert probe.position()[2] < 0.1
    finally:
        runner.shutdown()


def test_action_feedback_and_cancel_holds_position(flights):
    runner, probe = flights()
    take_off(runner, probe)
    client = ActionClient(probe, ExecuteCommand, 'execute_command')
    feedback = []
    goal = ExecuteCommand.Goal(command=Command(verb=Command.GOTO, request_id='far', x_m=4.0,
                                               y_m=0.0, z_m=1.0, speed_mps=1.0))
    assert runner.spin(10.0, until=client.server_is_ready)
    sent = client.send_goal_async(goal, feedback_callback=lambda m: feedback.append(m.feedback))
    assert runner.spin(10.0, until=sent.done) and sent.result().accepted
    assert runner.spin(20.0, until=lambda: len(feedback) > 5 and probe.position()[0] > 1.0)
    distances = [f.distance_remaining_m for f in feedback]
    assert distances[0] > distances[-1] > 1.0
    assert feedback[-1].state.active_request_id == 'far'
    result = sent.result().get_result_async()
    sent.result().cancel_goal_async()
    assert runner.spin(10.0, until=result.done)
    assert result.result().status == 5                       # GoalStatus.STATUS_CANCELED
    assert not result.result().result.success and 'canceled' in result.result().result.reason
    runner.spin(3.0)
    held = probe.position()
    runner.spin(1.0)
    assert math.dist(probe.position(), held) < 0.05 and held[0] < 3.5
    assert probe.mode_is(S.MODE_FLYING)
    # A rejected goal ends at once, with the reason in the result.
    drone = Drone(probe, executor=runner.executor, heartbeat_hz=0)
    with pytest.raises(MissionError) as refused:
        drone.go_to(0.0, 0.0, 0.1)
    outcome = refused.value.result
    assert not outcome.success and 'floor' in outcome.reason


def test_follow_a_simulated_person_from_the_target_stream(flights):
    runner, probe = flights()
    take_off(runner, probe, altitude=1.5)
    drone = Drone(probe, executor=runner.executor, heartbeat_hz=0)
    distances = []

    def watch():
        person = next(t for t in probe.simulator.targets() if t.target_id == 1)
        distances.append(math.dist(probe.position()[:2], person.position_m[:2]))
        return False
    probe.create_timer(0.1, watch)
    result = drone.follow(1, standoff_m=1.5, duration_s=6.0)
    assert result.success and 'as asked' in result.reason
    assert distances[-1] == pytest.approx(1.5, abs=0.3)
    assert runner.spin(2.0, until=lambda: not probe.state.active_request_id)
    assert probe.mode_is(S.MODE_FLYING)


@pytest.mark.parametrize('overrides,reason', [
    ({'vehicle_interface': 'warp'}, "'warp' is not one of sim, mavlink, twist"),
    ({'limits.max_tilt_deg': 80.0}, 'max_tilt_deg'),
    ({'vehicle_file': 'sim/vehicles/nope.yaml'}, 'cannot read vehicle file'),
    ({'vehicle_interface': 'twist', 'setpoint_hz': 2.0}, 'setpoint_hz must be at least 10'),
    ({'mavlink.autopilot': 'betaflight', 'vehicle_interface': 'mavlink'}, "'betaflight'"),
])
def test_bad_settings_leave_the_node_up_and_idle(ros_context, executor, overrides, reason):
    node = FlightControllerNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in overrides.items()])
    listener = Node('diagnostics_listener', context=ros_context)
    statuses = []
    listener.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: statuses.extend(m.status), 10)
    executor.add_node(node)
    executor.add_node(listener)
    assert node.manager is None
    assert not node.get_publishers_info_by_topic('/motor_command')    # the simulator won't wait
    assert spin_until(executor, lambda: any(reason in s.message for s in statuses), 5.0)
    node.destroy_node()
    listener.destroy_node()
