"""Fly in Gazebo Harmonic instead of the built-in simulator (machines with gz sim and ros_gz).

    ros2 launch mmchat_ros sim_gazebo.launch.py [world:=indoor_room]

Starts gz sim with sim/gazebo/worlds/<world>.sdf, ros_gz_bridge with sim/gazebo/bridge.yaml, and the
nodes of the `gazebo` profile of config/graph.yaml (the flight controller drives the Gazebo
quadrotor's velocity controller through /cmd_vel).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription,
                            OpaqueFunction, SetEnvironmentVariable)
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from mmchat_ros.graph import launch_node_arguments, load_profile


def _gazebo_and_nodes(context):
    share = get_package_share_directory('mmchat_ros')
    world = os.path.join(share, 'sim', 'gazebo', 'worlds',
                         LaunchConfiguration('world').perform(context) + '.sdf')
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(
            get_package_share_directory('ros_gz_sim'), 'launch', 'gz_sim.launch.py')),
        launch_arguments={'gz_args': f'-r {world}'}.items())
    bridge = Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
                  parameters=[{'config_file': os.path.join(share, 'sim', 'gazebo', 'bridge.yaml'),
                               'use_sim_time': True}])
    # The quadrotor's MulticopterVelocityControl ignores cmd_vel until it is enabled.
    enable = ExecuteProcess(cmd=['ros2', 'topic', 'pub', '--once',
                                 '--wait-matching-subscriptions', '1',
                                 '/gazebo/enable_velocity_control', 'std_msgs/msg/Bool',
                                 '{data: true}'])
    nodes = [Node(**arguments) for arguments in launch_node_arguments(load_profile('gazebo'))]
    return [gz_sim, bridge, enable, *nodes]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory('mmchat_ros')
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value='indoor_room',
                              description='world file under sim/gazebo/worlds (without .sdf)'),
        SetEnvironmentVariable('GZ_SIM_RESOURCE_PATH',
                               os.path.join(share, 'sim', 'gazebo', 'models') + os.pathsep
                               + os.environ.get('GZ_SIM_RESOURCE_PATH', '')),
        OpaqueFunction(function=_gazebo_and_nodes),
    ])
