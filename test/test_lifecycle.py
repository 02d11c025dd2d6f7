"""AutostartLifecycleNode: brings itself to active, or stays up unconfigured when configure fails."""
from lifecycle_msgs.msg import State
from lifecycle_msgs.srv import GetState
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.node import Node

from mmchat_ros.lifecycle import AutostartLifecycleNode
from mmchat_tools.probe import spin_until


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
    assert spin_until(executor, client.service_is_ready, 30.0)   # discovery is slow on a loaded machine
    future = client.call_async(GetState.Request())
    assert spin_until(executor, future.done, 5.0)
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
    from rclpy.parameter import Parameter
    node = ModelNode(True, context=ros_context,
                     parameter_overrides=[Parameter('autostart', value=False)])
    executor.add_node(node)
    assert lifecycle_state(executor, ros_context) == State.PRIMARY_STATE_UNCONFIGURED
    assert not node.activated
