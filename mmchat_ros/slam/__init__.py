"""Monocular visual SLAM, ROS-free.

The binding wrapper (backend), ORB-SLAM3 settings, vocabulary checks, metric scale from altitude
and attitude and the tracking session. The ROS side is mmchat_ros.nodes.slam_node; vocabulary
training, sequences, datasets, metrics and the offline runner are offline tools
(mmchat_tools.slam).
"""
