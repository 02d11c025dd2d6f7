"""A lifecycle node that can bring itself up: nodes that load a model use it.

With `autostart` true (the default) the node configures and activates itself right after it is
constructed, so `ros2 launch`, `ros2 run` and the in-process runner need no lifecycle manager; with
`autostart:=false` it waits for `ros2 lifecycle set <node> configure` / `activate` as usual. A failed
configure leaves the node up and unconfigured, with the reason logged, never a crash.
"""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node


class AutostartLifecycleNode(LifecycleNode):
    """LifecycleNode with an `autostart` parameter that runs configure and activate once."""

    def __init__(self, node_name: str, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        self.declare_parameter('autostart', True, ParameterDescriptor(
            description='configure and activate right after start-up'))
        if self.get_parameter('autostart').value:
            self._autostart_timer = self.create_timer(0.0, self._autostart)

    def _autostart(self) -> None:
        if self._autostart_timer.is_canceled():      # an executor may deliver a queued tick late
            return
        self._autostart_timer.cancel()
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()


def step_down(node: Node) -> None:
    """Take a lifecycle node down in order before it is destroyed; other nodes are left as they are.

    An active node is deactivated, an inactive one cleaned up, an unconfigured one shut down, so each
    transition callback frees what its counterpart made (and ros2 lifecycle tools see it finalised).
    Does nothing once the node's context is shut down; safe to call more than once.
    """
    if not isinstance(node, LifecycleNode):
        return
    steps = {'active': node.trigger_deactivate, 'inactive': node.trigger_cleanup,
             'unconfigured': node.trigger_shutdown}
    for _ in range(len(steps)):
        step = steps.get(node._state_machine.current_state[1])   # rclpy keeps no public getter
        if step is None or not node.context.ok():
            return
        step()
