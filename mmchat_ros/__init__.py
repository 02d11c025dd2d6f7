"""mmchat_ros: multi-modal control of drones and ground robots on ROS 2."""
