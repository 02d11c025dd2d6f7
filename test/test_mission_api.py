"""The scriptable mission API flying the simulator through the flight controller node."""
import math

import numpy as np
import pytest
from rclpy.context import Context
import rclpy

from test_flight_helpers import Probe, start_flight
from mmchat_ros.geometry import wrap_pi, yaw_of
from mmchat_ros.mission_api import Drone, MissionResult
from mmchat_ros.msg import VehicleState


def test_a_scripted_mission_takes_off_flies_waypoints_turns_and_lands():
    runner = start_flight()
    probe = Probe(runner)
    runner.add_node(probe)
    drone = Drone(context=runner.context, executor=runner.executor)
    truth = probe.simulator.truth
    try:
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
        failure = drone.go_to(50.0, 0.0, 1.0)
        assert not failure.success and 'geofence' in failure.reason
        assert drone.state.mode == VehicleState.MODE_FLYING
        landed = drone.land()
        assert landed.success and 'landed' in landed.reason
        assert truth().position_m[2] < 0.1
        assert drone.state.mode == VehicleState.MODE_LANDED
    finally:
        drone.close()
        runner.shutdown()


def test_without_a_flight_controller_calls_fail_cleanly():
    context = Context()
    rclpy.init(context=context)
    try:
        with Drone(context=context, namespace='/nobody_here', server_timeout_s=0.5) as drone:
            result = drone.takeoff(1.0)
            assert not result.success and 'no flight controller' in result.reason
    finally:
        rclpy.try_shutdown(context=context)
