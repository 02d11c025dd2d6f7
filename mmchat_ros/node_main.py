"""The `main()` every node executable shares: init, spin, clean shutdown on Ctrl-C."""
from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from mmchat_ros.malloc_tuning import keep_freed_image_buffers


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Run one node in its own process until shutdown; returns a process exit code."""
    keep_freed_image_buffers()
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
