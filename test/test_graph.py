"""The graph description, the launch files built from it, and the runner that composes it."""
import ast
from pathlib import Path
import py_compile

import pytest
from rclpy.node import Node

from mmchat_ros import graph
from mmchat_ros.graph_runner import GraphRunner, parse_overrides
from mmchat_tools.probe import spin_until

SHARE = graph.share_dir()
PROFILES = graph.load_profiles()
LAUNCH_FILES = sorted((SHARE / 'launch').glob('*.launch.py'))


def test_profiles_for_laptop_and_robot_exist():
    assert {'sim', 'replay', 'robot'} <= set(PROFILES)


@pytest.mark.parametrize('name', sorted(PROFILES))
def test_every_executable_and_parameter_file_exists(name):
    arguments = graph.launch_node_arguments(PROFILES[name], SHARE)
    assert [a['name'] for a in arguments] == [s.name for s in PROFILES[name].nodes]
    for node_arguments in arguments:
        assert all(Path(p).is_file() for p in node_arguments['parameters'])
        node_type = graph.node_class(node_arguments['executable'], SHARE)
        assert issubclass(node_type, Node)


def test_every_listed_executable_has_an_entry_point():
    import importlib
    for name, target in graph.executables(SHARE).items():
        module_name, function = target.split(':')
        assert callable(getattr(importlib.import_module(module_name), function)), name


def test_parameter_files_name_their_nodes():
    import yaml
    for profile in PROFILES.values():
        for spec in profile.nodes:
            for path in graph.parameter_files(spec, SHARE):
                assert spec.name in yaml.safe_load(path.read_text()), f'{path} lacks {spec.name}:'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_files_compile_and_build_nodes_from_the_graph(path):
    py_compile.compile(str(path), doraise=True)
    tree = ast.parse(path.read_text())
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert 'generate_launch_description' in functions
    assert {'launch_node_arguments', 'load_profile'} <= called


@pytest.mark.parametrize('name', sorted(PROFILES))
def test_every_subscription_of_a_profile_has_a_publisher(run_profile, name):
    runner = run_profile(name)
    observer = Node('graph_observer', context=runner.context)
    runner.add_node(observer)
    expected = {s.name for s in PROFILES[name].nodes}

    def all_nodes_visible():
        return expected <= set(observer.get_node_names())
    assert runner.spin(5.0, until=all_nodes_visible)

    def dangling():
        published = {t for t, _ in observer.get_topic_names_and_types()
                     if observer.get_publishers_info_by_topic(t)}
        return [f'{spec.name} subscribes to {topic}' for spec in PROFILES[name].nodes
                for topic, _ in observer.get_subscriber_names_and_types_by_node(
                    spec.name, spec.namespace or '/')
                if topic not in published and topic not in PROFILES[name].external_topics]
    # Lifecycle nodes make their topics on configure and activate: wait until each is active or
    # could not configure (a model this machine lacks).
    nodes = [runner.nodes[s.name] for s in PROFILES[name].nodes]
    assert runner.spin(120.0, until=lambda: all(n.active or n.configure_problem for n in nodes))
    runner.spin(2.0, until=lambda: not dangling())
    assert not dangling()


def test_a_dangling_subscription_is_found(tmp_path, ros_context, executor):
    """The check above can fail: a node subscribing to a topic nobody publishes is reported."""
    from sensor_msgs.msg import Image
    node = Node('lonely_listener', context=ros_context)
    node.create_subscription(Image, '/nobody/publishes/this', lambda m: None, 1)
    executor.add_node(node)
    assert spin_until(executor, lambda: 'lonely_listener' in node.get_node_names(), 5.0)
    subscribed = {t for t, _ in node.get_subscriber_names_and_types_by_node('lonely_listener', '/')}
    assert '/nobody/publishes/this' in subscribed
    assert not node.get_publishers_info_by_topic('/nobody/publishes/this')
    node.destroy_node()


def test_broken_graph_descriptions_give_clear_errors(tmp_path):
    bad = tmp_path / 'graph.yaml'
    bad.write_text('profiles:\n  p:\n    nodes:\n      - name: camera\n')
    with pytest.raises(graph.GraphError, match='malformed node entry'):
        graph.load_profiles(bad)
    bad.write_text('profiles:\n  p:\n    nodes:\n      - {name: a, executable: camera_node,'
                   ' parameters: [config/missing.yaml]}\n')
    with pytest.raises(graph.GraphError, match='parameter file'):
        graph.launch_node_arguments(graph.load_profile('p', bad))
    bad.write_text('profiles:\n  p:\n    nodes:\n      - {name: a, executable: teleporter}\n')
    with pytest.raises(graph.GraphError, match="unknown executable 'teleporter'"):
        graph.launch_node_arguments(graph.load_profile('p', bad))
    with pytest.raises(graph.GraphError, match="unknown profile 'moon'"):
        graph.load_profile('moon')


def test_overrides_parse_and_are_checked():
    assert parse_overrides(['camera.fps=15.0', 'camera.source=video', 'camera.loop=false']) == {
        'camera': {'fps': 15.0, 'source': 'video', 'loop': False}}
    with pytest.raises(ValueError, match='node.parameter=value'):
        parse_overrides(['fps=15'])
    with pytest.raises(graph.GraphError, match='not in profile'):
        GraphRunner(PROFILES['replay'], parse_overrides(['nosuchnode.x=1']))


def test_every_executable_is_installed_and_runs():
    """`ros2 run` / launch_ros look in <prefix>/lib/mmchat_ros: every listed executable is there."""
    import os
    import subprocess
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    try:
        prefix = Path(get_package_prefix('mmchat_ros'))
    except PackageNotFoundError:
        pytest.skip('mmchat_ros is not built and installed (run make setup)')
    for name in graph.executables(SHARE):
        path = prefix / 'lib' / 'mmchat_ros' / name
        assert path.is_file() and os.access(path, os.X_OK), f'{path} missing or not executable'
    result = subprocess.run([str(prefix / 'lib' / 'mmchat_ros' / 'mmchat'), '--help'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and 'profiles' in result.stdout
