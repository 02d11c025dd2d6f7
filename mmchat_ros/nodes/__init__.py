"""ROS 2 nodes: thin adapters between topics and the package's plain-Python algorithms.

Each module defines one node class, exported as NODE_CLASS for the in-process runner, and `main()`
for its executable (see config/executables.txt).
"""
