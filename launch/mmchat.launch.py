"""Launch the nodes of a profile of config/graph.yaml, one process per node.

    ros2 launch mmchat_ros mmchat.launch.py profile:=robot
    ros2 launch mmchat_ros mmchat.launch.py profile:=robot nodes:=camera

Camera images cross processes; with Fast DDS the nodes use config/fastdds/shm_large_images.xml
(shared memory with segments large enough for images) unless fastdds_profile:='' or
FASTDDS_DEFAULT_PROFILES_FILE is already set.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from mmchat_ros.graph import launch_node_arguments, load_profile


def _profile_nodes(context):
    profile = load_profile(LaunchConfiguration('profile').perform(context))
    wanted = {n for n in LaunchConfiguration('nodes').perform(context).split(',') if n}
    actions = [Node(**arguments) for arguments in launch_node_arguments(profile)
               if not wanted or arguments['name'] in wanted]
    fastdds_profile = LaunchConfiguration('fastdds_profile').perform(context)
    if fastdds_profile and 'FASTDDS_DEFAULT_PROFILES_FILE' not in os.environ:
        actions.insert(0, SetEnvironmentVariable('FASTDDS_DEFAULT_PROFILES_FILE', fastdds_profile))
    return actions


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument('profile', default_value='robot',
                              description='profile of config/graph.yaml (sim, robot)'),
        DeclareLaunchArgument('nodes', default_value='',
                              description='comma-separated node names to start; empty: all'),
        DeclareLaunchArgument('fastdds_profile', default_value=os.path.join(
            get_package_share_directory('mmchat_ros'), 'config', 'fastdds', 'shm_large_images.xml'),
            description="Fast DDS profile for the nodes ('': Fast DDS defaults)"),
        OpaqueFunction(function=_profile_nodes),
    ])
