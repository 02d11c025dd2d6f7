"""The lifecycle of every node: ManagedNode (the template) on AutostartLifecycleNode.

With `autostart` true (the default) the node configures and activates itself right after it is
constructed, so `ros2 launch`, `ros2 run` and the in-process runner need no lifecycle manager; with
`autostart:=false` it waits for `ros2 lifecycle set <node> configure` / `activate` as usual.
A failed configure leaves the node up and unconfigured, with the reason logged, never a crash.
"""
from __future__ import annotations

from typing import Any, Callable

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
from rclpy.node import Node

from mmchat_ros.diagnostics import ERROR, OK, WARN, NodeDiagnostics
from mmchat_ros.parameters import NodeParameters


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


class ConfigureError(Exception):
    """Why a node cannot be configured (a missing model, a file it cannot read, bad settings)."""


class ManagedNode(AutostartLifecycleNode):
    """The one shape of an mmchat node: typed parameters and a lifecycle of single-purpose steps.

    A node sets PARAMETERS (its parameter dataclass, see mmchat_ros.parameters) and implements:
      build()    on configure, after the parameters are checked: load models, open files;
                 raise ConfigureError (or one of CONFIGURE_ERRORS) to stay unconfigured
      start()    on activate: subscriptions, timers and services, made with subscribe(),
                 every() and serve() so that deactivate destroys them (a ConfigureError here
                 leaves the node inactive)
      stop()     on deactivate (and shutdown or destroy while active), before those are destroyed
      release()  on cleanup, shutdown and destroy (and after a failed build): free what build()
                 made; it may run more than once
    Publishers are made once, in __init__, with create_lifecycle_publisher: they publish only
    while the node is active. A failed configure is logged and reported on /diagnostics, and the
    node stays up, unconfigured. The node's own status (diagnostics.set_status) overrides the
    generic one each step sets.
    """

    PARAMETERS: type = type(None)
    EXTRA_PARAMETERS: tuple = ()
    #: settings files may write 1 for 1.0 (the flight controller's)
    DYNAMIC_TYPING = False
    #: exceptions of build() that mean "cannot configure" rather than a bug
    CONFIGURE_ERRORS: tuple[type[Exception], ...] = ()

    def __init__(self, node_name: str, **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        self._params = NodeParameters(self, self.PARAMETERS, self.EXTRA_PARAMETERS,
                                      dynamic_typing=self.DYNAMIC_TYPING)
        self._diagnostics = NodeDiagnostics(self)
        self._diagnostics.set_status(WARN, 'unconfigured')
        self._running: list = []
        self._started = False
        #: why the last configure failed (None: it did not)
        self.configure_problem: str | None = None

    @property
    def active(self) -> bool:
        """Whether the node is active: start() has run and stop() has not yet."""
        return self._started

    # --- what a node implements ----------------------------------------------------------------

    def build(self) -> None:
        """Make what the node needs while configured (models, files, helpers)."""

    def start(self) -> None:
        """Make the subscriptions, timers and services of the active node."""

    def stop(self) -> None:
        """Last words of the active node (leave hardware safe), before start()'s entities go."""

    def release(self) -> None:
        """Free what build() made (must also work after a build that failed half-way)."""

    # --- helpers for start() -------------------------------------------------------------------

    def subscribe(self, msg_type, topic: str, callback, qos) -> Any:
        """A subscription that lives while the node is active."""
        return self.keep_while_active(self.create_subscription(msg_type, topic, callback, qos),
                                      self.destroy_subscription)

    def every(self, period_s: float, callback) -> Any:
        """A timer that lives while the node is active."""
        return self.keep_while_active(self.create_timer(period_s, callback), self.destroy_timer)

    def serve(self, srv_type, name: str, callback) -> Any:
        """A service that lives while the node is active."""
        return self.keep_while_active(self.create_service(srv_type, name, callback),
                                      self.destroy_service)

    def keep_while_active(self, entity: Any, destroy: Callable[[Any], Any]) -> Any:
        """`entity` made in start() (an action server), destroyed with `destroy` on deactivate."""
        self._running.append((entity, destroy))
        return entity

    # --- transitions ---------------------------------------------------------------------------

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        """Check the parameters and build; a failure leaves the node unconfigured."""
        self._diagnostics.set_status(OK, 'configured')
        self.configure_problem = None
        try:
            if self._params.problems:
                raise ConfigureError('; '.join(self._params.problems))
            self.build()
        except (ConfigureError, *self.CONFIGURE_ERRORS) as exc:
            self.configure_problem = str(exc)
            self.get_logger().error(f'not configured: {exc}')
            self._diagnostics.set_status(ERROR, f'not configured: {exc}')
            self.release()
            return TransitionCallbackReturn.FAILURE
        return super().on_configure(state)

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        """Start the subscriptions and timers; lifecycle publishers publish from now on."""
        self._diagnostics.set_status(OK, 'active')
        try:
            self.start()
        except (ConfigureError, *self.CONFIGURE_ERRORS) as exc:
            self.get_logger().error(f'not activated: {exc}')
            self._diagnostics.set_status(ERROR, f'not activated: {exc}')
            self._destroy_running()
            return TransitionCallbackReturn.FAILURE
        self._started = True
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        """Stop, and destroy what start() made."""
        self._stop()
        self._diagnostics.set_status(WARN, 'inactive')
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        """Free what build() made."""
        self.release()
        self._diagnostics.set_status(WARN, 'unconfigured')
        return super().on_cleanup(state)

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        """Stop and free whatever the node still holds."""
        self._stop()
        self.release()
        return super().on_shutdown(state)

    def destroy_node(self) -> None:
        """Stop and free everything, whatever state the node is in, then destroy it."""
        self._stop()
        self.release()
        super().destroy_node()

    def _stop(self) -> None:
        if self._started:
            self._started = False
            self.stop()
        self._destroy_running()

    def _destroy_running(self) -> None:
        for entity, destroy in reversed(self._running):
            destroy(entity)
        self._running = []


def step_down(node: Node) -> None:
    """Take a lifecycle node down in order before it is destroyed; other nodes are left as they are.

    An active node is deactivated, an inactive one cleaned up, an unconfigured one shut down, so
    each transition callback frees what its counterpart made (and ros2 lifecycle tools see it
    finalised).
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
