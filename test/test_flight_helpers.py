"""Helpers (no tests) for the flight controller's ROS tests: simulator + controller, a probe."""
from __future__ import annotations

from sensor_msgs.msg import Imu
from std_msgs.msg import Header

from mmchat_ros import graph
from mmchat_ros.graph_runner import GraphRunner
from mmchat_ros.msg import AuthState, Command, CommandResult, MotorCommand, VehicleState
from mmchat_ros.ros_io import SENSOR_QOS, seconds
from mmchat_tools.probe import Probe

#: The simulator as fast as it goes, cameras nearly off (the tests do not look at images).
FAST_SIM = {'real_time_factor': 0.0, 'camera_rate_hz': 1.0, 'camera_width': 32, 'camera_height': 24}
#: Quicker takeoffs and landings than the shipped defaults, to keep the tests short.
QUICK = {'mission.takeoff_speed_mps': 1.2, 'mission.land_speed_mps': 0.8}
FC_SPEC = graph.NodeSpec('flight_controller', 'flight_controller_node',
                         ('config/sim/flight_controller.yaml',))


def flight_profile() -> graph.Profile:
    """The sim profile's simulator and flight controller (added when the profile lacks it)."""
    nodes = [s for s in graph.load_profile('sim').nodes if s.name in ('sim', 'flight_controller')]
    if not any(s.name == 'flight_controller' for s in nodes):
        nodes.append(FC_SPEC)
    return graph.Profile('flight_test', 'simulator and flight controller', tuple(nodes))


def start_flight(sim: dict | None = None, controller: dict | None = None) -> GraphRunner:
    """Simulator + flight controller in one process, the simulator configured (world loaded).

    Shut it down after use.
    """
    runner = GraphRunner(flight_profile(), overrides={
        'sim': {**FAST_SIM, **(sim or {})}, 'flight_controller': {**QUICK, **(controller or {})}}
    ).start()
    runner.spin(60.0, until=lambda: runner.nodes['sim'].sim is not None)
    return runner


class FlightProbe(Probe):
    """Sends commands, authorisation and heartbeats; records what the controller and sim publish."""

    def __init__(self, runner: GraphRunner, lockstep: bool = False) -> None:
        """Spun by `runner`.

        `lockstep`: also record IMU stamps and motor commands (200 Hz each: slows the loop).
        """
        super().__init__(runner.executor, runner.context, 'flight_probe', use_sim_time=True)
        self._sim_node = runner.nodes['sim']
        self.states: list[VehicleState] = self.record('/vehicle/state', VehicleState)
        self.results: dict[str, CommandResult] = {}
        self.imu_stamps: list[float] = []
        self.motor: list[MotorCommand] = []
        self.create_subscription(CommandResult, '/command_results',
                                 lambda m: self.results.__setitem__(m.request_id, m), 10)
        if lockstep:
            self.create_subscription(Imu, '/imu', lambda m: self.imu_stamps.append(
                seconds(m.header.stamp)), SENSOR_QOS)
            self.motor = self.record('/motor_command', MotorCommand)
        self.commands = self.publisher('/commands', Command)
        self.auth = self.publisher('/auth/state', AuthState)
        self.heartbeat = self.publisher('/operator/heartbeat', Header)
        self._count = 0

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def send(self, verb: int, **fields) -> str:
        """Publish a Command (source API unless given); returns its request id."""
        self._count += 1
        request_id = fields.pop('request_id', f'probe-{self._count}')
        frame_id = fields.pop('frame_id', '')
        command = Command(verb=verb, request_id=request_id, **fields)
        command.header.frame_id = frame_id
        self.commands.publish(command)
        return request_id

    def authorise(self, operator: str, authorised: bool = True, valid_s: float = 60.0) -> None:
        msg = AuthState(operator_id=operator, authorised=authorised)
        msg.expires = self.get_clock().now().to_msg()
        msg.expires.sec += int(valid_s)
        self.auth.publish(msg)

    @property
    def simulator(self):
        """The simulator node's Simulator (ground truth, read in-process; made on configure)."""
        return self._sim_node.sim

    @property
    def state(self) -> VehicleState | None:
        return self.states[-1] if self.states else None

    def position(self) -> tuple[float, float, float]:
        """The vehicle's true position now."""
        return tuple(float(v) for v in self.simulator.truth().position_m)

    def mode_is(self, mode: int) -> bool:
        return self.state is not None and self.state.mode == mode
