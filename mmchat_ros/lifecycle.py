"""A lifecycle node that can bring itself up: nodes that load a model use it.

With `autostart` true (the default) the node configures and activates itself right after it is
constructed, so `ros2 launch`, `ros2 run` and the in-process runner need no lifecycle manager; with
`autostart:=false` it waits for `ros2 lifecycle set <node> configure` / `activate` as usual. A failed
configure leaves the node up and unconfigured, with the reason logged, never a crash.
"""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn


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
