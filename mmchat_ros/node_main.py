"""The `main()` every node executable shares: init, spin, clean shutdown on SIGINT or SIGTERM."""
from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from mmchat_ros.lifecycle import step_down
from mmchat_ros.malloc_tuning import keep_freed_image_buffers
from mmchat_ros.shutdown_signals import ShutdownSignals

#: Longest wait of one spin step: how soon a stop signal is seen when no callback is due.
SPIN_STEP_S = 0.1


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Run one node in its own process until SIGINT, SIGTERM or ROS shutdown; returns 0.

    This process owns both signals (whatever it inherited, see mmchat_ros.shutdown_signals), so
    rclpy installs none of its own: the node is stepped down while its context still works.
    """
    keep_freed_image_buffers()
    with ShutdownSignals() as signals:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
        executor = SingleThreadedExecutor()
        node = None
        try:
            node = make_node()
            executor.add_node(node)
            while rclpy.ok() and not signals.requested:
                executor.spin_once(timeout_sec=SPIN_STEP_S)
        except ExternalShutdownException:
            pass
        finally:
            if node is not None:
                step_down(node)
                node.destroy_node()
            executor.shutdown()
            rclpy.try_shutdown()
    return 0
