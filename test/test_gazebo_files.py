"""Gazebo Harmonic files cannot run here (no gz sim): they parse and agree with the package."""
import xml.etree.ElementTree as ET

import pytest
import yaml

from mmchat_ros import graph
from mmchat_ros.vehicle_model import VehicleModel

GAZEBO = graph.share_dir() / 'sim' / 'gazebo'
VEHICLE = VehicleModel.from_yaml(graph.share_dir() / 'sim' / 'vehicles' / 'quadrotor.yaml')


@pytest.mark.parametrize('path', sorted(GAZEBO.rglob('*.sdf')) + sorted(GAZEBO.rglob('*.config')),
                         ids=lambda p: p.name)
def test_sdf_and_model_files_are_well_formed(path):
    root = ET.parse(path).getroot()
    assert root.tag in ('sdf', 'model')


def test_world_includes_an_existing_model():
    for world in GAZEBO.glob('worlds/*.sdf'):
        uris = [u.text for u in ET.parse(world).getroot().iter('uri')]
        assert uris, f'{world.name} includes no model'
        for uri in uris:
            assert uri.startswith('model://')
            assert (GAZEBO / 'models' / uri.removeprefix('model://') / 'model.sdf').is_file()


def test_quadrotor_matches_the_built_in_simulator_vehicle():
    model = ET.parse(GAZEBO / 'models' / 'mmchat_quad' / 'model.sdf').getroot().find('model')
    base = model.find("link[@name='base_link']")
    assert float(base.find('inertial/mass').text) == pytest.approx(VEHICLE.mass_kg)
    inertia = [float(base.find(f'inertial/inertia/{axis}').text) for axis in ('ixx', 'iyy', 'izz')]
    assert inertia == pytest.approx(list(VEHICLE.inertia_kg_m2))
    for i, rotor in enumerate(VEHICLE.rotors):
        pose = [float(v) for v in model.find(f"link[@name='rotor_{i}']/pose").text.split()]
        assert pose[:2] == pytest.approx(rotor.position_m[:2])
    motors = model.findall("plugin[@name='gz::sim::systems::MulticopterMotorModel']")
    assert len(motors) == len(VEHICLE.rotors)
    for plugin in motors:
        max_thrust = (float(plugin.find('motorConstant').text)
                      * float(plugin.find('maxRotVelocity').text) ** 2)
        assert max_thrust == pytest.approx(VEHICLE.max_thrust_n, rel=1e-3)


def test_bridge_publishes_what_the_built_in_simulator_publishes():
    """The Gazebo bridge stands in for the sim node: same ROS topics, so the nodes run unchanged."""
    bridge = yaml.safe_load((GAZEBO / 'bridge.yaml').read_text())
    to_ros = {e['ros_topic_name'] for e in bridge if e['direction'] == 'GZ_TO_ROS'}
    sim_node = graph.load_profile('sim').node('sim')
    sim_topics = {target for _, target in sim_node.remappings} | {'/clock'}
    assert to_ros <= sim_topics, f'not published by the sim node: {to_ros - sim_topics}'
    assert {'/clock', '/imu', '/sim/odom', '/camera/image_raw'} <= to_ros
    for entry in bridge:
        assert entry['ros_type_name'].count('/') == 2
        assert entry['gz_type_name'].startswith('gz.msgs.')


def test_gazebo_profile_is_served_by_the_bridge():
    """What the gazebo profile expects from outside comes over the bridge; cmd_vel goes back."""
    bridge = yaml.safe_load((GAZEBO / 'bridge.yaml').read_text())
    to_ros = {e['ros_topic_name'] for e in bridge if e['direction'] == 'GZ_TO_ROS'}
    to_gz = {e['ros_topic_name'] for e in bridge if e['direction'] == 'ROS_TO_GZ'}
    profile = graph.load_profile('gazebo')
    assert ({'/clock', '/imu', '/sim/odom', '/camera/image_raw', '/battery'}
            <= set(profile.external_topics))
    assert to_ros <= set(profile.external_topics)
    controller = profile.node('flight_controller')
    assert dict(controller.remappings)['cmd_vel'] in to_gz
    parameters = yaml.safe_load((graph.share_dir() / controller.parameters[0]).read_text())
    assert parameters['flight_controller']['ros__parameters']['vehicle_interface'] == 'twist'
