"""Detection and tracking (ROS-free): YOLO backends, tracking with re-identification, metrics,
simulator-rendered training data and engine building. The ROS node is nodes/detector_node.py."""
