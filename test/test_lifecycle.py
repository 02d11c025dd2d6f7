"""AutostartLifecycleNode comes up active, or stays up unconfigured when configure fails.

ManagedNode, the template of every node, does each lifecycle step's part.
"""
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from lifecycle_msgs.msg import State
from lifecycle_msgs.srv import GetState
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String

from mmchat_tools.probe import spin_until
from mmchat_ros.lifecycle import AutostartLifecycleNode, ConfigureError, ManagedNode
from mmchat_ros.parameters import parameter


class ModelNode(AutostartLifecycleNode):
    def __init__(self, model_ok: bool, **kwargs):
        super().__init__('model_node', **kwargs)
        self.model_ok = model_ok
        self.activated = False

    def on_configure(self, state):
        if not self.model_ok:
            self.get_logger().error('model file missing')
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state):
        self.activated = True
        return super().on_activate(state)


def lifecycle_state(executor, context) -> int:
    asker = Node('state_asker', context=context)
    executor.add_node(asker)
    client = asker.create_client(GetState, '/model_node/get_state')
    assert spin_until(executor, client.service_is_ready, 30.0)   # slow discovery under load
    future = client.call_async(GetState.Request())
    assert spin_until(executor, future.done, 30.0)
    return future.result().current_state.id


@pytest.mark.parametrize('model_ok, expected', [(True, State.PRIMARY_STATE_ACTIVE),
                                                (False, State.PRIMARY_STATE_UNCONFIGURED)])
def test_autostart(ros_context, executor, model_ok, expected):
    node = ModelNode(model_ok, context=ros_context)
    executor.add_node(node)
    spin_until(executor, lambda: node.activated, 1.0)
    assert lifecycle_state(executor, ros_context) == expected
    assert node.activated == model_ok


def test_autostart_off_waits_for_a_manager(ros_context, executor):
    node = ModelNode(True, context=ros_context,
                     parameter_overrides=[Parameter('autostart', value=False)])
    executor.add_node(node)
    assert lifecycle_state(executor, ros_context) == State.PRIMARY_STATE_UNCONFIGURED
    assert not node.activated


@dataclass(frozen=True)
class EchoParameters:
    topic: str = parameter('in', 'topic to take')
    model: str = parameter('good', 'model to load')


class EchoNode(ManagedNode):
    """A ManagedNode that 'loads a model', takes one topic and counts its messages."""

    PARAMETERS = EchoParameters

    def __init__(self, **kwargs):
        super().__init__('echo', **kwargs)
        self.model = None
        self.received = 0
        self.stopped = 0

    def build(self):
        if self._params.values.model != 'good':
            raise ConfigureError(f'cannot load {self._params.values.model}')
        self.model = 'loaded'

    def start(self):
        self.subscribe(String, self._params.values.topic, self._on_message, 10)

    def stop(self):
        self.stopped += 1

    def release(self):
        self.model = None

    def _on_message(self, _):
        self.received += 1


def test_the_template_starts_stops_and_frees_in_its_steps(ros_context, executor):
    node = EchoNode(context=ros_context)
    sender = Node('sender', context=ros_context)
    publisher = sender.create_publisher(String, 'in', 10)
    executor.add_node(node)
    executor.add_node(sender)
    assert spin_until(executor, lambda: publisher.get_subscription_count() == 1, 30.0)
    assert node.model == 'loaded'
    publisher.publish(String(data='hello'))
    assert spin_until(executor, lambda: node.received == 1, 10.0)
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert node.stopped == 1 and node.model == 'loaded'
    assert spin_until(executor, lambda: publisher.get_subscription_count() == 0, 30.0)
    assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
    assert node.model is None
    node.destroy_node()
    assert node.stopped == 1                            # stop() runs once, while active only


def test_a_failed_configure_is_reported_and_leaves_the_node_unconfigured(ros_context, executor):
    node = EchoNode(context=ros_context, parameter_overrides=[Parameter('model', value='bad')])
    listener = Node('listener', context=ros_context)
    statuses = []
    listener.create_subscription(DiagnosticArray, '/diagnostics',
                                 lambda m: statuses.extend(m.status), 10)
    executor.add_node(node)
    executor.add_node(listener)
    assert spin_until(executor, lambda: any(s.level == DiagnosticStatus.ERROR and
                                            s.message == 'not configured: cannot load bad'
                                            for s in statuses), 10.0)
    assert node.model is None
    assert node.get_subscriptions_info_by_topic('/in') == []
