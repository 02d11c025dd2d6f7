"""Flight control without ROS: cascade PID, mixer, setpoint trajectories, flight manager, MAVLink.

The flight_controller node (mmchat_ros/nodes/flight_controller_node.py) wraps these; tests and
benchmarks drive them directly against the built-in simulator.
"""
