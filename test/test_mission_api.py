"""The scriptable mission API flying the simulator through the flight controller node."""
import math

import numpy as np
import pytest
from rclpy.context import Context
import rclpy

from test_flight_helpers import FlightProbe, start_flight
from mmchat_ros.control.commands import Mode
from mmchat_ros.geometry import wrap_pi, yaw_of
from mmchat_ros.mission_api import Battery, Drone, MissionError, MissionResult, Position
from mmchat_ros.msg import VehicleState
from mmchat_ros.ros_io import seconds


@pytest.fixture
def flight():
    """The simulator and flight controller, a probe on them, and a Drone; all shut down after."""
    runner = start_flight()
    probe = FlightProbe(runner)
    drone = Drone(context=runner.context, executor=runner.executor)
    yield drone, probe
    drone.close()
    runner.shutdown()


@pytest.mark.slow
def test_a_scripted_mission_takes_off_flies_waypoints_turns_and_lands(flight):
    drone, probe = flight
    truth = probe.simulator.truth
    result = drone.takeoff(1.0)
    assert isinstance(result, MissionResult) and result.success, result.reason
    assert truth().position_m[2] == pytest.approx(1.06, abs=0.15)
    for x, y in ((1.5, 0.0), (1.5, 1.5), (0.0, 1.5)):
        success, reason = drone.go_to(x, y, 1.2, speed=1.5)
        assert success, reason
        assert truth().position_m == pytest.approx([x, y, 1.2], abs=0.15)
    heading = yaw_of(truth().quaternion_xyzw)
    assert drone.yaw_by(math.pi / 2).success
    assert wrap_pi(yaw_of(truth().quaternion_xyzw) - heading - math.pi / 2) == \
        pytest.approx(0.0, abs=0.1)                      # counter-clockwise from above
    start = truth().position_m.copy()
    assert drone.move_by(1.0, 0.0, 0.0).success           # 1 m forward (body frame)
    forward = np.array([math.cos(heading + math.pi / 2), math.sin(heading + math.pi / 2), 0])
    assert truth().position_m - start == pytest.approx(forward, abs=0.15)
    with pytest.raises(MissionError, match='go_to failed') as raised:
        drone.go_to(50.0, 0.0, 1.0)
    failure = raised.value.result
    assert not failure.success and 'geofence' in failure.reason
    assert drone.state.mode == VehicleState.MODE_FLYING
    landed = drone.land()
    assert landed.success and 'landed' in landed.reason
    assert truth().position_m[2] < 0.1
    assert drone.state.mode == VehicleState.MODE_LANDED


def test_without_a_flight_controller_calls_fail_cleanly():
    context = Context()
    rclpy.init(context=context)
    try:
        with Drone(context=context, namespace='/nobody_here', server_timeout_s=0.5) as drone:
            with pytest.raises(MissionError) as raised:
                drone.takeoff(1.0)
            result = raised.value.result
            assert not result.success and 'no flight controller' in result.reason
            step = drone.start_land()                  # non-blocking calls report, never raise
            assert drone.is_done() and step.result == drone.result()
            assert not drone.result() and 'no flight controller' in drone.result().reason
    finally:
        rclpy.try_shutdown(context=context)


def test_steps_started_without_blocking_are_watched_canceled_and_read_back(flight):
    drone, probe = flight
    truth = probe.simulator.truth
    events = []
    drone.add_step_listener(lambda step: events.append(
        (step.name, None if step.result is None else step.result.success)))
    drone.takeoff(1.0)
    assert events == [('takeoff', None), ('takeoff', True)]
    # Typed views of the latest vehicle/state agree with the simulator.
    assert isinstance(drone.position, Position) and isinstance(drone.battery, Battery)
    assert drone.position == pytest.approx(truth().position_m, abs=0.1)
    assert wrap_pi(drone.yaw - yaw_of(truth().quaternion_xyzw)) == pytest.approx(0, abs=0.05)
    assert drone.mode is Mode.FLYING
    assert 0.5 < drone.battery.fraction <= 1.0 and drone.battery.voltage_v > 0.0
    # start_go_to returns at once; is_done() spins until the controller reports the end.
    step = drone.start_go_to(2.0, 0.0, 1.0, speed=1.0)
    assert drone.result() is None and step.result is None
    seen_x = []
    while not drone.is_done():
        seen_x.append(drone.position.x)
    assert any(0.3 < x < 1.7 for x in seen_x)             # watched it fly
    assert drone.result() and 'reached goal' in drone.result().reason
    assert truth().position_m == pytest.approx([2.0, 0.0, 1.0], abs=0.15)
    # A refused step is a false result, not an exception.
    drone.start_go_to(50.0, 0.0, 1.0)
    assert drone.spin_until(drone.is_done, 10.0)
    assert not drone.result() and 'geofence' in drone.result().reason
    # cancel() stops a running step; the vehicle holds where it braked.
    drone.start_go_to(-1.0, 0.0, 1.0, speed=0.5)
    assert drone.spin_until(lambda: truth().position_m[0] < 1.6, 30.0)
    assert drone.cancel()
    assert not drone.result() and 'cancel' in drone.result().reason
    assert not drone.cancel()                                 # nothing runs any more
    assert drone.hover() and drone.mode is Mode.FLYING
    held = truth().position_m.copy()
    assert 0.0 < held[0] < 1.6
    drone.land()
    assert drone.mode in (Mode.LANDED, Mode.DISARMED)
    assert [name for name, result in events if result is None] == [
        'takeoff', 'go_to', 'go_to', 'go_to', 'hover', 'land']


def test_follow_lasts_its_duration_on_the_vehicle_clock_then_hovers(flight):
    drone, probe = flight
    drone.takeoff(1.5)
    started = seconds(drone.state.header.stamp)
    result = drone.follow(1, duration_s=4.0, standoff_m=1.5)
    followed = seconds(drone.state.header.stamp) - started
    assert result and 'as asked' in result.reason
    assert 4.0 <= followed < 5.0                              # simulated seconds
    person = next(t for t in probe.simulator.targets() if t.target_id == 1)
    there = probe.simulator.truth().position_m
    assert math.dist(there[:2], person.position_m[:2]) == pytest.approx(1.5, abs=0.3)
    assert drone.spin_until(drone.is_done, 30.0)            # then it hovers
    assert drone.result() and 'hover point' in drone.result().reason
    assert drone.mode is Mode.FLYING
    with pytest.raises(MissionError, match='follow failed') as lost:
        drone.follow(99, duration_s=30.0)                      # no such track
    assert 'track 99 not seen' in lost.value.result.reason
    drone.land()
