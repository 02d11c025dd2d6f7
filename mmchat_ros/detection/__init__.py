"""Detection and tracking (ROS-free): YOLO inference (yolo) and tracking with re-identification.

The ROS node is nodes/detector_node.py; engine building, training data and metrics are offline
tools (mmchat_tools.detection).
"""
