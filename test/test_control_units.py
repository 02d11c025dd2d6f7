"""ROS-free parts of the flight controller: frames, mixer, trajectories, settings, cascade."""
import math
from pathlib import Path

import numpy as np
import pytest

from mmchat_ros import geometry as geo
from mmchat_ros.control.cascade import CascadeController, StateEstimate, TrackingSetpoint
from mmchat_ros.control.config import PARAMETERS, ConfigError, ControllerConfig
from mmchat_ros.control.mixer import Mixer
from mmchat_ros.control.trajectory import MotionLimits, ReferenceGenerator
from mmchat_ros.vehicle_model import GRAVITY_MPS2, VehicleModel

ROOT = Path(__file__).resolve().parents[1]
VEHICLE = VehicleModel.from_yaml(ROOT / 'sim' / 'vehicles' / 'quadrotor.yaml')


# ----------------------------------------------------------------------------------- geometry
def test_enu_ned_vectors_and_headings():
    # 1 m north, 2 m east, 3 m up in ENU is (1 north, 2 east, -3 down) in NED.
    assert geo.enu_to_ned([2.0, 1.0, 3.0]).tolist() == [1.0, 2.0, -3.0]
    assert geo.ned_to_enu(geo.enu_to_ned([0.3, -4.0, 1.5])).tolist() == [0.3, -4.0, 1.5]
    # Facing east is yaw 0 in ENU and heading 90 deg in NED; facing north is 90 deg ENU, 0 NED.
    assert geo.yaw_ned_from_enu(0.0) == pytest.approx(math.pi / 2)
    assert geo.yaw_ned_from_enu(math.pi / 2) == pytest.approx(0.0)
    assert geo.yaw_enu_from_ned(geo.yaw_ned_from_enu(2.5)) == pytest.approx(2.5)


@pytest.mark.parametrize('roll,pitch,yaw', [(0.0, 0.0, 0.0), (0.2, 0.0, 0.0), (0.0, 0.3, 0.0),
                                            (0.1, -0.2, 1.0), (-0.3, 0.2, -2.5)])
def test_mavlink_attitude_converts_to_enu_flu(roll, pitch, yaw):
    q = geo.quat_enu_flu_from_ned_frd(roll, pitch, yaw)
    r = geo.rotation_matrix(q)
    r_ned_frd = geo.rotation_matrix(geo.quat_from_euler(roll, pitch, yaw))
    # The body's forward axis is the same physical direction in both conventions.
    assert r[:, 0] == pytest.approx(geo.ned_to_enu(r_ned_frd[:, 0]), abs=1e-9)
    # Its FRD "down" axis is minus the FLU "up" axis.
    assert r[:, 2] == pytest.approx(-geo.ned_to_enu(r_ned_frd[:, 2]), abs=1e-9)
    assert geo.yaw_of(q) == pytest.approx(geo.yaw_enu_from_ned(yaw), abs=1e-9)
    # Nose up in NED (positive pitch) is nose up in ENU too: the forward axis climbs.
    if pitch > 0 and roll == 0:
        assert r[2, 0] > 0


def test_quaternion_helpers_agree():
    q = geo.quat_from_euler(0.1, -0.2, 0.7)
    assert geo.quaternion_from_matrix(geo.rotation_matrix(q)) == pytest.approx(q)
    assert geo.yaw_of(q) == pytest.approx(0.7)
    turn = geo.quat_between([0, 0, 1], [1, 0, 0])
    assert geo.rotation_vector(turn) == pytest.approx([0, math.pi / 2, 0])
    assert geo.rotation_matrix(turn) @ [0, 0, 1] == pytest.approx([1, 0, 0])
    with pytest.raises(ValueError):
        geo.quat_normalized([0, 0, 0, 0])
    assert not geo.finite(1.0, [0.0, math.nan])


def test_mujoco_quaternion_order_and_euler_convention():
    q = geo.quat_from_euler(0.1, -0.2, 0.7)
    assert geo.quaternion_wxyz(q) == pytest.approx([q[3], q[0], q[1], q[2]])
    assert geo.quaternion_xyzw(geo.quaternion_wxyz(q)) == pytest.approx(q)
    # Rz(yaw) Ry(pitch) Rx(roll): a yaw-only rotation is quat_from_yaw, x turns towards y.
    assert geo.quat_from_euler(0.0, 0.0, 0.7) == pytest.approx(geo.quat_from_yaw(0.7))
    pitched = geo.rotation_matrix(geo.quat_from_euler(0.0, 0.3, 0.0))
    assert pitched @ [1, 0, 0] == pytest.approx([math.cos(0.3), 0, -math.sin(0.3)])


# -------------------------------------------------------------------------------------- mixer
def test_mixer_realises_a_feasible_wrench_exactly():
    mixer = Mixer(VEHICLE)
    wrench = np.array([VEHICLE.hover_thrust_n, 0.2, -0.1, 0.03])
    out = mixer.mix(wrench[0], wrench[1:])
    assert not out.saturated
    assert out.achieved == pytest.approx(wrench)
    assert np.all(out.thrusts_n >= 0) and np.all(out.thrusts_n <= VEHICLE.max_thrust_n)


def test_mixer_gives_up_yaw_before_roll_and_pitch():
    mixer = Mixer(VEHICLE)
    # Hover thrust with a large roll torque and an impossible yaw torque.
    out = mixer.mix(VEHICLE.hover_thrust_n, np.array([1.0, 0.0, 0.5]))
    assert out.saturated
    assert out.achieved[1] == pytest.approx(1.0)               # roll kept in full
    assert out.achieved[2] == pytest.approx(0.0, abs=1e-9)
    assert 0.0 <= out.achieved[3] < 0.5                           # yaw reduced
    assert np.all(out.thrusts_n >= -1e-12) and np.all(out.thrusts_n <= VEHICLE.max_thrust_n + 1e-12)


def test_mixer_gives_up_thrust_before_roll_when_near_full_power():
    mixer = Mixer(VEHICLE)
    out = mixer.mix(31.0, np.array([0.0, 0.8, 0.0]))
    assert out.achieved[2] == pytest.approx(0.8)
    assert out.achieved[0] < 31.0
    assert out.thrusts_n.max() == pytest.approx(VEHICLE.max_thrust_n)


def test_mixer_scales_roll_pitch_only_when_nothing_else_helps():
    out = Mixer(VEHICLE).mix(VEHICLE.hover_thrust_n, np.array([5.0, 0.0, 0.0]))
    assert out.saturated
    assert 0 < out.achieved[1] < 5.0
    assert out.thrusts_n.min() == pytest.approx(0.0) and out.thrusts_n.max() == pytest.approx(8.0)


# --------------------------------------------------------------------------------- trajectory
LIMITS = MotionLimits(horizontal_speed_mps=2.0, vertical_speed_mps=1.0, acceleration_mps2=1.5,
                      yaw_rate_rps=1.0, yaw_acceleration_rps2=3.0)


def run_reference(ref: ReferenceGenerator, seconds: float, dt: float = 0.01):
    samples = []
    for _ in range(int(seconds / dt)):
        ref.step(dt)
        samples.append((ref.position.copy(), ref.velocity.copy(), ref.acceleration.copy()))
    return samples


def test_reference_moves_straight_within_limits_and_stops_at_the_goal():
    ref = ReferenceGenerator(LIMITS)
    ref.reset(np.zeros(3), 0.0)
    goal = np.array([4.0, 3.0, 0.5])
    ref.set_goal(goal, speed_mps=1.5)
    samples = run_reference(ref, 8.0)
    direction = goal / np.linalg.norm(goal)
    for position, velocity, acceleration in samples:
        assert np.linalg.norm(position - direction * (position @ direction)) < 1e-6   # on the line
        assert math.hypot(*velocity[:2]) <= 1.5 + 1e-9
        assert abs(velocity[2]) <= 1.0 + 1e-9
        assert np.linalg.norm(acceleration) <= 1.5 + 1e-6
        assert position @ direction <= np.linalg.norm(goal) + 0.002      # no overshoot (dt effects)
    assert max(np.linalg.norm(v) for _, v, _ in samples) == pytest.approx(1.5, rel=1e-3)
    assert ref.settled and ref.position == pytest.approx(goal, abs=0.01)


def test_reference_joins_a_new_goal_without_a_velocity_jump_and_holds_by_braking():
    ref = ReferenceGenerator(LIMITS)
    ref.reset(np.zeros(3), 0.0)
    ref.set_goal(np.array([10.0, 0.0, 0.0]))
    run_reference(ref, 3.0)
    before = ref.velocity.copy()
    ref.set_goal(np.array([0.0, 10.0, 0.0]))
    ref.step(0.01)
    assert np.linalg.norm(ref.velocity - before) <= 1.5 * 0.01 + 1e-9
    stop = ref.stopping_point()
    ref.hold()
    run_reference(ref, 4.0)
    assert ref.settled and ref.position == pytest.approx(stop, abs=0.02)


def test_reference_follows_a_moving_goal_and_turns_the_short_way():
    ref = ReferenceGenerator(LIMITS)
    ref.reset(np.zeros(3), 3.0)
    ref.set_yaw_goal(-3.0)                            # 0.28 rad across +-pi, not 6 rad back
    for i in range(500):
        ref.set_goal(np.array([0.8 * i * 0.01, 0.0, 0.0]), velocity=np.array([0.8, 0.0, 0.0]))
        ref.step(0.01)
    assert ref.velocity[0] == pytest.approx(0.8, abs=0.02)
    assert ref.position[0] == pytest.approx(0.8 * 4.99, abs=0.05)
    assert geo.wrap_pi(ref.yaw) == pytest.approx(-3.0, abs=0.01)
    assert ref.yaw > 3.0                             # went up through pi
    ref.set_yaw_goal(2 * math.pi, relative=True)      # a whole turn counter-clockwise
    run_reference(ref, 10.0)
    assert ref.yaw == pytest.approx(2 * math.pi + 2 * math.pi - 3.0, abs=0.01)


# ----------------------------------------------------------------------------------- settings
def test_default_and_shipped_settings_are_valid():
    assert ControllerConfig.from_parameters().limits.max_tilt_rad == pytest.approx(math.radians(30))
    for profile in ('sim', 'robot'):
        path = ROOT / 'config' / profile / 'flight_controller.yaml'
        config = ControllerConfig.from_yaml(path)
        assert config.geofence.shape in ('box', 'cylinder')


@pytest.mark.parametrize('overrides,message', [
    ({'limits.max_tilt_deg': 75.0}, 'max_tilt_deg'),
    ({'limits.max_acceleration_mps2': 9.0}, 'needs more tilt'),
    ({'mission.default_speed_mps': 5.0}, 'default_speed_mps exceeds its limit'),
    ({'geofence.shape': 'sphere'}, "'box' or 'cylinder'"),
    ({'geofence.min_altitude_m': 6.0}, 'min_altitude_m must be below'),
    ({'gains.velocity_z.kp': -1.0}, 'gains.velocity_z'),
    ({'failsafe.state_timeout_s': 0.0}, 'state_timeout_s must be positive'),
    ({'mission.land_speed_mps': float('nan')}, 'not finite'),
    ({'rates.position_hz': 'fast'}, 'must be a number'),
    ({'gains.velocity_xy.kq': 1.0}, 'unknown controller parameter'),
])
def test_unsafe_settings_are_refused_with_the_reason(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ControllerConfig.from_parameters(overrides)


def test_every_parameter_has_a_description():
    assert all(isinstance(d, str) and d for _, d in PARAMETERS.values())


# ------------------------------------------------------------------------------------ cascade
def level_state(position=(0.0, 0.0, 1.0), velocity=(0.0, 0.0, 0.0), yaw=0.0):
    return StateEstimate(0.0, np.array(position, float), np.array(velocity, float),
                         geo.quat_from_yaw(yaw), np.zeros(3))


def hold(position=(0.0, 0.0, 1.0), yaw=0.0):
    return TrackingSetpoint(np.array(position, float), np.zeros(3), np.zeros(3), yaw, 0.0)


def make_cascade():
    config = ControllerConfig.from_parameters()
    return CascadeController(config.gains, config.limits, VEHICLE), config


def test_cascade_at_the_setpoint_asks_for_hover_thrust_and_no_torque():
    cascade, _ = make_cascade()
    state = level_state()
    cascade.update_outer(hold(), state, 0.01)
    out = cascade.update_inner(state.orientation, np.zeros(3), 0.004)
    assert out.achieved[0] == pytest.approx(VEHICLE.hover_thrust_n, rel=1e-6)
    assert out.achieved[1:] == pytest.approx(np.zeros(3), abs=1e-9)
    assert out.thrusts_n == pytest.approx(np.full(4, VEHICLE.hover_thrust_n / 4))


def test_cascade_signs_follow_rep_103():
    cascade, config = make_cascade()
    state = level_state()
    # Goal 1 m ahead (+x): tilt the thrust toward +x, i.e. pitch nose down = positive torque y
    # (FLU).
    cascade.update_outer(hold((1.0, 0.0, 1.0)), state, 0.01)
    assert cascade.body_z_target[0] > 0
    out = cascade.update_inner(state.orientation, np.zeros(3), 0.004)
    assert out.achieved[2] > 0
    # Goal to the left (+y): roll left = negative torque about x.
    cascade.reset()
    cascade.update_outer(hold((0.0, 1.0, 1.0)), state, 0.01)
    assert cascade.update_inner(state.orientation, np.zeros(3), 0.004).achieved[1] < 0
    # Heading goal counter-clockwise (+yaw): positive torque about z.
    cascade.reset()
    cascade.update_outer(hold(yaw=0.5), state, 0.01)
    assert cascade.update_inner(state.orientation, np.zeros(3), 0.004).achieved[3] > 0
    # Too low: more thrust than hover; a rolling body is damped (torque opposes the rate).
    cascade.reset()
    cascade.update_outer(hold((0.0, 0.0, 2.0)), state, 0.01)
    assert cascade.collective_n > VEHICLE.hover_thrust_n
    cascade.reset()
    cascade.update_outer(hold(), state, 0.01)
    assert cascade.update_inner(state.orientation, np.array([1.0, 0, 0]), 0.004).achieved[1] < 0


def test_cascade_never_asks_for_more_tilt_than_the_limit():
    cascade, config = make_cascade()
    setpoint = TrackingSetpoint(np.array([50.0, 0, 1]), np.zeros(3), np.array([30.0, 0, 0]), 0, 0)
    cascade.update_outer(setpoint, level_state(), 0.01)
    tilt = math.acos(cascade.body_z_target[2])
    assert tilt == pytest.approx(config.limits.max_tilt_rad, abs=1e-6)


def test_attitude_only_mode_levels_and_tracks_the_imu_climb_rate():
    cascade, _ = make_cascade()
    tilted = geo.quat_from_euler(0.2, 0.0, 0.0)
    cascade.update_outer(hold(), level_state(), 0.01)
    # Falling at 1 m/s by the IMU: level target, more thrust than hover.
    specific_force = geo.rotation_matrix(tilted).T @ np.array([0, 0, GRAVITY_MPS2 - 1.0])
    for _ in range(250):
        cascade.integrate_imu(tilted, specific_force, 0.004)
    assert cascade.inertial_vertical_speed == pytest.approx(-1.0, abs=1e-6)
    cascade.update_attitude_only(0.0, tilted, 0.01)
    assert cascade.body_z_target == pytest.approx([0, 0, 1])
    assert cascade.collective_n > VEHICLE.hover_thrust_n
    assert cascade.update_inner(tilted, np.zeros(3), 0.004).achieved[1] < 0   # rolls back level
