"""Every interface of the package crosses real DDS unchanged; the action works end to end."""
from geometry_msgs.msg import Point
import pytest
from rclpy.action import ActionClient, ActionServer
from rclpy.node import Node

from mmchat_ros.action import ExecuteCommand
from mmchat_ros.msg import (AuthFactor, AuthState, Command, CommandResult, Detection,
                            DetectionArray, Gesture, SlamState, Transcript, VehicleState)
from mmchat_tools.probe import spin_until


def filled(message_type):
    """A message with every scalar and nested message set away from its default, so loss shows."""
    msg = message_type()
    for name, type_name in message_type.get_fields_and_field_types().items():
        value = getattr(msg, name)
        if type_name == 'string':
            setattr(msg, name, f'{name}-value')
        elif type_name == 'boolean':
            setattr(msg, name, not value)
        elif type_name in ('float', 'double'):
            setattr(msg, name, 1.25)
        elif type_name.startswith(('int', 'uint')):
            setattr(msg, name, 7)
        elif hasattr(value, 'get_fields_and_field_types'):
            setattr(msg, name, filled(type(value)))
    return msg


def examples():
    detections = filled(DetectionArray)
    detections.detections = [filled(Detection), Detection(class_name='vehicle', track_id=42)]
    auth = filled(AuthState)
    auth.factors = [filled(AuthFactor), AuthFactor(name=AuthFactor.VOICEPRINT, score=0.5)]
    gesture = filled(Gesture)
    gesture.landmarks = [Point(x=i / 21, y=1 - i / 21, z=-0.01 * i) for i in range(21)]
    return [detections, auth, gesture, filled(Transcript), filled(Command), filled(CommandResult),
            filled(VehicleState), filled(SlamState)]


@pytest.mark.parametrize('message', examples(), ids=lambda m: type(m).__name__)
def test_message_round_trips_through_dds(ros_context, executor, message):
    node = Node('round_trip', context=ros_context)
    executor.add_node(node)
    received = []
    topic = f'round_trip_{type(message).__name__.lower()}'
    node.create_subscription(type(message), topic, received.append, 10)
    publisher = node.create_publisher(type(message), topic, 10)
    assert spin_until(executor, lambda: publisher.get_subscription_count() > 0, 5.0)
    publisher.publish(message)
    assert spin_until(executor, lambda: received, 5.0)
    assert received[0] == message
    node.destroy_node()


def test_constants_and_defaults():
    assert Detection().track_id == -1 and Detection().track_state == Detection.TRACK_NONE
    assert Command().track_id == -1
    verbs = [Command.TAKEOFF, Command.LAND, Command.HOVER, Command.GOTO, Command.MOVE_BY,
             Command.YAW_BY, Command.FOLLOW_TRACK, Command.RETURN_HOME, Command.EMERGENCY_STOP]
    assert len(set(verbs)) == len(verbs)
    assert AuthFactor.FACE == 'face'


def test_execute_command_action_goal_feedback_result(ros_context, executor):
    node = Node('action_test', context=ros_context)
    executor.add_node(node)

    def execute(goal_handle):
        feedback = ExecuteCommand.Feedback(distance_remaining_m=1.5)
        feedback.state.mode = VehicleState.MODE_FLYING
        goal_handle.publish_feedback(feedback)
        goal_handle.succeed()
        return ExecuteCommand.Result(success=True,
                                     reason='took off to '
                                            f'{goal_handle.request.command.altitude_m} m')

    server = ActionServer(node, ExecuteCommand, 'execute_command', execute)
    client = ActionClient(node, ExecuteCommand, 'execute_command')
    assert spin_until(executor, client.server_is_ready, 5.0)
    feedbacks = []
    goal = ExecuteCommand.Goal(command=Command(verb=Command.TAKEOFF, altitude_m=1.5))
    sent = client.send_goal_async(goal, feedback_callback=lambda f: feedbacks.append(f.feedback))
    assert spin_until(executor, sent.done, 5.0) and sent.result().accepted
    result = sent.result().get_result_async()
    assert spin_until(executor, result.done, 5.0)
    assert result.result().result.success
    assert result.result().result.reason == 'took off to 1.5 m'
    assert spin_until(executor, lambda: feedbacks, 2.0)
    assert feedbacks[0].state.mode == VehicleState.MODE_FLYING
    server.destroy()
    client.destroy()
    node.destroy_node()
