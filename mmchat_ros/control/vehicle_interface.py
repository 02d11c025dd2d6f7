"""How the controller reaches the vehicle: one protocol, three interfaces.

  MotorInterface     rotor thrusts for every IMU sample (the built-in simulator, in lockstep)
  MavlinkInterface   PX4 OFFBOARD / ArduPilot GUIDED setpoints over pymavlink, at the setpoint rate
  VelocityInterface  body-frame velocity commands at the setpoint rate (a Twist driver); for a
                     ground robot (planar) a virtual height keeps takeoff and landing meaningful

The flight_controller node drives any of them the same way: start() when it begins commanding,
step() on every IMU sample (paced_by_imu) or at the setpoint rate, halt() for an output that stops
the vehicle at once (the controller failed), close() when it stops commanding. step(), halt() and
close() return what to send (MotorOutput or VelocityCommand), or None when the interface sends
itself (MAVLink). No ROS here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Union

import numpy as np

from mmchat_ros.control.cascade import CascadeController, StateEstimate
from mmchat_ros.control.commands import AIRBORNE
from mmchat_ros.control.manager import FlightManager
from mmchat_ros.control.motor_loop import MotorLoop, MotorOutput
from mmchat_ros.control.velocity_output import VelocityCommand, VelocityOutput, VirtualAltitude

Output = Union[MotorOutput, VelocityCommand, None]


class InterfaceError(RuntimeError):
    """The vehicle cannot be reached (a MAVLink URL that cannot be opened)."""


@dataclass(frozen=True)
class ImuSample:
    """One IMU sample: stamp (s), orientation (xyzw, unit), body rates (rad/s), specific force."""

    stamp_s: float
    orientation: np.ndarray
    angular_velocity: np.ndarray
    specific_force: np.ndarray


class VehicleInterface(Protocol):
    """What the flight_controller node needs of a vehicle interface."""

    #: step() runs on every IMU sample (True) or at the setpoint rate (False)
    paced_by_imu: bool
    #: the state estimate and battery come from ROS topics (False: the interface reads them)
    uses_state_topics: bool
    #: what becomes of a flying vehicle when the controller stops, for the log
    handover: str

    def start(self, now_s: float) -> None:
        """Begin commanding the vehicle (open a link)."""

    def step(self, now_s: float, imu: ImuSample | None = None) -> Output:
        """Run the controller once; the output to send."""

    def halt(self) -> Output:
        """The output that stops the vehicle now."""

    def close(self) -> Output:
        """Stop commanding: leave the vehicle as safe as this interface can; the last output."""

    def adjust(self, estimate: StateEstimate) -> StateEstimate:
        """The state estimate as the controller should see it."""


class MotorInterface:
    """The built-in simulator: the manager and the cascade answer each IMU sample with thrusts."""

    paced_by_imu = True
    uses_state_topics = True
    handover = 'the simulated vehicle has no autopilot to take over'

    def __init__(self, manager: FlightManager, cascade: CascadeController,
                 position_rate_hz: float) -> None:
        self.loop = MotorLoop(manager, cascade, position_rate_hz)

    def start(self, now_s: float) -> None:
        """Nothing to open: the simulator's topics are the link."""

    def step(self, now_s: float, imu: ImuSample | None = None) -> MotorOutput:
        """Thrusts answering `imu`."""
        return self.loop.on_imu(imu.stamp_s, imu.orientation, imu.angular_velocity,
                                imu.specific_force)

    def halt(self) -> MotorOutput:
        """Motors off."""
        return MotorOutput(False, np.zeros(self.loop.cascade.mixer.rotor_count))

    def close(self) -> None:
        """Nothing is sent: the simulator keeps the last thrusts."""
        return None

    def adjust(self, estimate: StateEstimate) -> StateEstimate:
        """The estimate unchanged."""
        return estimate


class VelocityInterface:
    """Velocity commands; with `planar`, a virtual height integrated from the commanded climb."""

    paced_by_imu = False
    uses_state_topics = True
    handover = 'velocity set to zero'

    def __init__(self, manager: FlightManager, output: VelocityOutput, planar: bool) -> None:
        self.manager = manager
        self.output = output
        self.virtual_altitude = VirtualAltitude() if planar else None
        self._last_step_s: float | None = None

    def start(self, now_s: float) -> None:
        """Integrate the virtual height from now on."""
        self._last_step_s = None

    def step(self, now_s: float, imu: ImuSample | None = None) -> VelocityCommand:
        """The velocity that tracks the manager's setpoint."""
        m = self.manager
        setpoint = m.step(now_s)
        command = self.output.command(setpoint, m.estimate if m.estimate_fresh(now_s) else None)
        if self.virtual_altitude is not None:
            dt = 0.0 if self._last_step_s is None else min(now_s - self._last_step_s, 0.5)
            self.virtual_altitude.update(float(command.linear[2]), dt)
            command.linear[2] = 0.0
        self._last_step_s = now_s
        return command

    def halt(self) -> VelocityCommand:
        """Zero velocity."""
        return VelocityCommand.stop()

    def close(self) -> VelocityCommand:
        """Zero velocity: nothing else commands the vehicle."""
        return VelocityCommand.stop()

    def adjust(self, estimate: StateEstimate) -> StateEstimate:
        """The estimate, with the virtual height for a ground robot."""
        if self.virtual_altitude is None:
            return estimate
        return self.virtual_altitude.apply(estimate)


class MavlinkInterface:
    """An autopilot over MAVLink: it flies the setpoints and reports the estimate and battery."""

    paced_by_imu = False
    uses_state_topics = False
    handover = 'the autopilot lands'

    def __init__(self, manager: FlightManager, settings) -> None:
        self.manager = manager
        self.settings = settings
        self.offboard = None

    def start(self, now_s: float) -> None:
        """Open the link; InterfaceError when it cannot be opened."""
        # pymavlink loads its message dialect on import: only when this interface is used.
        from mmchat_ros.control.mavlink_link import MavlinkLink, MavlinkOffboard

        try:
            link = MavlinkLink(self.settings)
        except (OSError, ValueError) as exc:
            raise InterfaceError(
                f"cannot open MAVLink connection '{self.settings.url}': {exc}") from exc
        self.offboard = MavlinkOffboard(link, self.manager)

    def step(self, now_s: float, imu: ImuSample | None = None) -> None:
        """Read the autopilot, run the manager and send setpoints and mode requests."""
        self.offboard.tick(now_s)

    def halt(self) -> None:
        """Nothing to send here: the manager's emergency stop kills the motors on the next step."""
        return None

    def close(self) -> None:
        """Ask the autopilot to land a flying vehicle, then close the link."""
        if self.offboard is None:
            return None
        if self.manager.mode in AIRBORNE:
            self.offboard.link.land()
        self.offboard.link.close()
        self.offboard = None
        return None

    def adjust(self, estimate: StateEstimate) -> StateEstimate:
        """The estimate unchanged (it comes from the autopilot)."""
        return estimate
