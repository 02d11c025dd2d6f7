"""The flight controller against the built-in simulator, without ROS (tests and benchmarks).

The loop is the node's: at every control step the simulator's IMU sample and state estimate go in,
the MotorLoop's thrusts come out and the simulator steps. Commands are submitted between steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import time
from typing import Callable

import numpy as np

from mmchat_ros.control.cascade import CascadeController, StateEstimate
from mmchat_ros.control.commands import CommandRequest, Decision, Outcome
from mmchat_ros.control.config import ControllerConfig
from mmchat_ros.control.manager import FlightManager
from mmchat_ros.control.motor_loop import MotorLoop
from mmchat_ros.geometry import yaw_of
from mmchat_ros.simulation import Disturbances, Simulator

SHARE = Path(__file__).resolve().parents[2]


@dataclass
class Trace:
    """What happened at each control step: time, truth, reference, mode and loop time."""

    t: list[float] = field(default_factory=list)
    position: list[np.ndarray] = field(default_factory=list)
    reference: list[np.ndarray] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    mode: list[int] = field(default_factory=list)
    loop_s: list[float] = field(default_factory=list)          # wall time of one motor loop
    loop_cpu_s: list[float] = field(default_factory=list)      # its CPU time (this thread)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every series as a numpy array."""
        return {k: np.asarray(v) for k, v in vars(self).items()}


class ClosedLoop:
    """One simulator and one controller stepping together at `control_rate_hz`."""

    def __init__(self, config: ControllerConfig | None = None,
                 world: str = 'sim/worlds/indoor_room.yaml',
                 vehicle: str = 'sim/vehicles/quadrotor.yaml',
                 disturbances: Disturbances = Disturbances(), seed: int = 0,
                 control_rate_hz: float = 200.0, log: Callable[[str, str], None] | None = None
                 ) -> None:
        self.config = config or ControllerConfig.from_yaml(
            SHARE / 'config' / 'sim' / 'flight_controller.yaml')
        self.sim = Simulator.from_files(SHARE / world, SHARE / vehicle, disturbances=disturbances,
                                        seed=seed)
        self.manager = FlightManager(self.config, world_frames=('odom', 'map'), log=log)
        cascade = CascadeController(self.config.gains, self.config.limits, self.sim.vehicle)
        self.loop = MotorLoop(self.manager, cascade, self.config.position_rate_hz)
        self.dt = 1.0 / control_rate_hz
        self.trace = Trace()
        self.outcomes: list[Outcome] = []
        self.estimate_enabled = True
        self._counter = 0

    @property
    def t(self) -> float:
        """Simulated time, s."""
        return self.sim.time_s

    def submit(self, verb: int, **fields) -> Decision:
        """Submit a command now (request ids are numbered automatically)."""
        self._counter += 1
        return self.manager.submit(CommandRequest(f'r{self._counter}', verb, **fields), self.t)

    def step(self) -> None:
        """One control step: sensors -> controller -> motors -> physics."""
        t = self.t
        m = self.manager
        if self.estimate_enabled:
            e = self.sim.estimate()
            m.update_estimate(StateEstimate(t, e.position_m, e.velocity_mps, e.quaternion_xyzw,
                                            e.angular_velocity_rps))
        battery = self.sim.battery()
        m.update_battery(battery.fraction, battery.voltage_v)
        imu = self.sim.imu()
        started, started_cpu = time.perf_counter(), time.thread_time()
        out = self.loop.on_imu(t, imu.orientation_xyzw, imu.angular_velocity_rps,
                               imu.linear_acceleration_mps2)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
        self.sim.set_thrusts(out.thrusts_n, out.armed)
        truth = self.sim.truth()
        self.trace.t.append(t)
        self.trace.position.append(truth.position_m)
        self.trace.reference.append(m.ref.position_at(t - self.loop.last_outer_s))
        self.trace.yaw.append(yaw_of(truth.quaternion_xyzw))
        self.trace.mode.append(int(m.mode))
        self.trace.loop_s.append(elapsed)
        self.trace.loop_cpu_s.append(elapsed_cpu)
        self.outcomes += m.pop_outcomes()
        self.sim.step(self.dt)

    def run(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Step for up to `seconds` of sim time, or until `until()`; return until()'s last value."""
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.step()
            if until is not None and until():
                return True
        return bool(until and until())

    def outcome(self, request_id: str) -> Outcome | None:
        """How request `request_id` ended, if it did."""
        return next((o for o in self.outcomes if o.request_id == request_id), None)

    def fly(self, verb: int, timeout_s: float = 60.0, **fields) -> Outcome:
        """Submit a command and run until it ends; a rejection or timeout raises AssertionError."""
        decision = self.submit(verb, **fields)
        assert decision.accepted, decision.reason
        request_id = f'r{self._counter}'
        assert self.run(timeout_s, until=lambda: self.outcome(request_id) is not None), \
            f'{request_id} still running after {timeout_s} s'
        return self.outcome(request_id)
