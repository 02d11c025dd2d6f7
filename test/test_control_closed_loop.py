"""The controller flying the real MuJoCo simulator, without ROS (the node's loop, faster)."""
import math

import numpy as np
import pytest

from mmchat_ros.control.closed_loop import ClosedLoop
from mmchat_ros.control.commands import Failsafe, Mode, Verb
from mmchat_ros.geometry import wrap_pi
from mmchat_ros.simulation import Disturbances

WINDY = Disturbances(wind_mps=(1.5, -1.0, 0.0), gust_std_mps=0.3, gyro_noise_rps=0.01,
                     accel_noise_mps2=0.1, orientation_noise_rad=0.003, position_noise_m=0.003,
                     velocity_noise_mps=0.01, mass_error_fraction=0.1)


def airborne(loop: ClosedLoop, altitude: float = 1.0) -> None:
    loop.run(0.2)
    assert loop.fly(Verb.TAKEOFF, altitude_m=altitude).success
    assert loop.manager.mode == Mode.FLYING


def test_hover_holds_within_centimetres_in_wind_with_noise_and_mass_error():
    loop = ClosedLoop(disturbances=WINDY)
    airborne(loop, 1.2)
    loop.run(4.0)                                       # integrators settle
    goal = loop.manager.ref.goal.copy()
    start = len(loop.trace.t)
    loop.run(6.0)
    error = np.array(loop.trace.position[start:]) - goal
    rms = float(np.sqrt((error ** 2).sum(axis=1).mean()))
    assert rms < 0.04, rms
    thrust = loop.loop.cascade.velocity_integrators[2]
    assert thrust > 0.5                               # it learnt the 10 % extra mass (~1 m/s2)


def test_waypoints_are_tracked_closely_and_the_vehicle_faces_where_asked():
    loop = ClosedLoop()
    airborne(loop)
    start = len(loop.trace.t)
    for x, y, yaw in ((2.0, 0.0, 0.0), (2.0, 2.0, math.pi / 2), (0.0, 2.0, math.pi)):
        outcome = loop.fly(Verb.GOTO, x_m=x, y_m=y, z_m=1.0, yaw_rad=yaw, speed_mps=1.5)
        assert outcome.success, outcome.reason
        assert loop.sim.truth().position_m == pytest.approx([x, y, 1.0], abs=0.15)
        assert wrap_pi(loop.trace.yaw[-1] - yaw) == pytest.approx(0.0, abs=0.1)
    tracking = np.linalg.norm(np.array(loop.trace.position[start:])
                              - np.array(loop.trace.reference[start:]), axis=1)
    assert tracking.mean() < 0.05 and tracking.max() < 0.2
    assert loop.fly(Verb.LAND).success and loop.manager.mode == Mode.LANDED
    assert loop.sim.truth().position_m[2] < 0.1


def test_blind_landing_on_attitude_alone_when_the_estimate_stops():
    loop = ClosedLoop(disturbances=Disturbances(wind_mps=(1.0, 0.0, 0.0)))
    airborne(loop, 1.5)
    loop.run(3.0)
    before = loop.sim.truth().position_m.copy()
    loop.estimate_enabled = False
    assert loop.run(1.0, until=lambda: loop.manager.failsafe == Failsafe.STATE_STALE)
    assert loop.run(20.0, until=lambda: loop.manager.mode == Mode.LANDED)
    after = loop.sim.truth().position_m
    assert after[2] < 0.1
    assert np.linalg.norm(after[:2] - before[:2]) < 1.5     # the learnt trim held against the wind
    speeds = np.abs(np.diff(np.array(loop.trace.position)[:, 2])) / loop.dt
    assert speeds.max() < 1.0                            # a gentle descent, not a fall


def test_low_battery_flies_home_and_lands():
    loop = ClosedLoop()
    airborne(loop)
    assert loop.fly(Verb.GOTO, x_m=2.5, y_m=-1.5, z_m=1.0).success
    loop.sim.drain_battery_to(0.2)
    assert loop.run(1.0, until=lambda: loop.manager.failsafe == Failsafe.LOW_BATTERY)
    assert loop.run(40.0, until=lambda: loop.manager.mode == Mode.LANDED)
    assert loop.sim.truth().position_m[:2] == pytest.approx([0.0, 0.0], abs=0.2)


def test_follow_keeps_its_standoff_from_a_walking_person():
    loop = ClosedLoop()
    airborne(loop, 1.5)
    person = loop.sim.targets()[0]
    for truth in loop.sim.targets():
        loop.manager.update_target(truth.target_id, truth.position_m, loop.t)
    assert loop.submit(Verb.FOLLOW_TRACK, track_id=person.target_id, standoff_m=2.0).accepted
    errors = []
    for step in range(int(20.0 / loop.dt)):
        if step % 10 == 0:                                # a 20 Hz target stream
            for truth in loop.sim.targets():
                loop.manager.update_target(truth.target_id, truth.position_m, loop.t)
        loop.step()
        if loop.t > loop.trace.t[0] + 8.0:
            here = loop.sim.truth().position_m[:2]
            target = [t for t in loop.sim.targets() if t.target_id == person.target_id][0]
            errors.append(abs(np.linalg.norm(here - target.position_m[:2]) - 2.0))
    assert loop.manager.active_request_id, 'the follow ended early'
    assert np.mean(errors) < 0.3, np.mean(errors)
