"""SIGINT and SIGTERM stop `mmchat run` and node executables cleanly, whatever they inherited.

Every child here starts from a wrapper shell that ignores SIGINT and SIGTERM first, as a background
job of a script inherits them (the case that used to hang). Waits are on events, with limits that
hold on a machine loaded ten times over.
"""
from collections import Counter
import os
import signal
import subprocess
import threading

from lifecycle_msgs.msg import TransitionEvent
from lifecycle_msgs.srv import GetState
import pytest
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from mmchat_ros import graph
from mmchat_ros.mcap_recorder import read_messages
from mmchat_tools.probe import spin_until

REPO = graph.share_dir()
PATIENCE_S = 180.0          # start-up, a frame, an exit: seconds each on a badly loaded machine
IGNORING_WRAPPER = ['sh', '-c', 'trap "" INT TERM; exec "$0" "$@"']


class Child:
    """A process started with SIGINT and SIGTERM ignored, in a DDS domain of its own."""

    def __init__(self, args: list[str], domain_id: int) -> None:
        self.lines: list[str] = []
        self.ended = False                  # the output is closed: the child has ended
        self._new_line = threading.Condition()
        self.process = subprocess.Popen(
            IGNORING_WRAPPER + args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env={**os.environ, 'ROS_DOMAIN_ID': str(domain_id)})
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line)
                self._new_line.notify_all()
        with self._new_line:
            self.ended = True
            self._new_line.notify_all()

    @property
    def output(self) -> str:
        return ''.join(self.lines)

    def wait_for_line(self, text: str, timeout_s: float = PATIENCE_S) -> bool:
        """Wait until a line of output contains `text` (or the child ends)."""
        with self._new_line:
            return self._new_line.wait_for(
                lambda: self.ended or any(text in line for line in self.lines),
                timeout_s) and any(text in line for line in self.lines)

    def finish(self, timeout_s: float = PATIENCE_S) -> int:
        """Wait for the exit and for the last line of output; returns the exit code."""
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout_s)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_domain() -> int:
    """A DDS domain none of this test process's other nodes use."""
    return (int(os.environ['ROS_DOMAIN_ID']) + 1) % 232


@pytest.fixture
def probe(own_domain):
    """A node and executor in `own_domain`, to watch a child's topics."""
    context = Context()
    rclpy.init(context=context, domain_id=own_domain)
    node = Node('shutdown_probe', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)


@pytest.fixture
def children():
    """Start `Child` processes; any still running at the end is killed."""
    started: list[Child] = []

    def start(args: list[str], domain_id: int) -> Child:
        started.append(Child(args, domain_id))
        return started[-1]

    yield start
    for child in started:
        child.kill()


def count_images(probe_node: Node, topic: str) -> list[int]:
    """Subscribe to `topic`; the returned one-item list counts the images received."""
    count = [0]

    def on_image(_: Image) -> None:
        count[0] += 1
    probe_node.create_subscription(Image, topic, on_image, qos_profile_sensor_data)
    return count


@pytest.mark.parametrize('stop_signal', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_mmchat_run_records_and_stops_cleanly(stop_signal, own_domain, probe, children, tmp_path):
    path = tmp_path / 'cli.mcap'
    child = children(['mmchat', 'run', '--profile', 'replay', '--record', str(path),
                      '--set', 'camera.source=test_pattern', '--set', 'camera.width=160',
                      '--set', 'camera.height=120'], own_domain)
    assert child.wait_for_line("profile 'replay'"), child.output
    node, executor = probe
    images = count_images(node, '/camera/image_raw')
    assert spin_until(executor, lambda: images[0] >= 20, PATIENCE_S), child.output

    child.process.send_signal(stop_signal)
    assert child.finish() == 0, child.output
    assert 'Traceback' not in child.output
    assert f'{stop_signal.name} received' in child.output
    assert 'messages on /camera/image_raw' in child.output
    topics = Counter(topic for topic, _, _ in read_messages(path))   # closed: the summary reads
    assert topics['/camera/image_raw'] > 10


def test_a_second_signal_during_shutdown_ends_the_process_at_once(own_domain, children):
    child = children(['mmchat', 'run', '--profile', 'replay', '--set', 'camera.width=160',
                      '--set', 'camera.height=120'], own_domain)
    assert child.wait_for_line("profile 'replay'"), child.output
    # Stopped, the child cannot finish its shutdown between the two: both wait until SIGCONT, and
    # the first one's handler has run before the second one's.
    child.process.send_signal(signal.SIGSTOP)
    child.process.send_signal(signal.SIGINT)
    child.process.send_signal(signal.SIGTERM)
    child.process.send_signal(signal.SIGCONT)
    assert child.finish() == 128 + signal.SIGTERM, child.output
    assert 'second signal (SIGTERM) during shutdown' in child.output


def lifecycle_state(node: Node, executor, name: str) -> str:
    """The lifecycle state label of node `name`, from its get_state service ('' if none)."""
    client = node.create_client(GetState, f'/{name}/get_state')
    try:
        if not spin_until(executor, client.service_is_ready, PATIENCE_S):
            return ''
        future = client.call_async(GetState.Request())
        spin_until(executor, future.done, PATIENCE_S)
        return future.result().current_state.label if future.done() else ''
    finally:
        node.destroy_client(client)


@pytest.mark.parametrize('stop_signal', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_lifecycle_node_steps_down_through_its_transitions(stop_signal, own_domain, probe,
                                                             children):
    node, executor = probe
    transitions: list[str] = []
    node.create_subscription(TransitionEvent, '/detector/transition_event',
                             lambda event: transitions.append(event.goal_state.label), 10)
    child = children(['detector_node'], own_domain)
    assert spin_until(executor, lambda: lifecycle_state(node, executor, 'detector') == 'active',
                      PATIENCE_S), child.output
    assert spin_until(executor, lambda: node.count_publishers('/detector/transition_event') > 0,
                      PATIENCE_S)

    child.process.send_signal(stop_signal)
    assert child.finish() == 0, child.output
    assert 'Traceback' not in child.output
    spin_until(executor, lambda: 'finalized' in transitions, PATIENCE_S)
    # The start-up events may arrive late or not at all (discovery); the step-down follows 'active'.
    after_start = transitions[len(transitions) - transitions[::-1].index('active'):] \
        if 'active' in transitions else transitions
    assert after_start == ['deactivating', 'inactive', 'cleaningup', 'unconfigured', 'shuttingdown',
                           'finalized'], (transitions, child.output)
