"""Launch the nodes of a profile of config/graph.yaml, one process per node.

    ros2 launch mmchat_ros mmchat.launch.py profile:=robot
    ros2 launch mmchat_ros mmchat.launch.py profile:=robot nodes:=camera
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from mmchat_ros.graph import launch_node_arguments, load_profile


def _profile_nodes(context):
    profile = load_profile(LaunchConfiguration('profile').perform(context))
    wanted = {n for n in LaunchConfiguration('nodes').perform(context).split(',') if n}
    return [Node(**arguments) for arguments in launch_node_arguments(profile)
            if not wanted or arguments['name'] in wanted]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument('profile', default_value='robot',
                              description='profile of config/graph.yaml (sim, robot)'),
        DeclareLaunchArgument('nodes', default_value='',
                              description='comma-separated node names to start; empty: all'),
        OpaqueFunction(function=_profile_nodes),
    ])
