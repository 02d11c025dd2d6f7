"""The ROS-free simulator (real MuJoCo): worlds, physics, disturbances, battery, targets, camera."""
import math

import numpy as np
import pytest

from mmchat_ros import graph
from mmchat_ros.simulation import Disturbances, Simulator, World, WorldError
from mmchat_ros.simulation.world import Path2D
from mmchat_ros.vehicle_model import VehicleModel, VehicleModelError

SHARE = graph.share_dir()
VEHICLE = SHARE / 'sim' / 'vehicles' / 'quadrotor.yaml'
WORLDS = sorted((SHARE / 'sim' / 'worlds').glob('*.yaml'))


def make(world='indoor_room.yaml', **kwargs) -> Simulator:
    return Simulator.from_files(SHARE / 'sim' / 'worlds' / world, VEHICLE, **kwargs)


@pytest.mark.parametrize('path', WORLDS, ids=lambda p: p.stem)
def test_every_world_builds_and_renders(path):
    sim = Simulator.from_files(path, VEHICLE)
    image = sim.render('forward', 160, 120)
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8
    assert image.std() > 20, 'a textured world should not render as a flat image'
    sim.close()


def test_vehicle_rests_on_the_ground_then_climbs_with_more_than_hover_thrust():
    sim = make()
    sim.step(0.5)
    resting = sim.truth().position_m[2]
    assert 0.0 < resting < 0.1
    assert sim.imu().linear_acceleration_mps2[2] == pytest.approx(9.80665, abs=0.1)
    hover = sim.vehicle.hover_thrust_n / 4
    sim.set_thrusts([1.2 * hover] * 4, armed=True)
    sim.step(1.0)
    truth = sim.truth()
    assert truth.position_m[2] > resting + 0.5
    assert np.allclose(truth.position_m[:2], 0.0, atol=1e-3)        # symmetric thrust: no drift
    assert np.allclose(truth.quaternion_xyzw, [0, 0, 0, 1], atol=1e-3)


def test_disarmed_vehicle_gets_no_thrust_and_differential_thrust_yaws():
    sim = make()
    hover = sim.vehicle.hover_thrust_n / 4
    sim.set_thrusts([2 * hover] * 4, armed=False)
    sim.step(0.5)
    assert sim.truth().position_m[2] < 0.1
    signs = np.array([r.yaw_torque_sign for r in sim.vehicle.rotors])
    sim.set_thrusts(hover * (1.1 + 0.1 * signs), armed=True)       # more thrust on +yaw rotors
    sim.step(0.5)
    assert sim.truth().angular_velocity_rps[2] > 0.1               # REP-103: counter-clockwise


def test_wind_pushes_a_hovering_vehicle_downwind():
    sim = make(disturbances=Disturbances(wind_mps=(3.0, 0.0, 0.0)))
    sim.set_thrusts([sim.vehicle.hover_thrust_n / 4 * 1.3] * 4, armed=True)
    sim.step(0.6)
    assert sim.truth().velocity_mps[0] > 0.1


def test_mass_error_makes_hover_thrust_insufficient():
    heavy = make(disturbances=Disturbances(mass_error_fraction=0.3))
    heavy.set_thrusts([heavy.vehicle.hover_thrust_n / 4 * 1.1] * 4, armed=True)
    heavy.step(1.0)
    assert heavy.truth().position_m[2] < 0.1


def test_sensor_noise_is_applied_with_the_configured_size():
    sim = make(disturbances=Disturbances(gyro_noise_rps=0.05, position_noise_m=0.02), seed=3)
    gyro = np.array([sim.imu().angular_velocity_rps for _ in range(400)])
    positions = np.array([sim.estimate().position_m for _ in range(400)])
    assert gyro.std(axis=0) == pytest.approx([0.05] * 3, rel=0.2)
    assert positions.std(axis=0) == pytest.approx([0.02] * 3, rel=0.2)
    assert np.allclose(sim.truth().position_m[:2], 0.0)


def test_battery_drains_with_thrust():
    sim = make()
    sim.set_thrusts([sim.vehicle.hover_thrust_n / 4] * 4, armed=True)
    sim.step(10.0)
    b = sim.vehicle.battery
    expected_wh = ((b.idle_power_w + b.power_per_thrust_w_per_n * sim.vehicle.hover_thrust_n)
                   * 10 / 3600)
    assert 1 - sim.battery().fraction == pytest.approx(expected_wh / b.capacity_wh, rel=0.1)
    sim.drain_battery_to(0.1)
    assert sim.battery().fraction == pytest.approx(0.1)
    assert sim.battery().voltage_v < b.voltage_full_v


def test_targets_follow_their_paths():
    sim = make()
    before = {t.target_id: t.position_m for t in sim.targets()}
    sim.step(2.0)
    after = {t.target_id: t for t in sim.targets()}
    for target_id, truth in after.items():
        speed = np.linalg.norm(truth.velocity_mps)
        assert np.linalg.norm(truth.position_m - before[target_id]) == pytest.approx(2.0 * speed,
                                                                                      rel=0.05)
    body = sim.model.body('target_1').mocapid[0]
    assert np.allclose(sim.data.mocap_pos[body][:2], after[1].position_m[:2])


def test_path_speed_and_heading():
    square = Path2D([(0, 0), (2, 0), (2, 2), (0, 2)], speed_mps=1.0)
    position, heading, velocity = square.pose(3.0)
    assert np.allclose(position, [2.0, 1.0]) and heading == pytest.approx(math.pi / 2)
    assert np.allclose(velocity, [0.0, 1.0])
    position, _, _ = square.pose(8.5)            # one lap is 8 m
    assert np.allclose(position, [0.5, 0.0])
    circle = Path2D.circle((0, 0), 2.0, 1.0)
    assert np.linalg.norm(circle.pose(5.0)[0]) == pytest.approx(2.0, abs=0.01)


def test_a_person_in_view_changes_the_image():
    sim = make()
    sim.step(0.1)
    with_targets = sim.render('forward', 320, 240)
    for mocap in range(sim.model.nmocap):
        sim.data.mocap_pos[mocap] = (100.0, 100.0, -50.0)        # hide every target underground
    import mujoco
    mujoco.mj_forward(sim.model, sim.data)
    without = sim.render('forward', 320, 240)
    assert np.abs(with_targets.astype(int) - without).sum(axis=2).astype(bool).mean() > 0.005


def test_bad_inputs_are_rejected_clearly(tmp_path):
    sim = make()
    with pytest.raises(ValueError, match='expected 4 rotor thrusts'):
        sim.set_thrusts([1.0, 1.0], armed=True)
    with pytest.raises(ValueError, match='finite'):
        sim.set_thrusts([1.0, float('nan'), 1.0, 1.0], armed=True)
    bad = tmp_path / 'world.yaml'
    bad.write_text('name: x\nkind: cave\nsize_m: [1, 1, 1]\n')
    with pytest.raises(WorldError, match="'room' or 'yard'"):
        World.from_yaml(bad)
    bad.write_text('name: x\nsize_m: [1, 1, 1]\ntargets: [{id: 1, kind: dragon, path: {}}]\n')
    with pytest.raises(WorldError, match='dragon'):
        World.from_yaml(bad)
    with pytest.raises(WorldError, match='cannot read'):
        World.from_yaml(tmp_path / 'missing.yaml')
    weak = tmp_path / 'weak.yaml'
    weak.write_text(VEHICLE.read_text().replace('max_thrust_n: 8.0', 'max_thrust_n: 2.0'))
    with pytest.raises(VehicleModelError, match='cannot lift'):
        VehicleModel.from_yaml(weak)
