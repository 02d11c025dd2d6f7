"""Monocular visual SLAM, ROS-free: the binding wrapper (backend), ORB-SLAM3 settings, DBoW2
vocabularies, metric scale from altitude and attitude, rendered sequences, datasets, metrics and the
offline runner. The ROS side is mmchat_ros.nodes.slam_node."""
