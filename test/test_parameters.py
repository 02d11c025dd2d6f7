"""Node parameters over real DDS: bad values refused with a reason, good dynamic ones taken."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.srv import DescribeParameters, SetParameters
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from mmchat_tools.probe import spin_until
from mmchat_ros import parameters
from mmchat_ros.nodes.camera_node import CameraNode
from mmchat_ros.nodes.detector_node import DetectorNode
from mmchat_ros.nodes.flight_controller_node import FlightControllerNode
from mmchat_ros.nodes.gesture_node import GestureNode
from mmchat_ros.nodes.sim_node import SimNode
from mmchat_ros.nodes.slam_node import SlamNode

README = Path(__file__).resolve().parents[1] / 'README.md'
NOT_STARTED = [Parameter('autostart', value=False)]    # parameters work before configure
NODES = {
    'camera': (CameraNode, []),
    'sim': (SimNode, [Parameter('control_rate_hz', value=50.0),
                      Parameter('camera_rate_hz', value=5.0)]),
    'detector': (DetectorNode, NOT_STARTED),
    'gesture': (GestureNode, NOT_STARTED),
    'slam': (SlamNode, NOT_STARTED),
    'flight_controller': (FlightControllerNode, []),
}
#: node, parameter, refused value, words of the reason
REFUSED = [
    ('camera', 'reopen_period_s', 0.0, 'reopen_period_s must be positive'),
    ('camera', 'fps', 15.0, 'read-only'),
    ('sim', 'lockstep_timeout_s', -1.0, 'out of range'),
    ('sim', 'world', 'sim/worlds/outdoor_yard.yaml', 'read-only'),
    ('detector', 'max_rate_hz', -5.0, 'out of range'),
    ('detector', 'marker_depth_m', math.nan, 'out of range'),
    ('detector', 'model', 'other.onnx', 'read-only'),
    ('gesture', 'command_frame_id', 3, 'Wrong parameter type'),
    ('gesture', 'max_hands', 0, 'read-only'),
    ('slam', 'fps', 0.0, 'fps must be positive, got 0.0'),
    ('slam', 'max_map_points', 0, 'out of range'),
    ('flight_controller', 'limits.max_tilt_deg', 80.0, 'read-only'),
    ('flight_controller', 'vehicle_interface', 'twist', 'read-only'),
]
#: node, dynamic parameter, a good new value
ACCEPTED = [
    ('camera', 'reopen_period_s', 5.0),
    ('sim', 'lockstep_timeout_s', 2.5),
    ('sim', 'lockstep', False),
    ('detector', 'max_rate_hz', 4.0),
    ('detector', 'annotate', False),
    ('gesture', 'command_frame_id', 'odom'),
    ('slam', 'fps', 10.0),
    ('slam', 'max_map_points', 500),
]


class Graph:
    """The six nodes and a probe in one context, on one executor."""

    def __init__(self) -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.nodes = {name: make(context=self.context, parameter_overrides=list(overrides))
                      for name, (make, overrides) in NODES.items()}
        self.probe = Node('parameter_probe', context=self.context)
        for node in [*self.nodes.values(), self.probe]:
            self.executor.add_node(node)

    def call(self, service_type, service: str, request):
        client = self.probe.create_client(service_type, service)
        try:
            assert spin_until(self.executor, client.service_is_ready, 30.0), service
            future = client.call_async(request)
            assert spin_until(self.executor, future.done, 10.0), service
            return future.result()
        finally:
            self.probe.destroy_client(client)

    def set(self, node: str, name: str, value):
        """Set one parameter through /<node>/set_parameters; returns the SetParametersResult."""
        request = SetParameters.Request(parameters=[ParameterMsg(
            name=name, value=Parameter(name, value=value).get_parameter_value())])
        return self.call(SetParameters, f'/{node}/set_parameters', request).results[0]

    def close(self) -> None:
        for node in [*self.nodes.values(), self.probe]:
            node.destroy_node()
        self.executor.shutdown()
        rclpy.try_shutdown(context=self.context)


@pytest.fixture(scope='module')
def graph():
    graph = Graph()
    yield graph
    graph.close()


def typed_value(node, name: str):
    """The value the node itself reads.

    From its typed parameter object; the flight controller's control settings by name (they are
    checked together by ControllerConfig).
    """
    value = node._params.values
    if not hasattr(value, name.split('.')[0]):
        return node._params.flat([name])[name]
    for part in name.split('.'):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize('node_name, name, value, reason', REFUSED)
def test_bad_values_are_refused_with_a_reason_and_the_old_value_kept(graph, node_name, name,
                                                                     value, reason):
    node = graph.nodes[node_name]
    before = node.get_parameter(name).value
    result = graph.set(node_name, name, value)
    assert not result.successful
    assert reason in result.reason
    assert node.get_parameter(name).value == before
    assert typed_value(node, name) == before


@pytest.mark.parametrize('node_name, name, value', ACCEPTED)
def test_good_values_of_dynamic_parameters_are_taken(graph, node_name, name, value):
    node = graph.nodes[node_name]
    result = graph.set(node_name, name, value)
    assert result.successful, result.reason
    assert node.get_parameter(name).value == value
    assert typed_value(node, name) == value


def test_descriptions_ranges_and_read_only_are_described(graph):
    request = DescribeParameters.Request(names=['fps', 'orb.n_levels', 'vehicle'])
    fps, levels, vehicle = graph.call(DescribeParameters, '/slam/describe_parameters',
                                      request).descriptors
    assert 'frames are given to SLAM' in fps.description and not fps.read_only
    assert fps.floating_point_range[0].from_value == 0.0
    assert math.isinf(fps.floating_point_range[0].to_value)
    assert (levels.integer_range[0].from_value, levels.integer_range[0].to_value) == (1, 16)
    assert vehicle.read_only and 'camera mount' in vehicle.description


@pytest.mark.parametrize('node_name', sorted(NODES))
def test_every_node_declares_each_parameter_once_with_a_description(node_name):
    declared = parameters.node_declarations(node_name)
    names = [d.name for d in declared]
    assert len(names) == len(set(names))
    assert all(d.description for d in declared)


def test_a_declaration_explains_what_is_wrong():
    fps = parameters.Declaration('fps', 20.0, 'rate', positive=True)
    assert fps.problem(0.0) == 'fps must be positive, got 0.0'
    assert fps.problem(math.inf) == 'fps must be finite, got inf'
    assert fps.problem(5.0) is None
    mode = parameters.Declaration('mode', 'a', 'mode', choices=('a', 'b'))
    assert mode.problem('c') == "mode 'c' is not one of a, b"
    gain = parameters.Declaration('kp', 1.0, 'gain', minimum=0.0, maximum=2.0,
                                  dynamic_typing=True)
    assert gain.problem(1) is None
    assert gain.problem('1') == "kp must be a number, got '1'"
    assert gain.problem(3) == 'kp must be at most 2, got 3'


def test_readme_parameter_tables_are_the_generated_ones():
    text = README.read_text()
    assert sorted(m.group(2) for m in parameters.TABLE.finditer(text)) == sorted(NODES)
    assert parameters.readme_with_tables(text) == text, (
        'README.md parameter tables differ from the declarations: run '
        'tools/run python -m mmchat_ros.parameters --readme README.md')
