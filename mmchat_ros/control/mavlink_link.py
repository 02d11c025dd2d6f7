"""PX4 / ArduPilot through MAVLink offboard control (pymavlink), driven by the flight manager.

MavlinkLink speaks the protocol: a HEARTBEAT of our own at heartbeat_hz,
SET_POSITION_TARGET_LOCAL_NED setpoints, COMMAND_LONG for arming, mode changes, takeoff
(ArduPilot), landing and the kill switch; it reads the autopilot's HEARTBEAT (armed, mode),
LOCAL_POSITION_NED, ATTITUDE and SYS_STATUS.
MAVLink is NED/FRD; everything here is converted to and from REP-103 ENU/FLU at the boundary.

MavlinkOffboard connects it to a FlightManager: it streams setpoints all the time (PX4 refuses
OFFBOARD unless a setpoint stream of at least 2 Hz is already flowing; we send at >= 10 Hz), asks
for OFFBOARD (PX4) or GUIDED (ArduPilot) once the stream has run `warmup_s`, then arms, and tells
the manager the vehicle is ready; it kills the motors on EMERGENCY and asks the autopilot to land
on its own estimate when ours is stale.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from pymavlink import mavutil

from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import AIRBORNE, Mode, OutputKind
from mmchat_ros.control.manager import FlightManager
from mmchat_ros.geometry import (enu_to_ned, ned_to_enu, quat_enu_flu_from_ned_frd,
                                 yaw_ned_from_enu)

mavlink = mavutil.mavlink

PX4_MAIN_MODE_OFFBOARD = 6                 # PX4 custom_mode = main_mode << 16 | sub_mode << 24
ARDUCOPTER_MODE_GUIDED = 4
KILL_MAGIC = 21196                         # param2 of ARM_DISARM: disarm even in flight
#: SET_POSITION_TARGET_LOCAL_NED: position, velocity, yaw and yaw rate used; acceleration ignored.
TYPE_MASK_POSITION_VELOCITY_YAW = (mavlink.POSITION_TARGET_TYPEMASK_AX_IGNORE
                                   | mavlink.POSITION_TARGET_TYPEMASK_AY_IGNORE
                                   | mavlink.POSITION_TARGET_TYPEMASK_AZ_IGNORE)
MAX_MESSAGES_PER_POLL = 200


@dataclass(frozen=True)
class LinkSettings:
    """Where the autopilot is and how to talk to it."""

    url: str = 'udpin:0.0.0.0:14540'      # pymavlink connection string
    autopilot: str = 'auto'               # auto | px4 | ardupilot (auto: from its HEARTBEAT)
    source_system: int = 245
    source_component: int = mavlink.MAV_COMP_ID_ONBOARD_COMPUTER
    target_system: int = 1
    target_component: int = 1
    heartbeat_hz: float = 2.0
    link_timeout_s: float = 3.0           # no autopilot HEARTBEAT this long: link lost
    warmup_s: float = 1.0                 # setpoint stream before asking for OFFBOARD
    retry_s: float = 1.0                  # repeat an unanswered mode/arm request


class MavlinkLink:
    """One MAVLink connection to one autopilot. Call poll() often; it never blocks."""

    def __init__(self, settings: LinkSettings) -> None:
        self.settings = settings
        self.connection = mavutil.mavlink_connection(
            settings.url, source_system=settings.source_system,
            source_component=settings.source_component)
        self.autopilot = settings.autopilot
        self.armed = False
        self.custom_mode = 0
        self.last_heartbeat_s: float | None = None
        self.estimate: StateEstimate | None = None
        self.battery_fraction = math.nan
        self.battery_voltage = math.nan
        self.acks: list[tuple[int, int]] = []          # (command, result) as they arrive
        self._attitude: tuple[np.ndarray, np.ndarray] | None = None
        self._next_heartbeat_s = 0.0
        self._boot_s: float | None = None

    def close(self) -> None:
        """Close the socket."""
        self.connection.close()

    def connected(self, now: float) -> bool:
        """An autopilot HEARTBEAT arrived within link_timeout_s."""
        return (self.last_heartbeat_s is not None
                and now - self.last_heartbeat_s <= self.settings.link_timeout_s)

    @property
    def in_offboard(self) -> bool:
        """The autopilot is in the mode that follows our setpoints (OFFBOARD / GUIDED)."""
        if self.autopilot == 'ardupilot':
            return self.custom_mode == ARDUCOPTER_MODE_GUIDED
        return (self.custom_mode >> 16) & 0xFF == PX4_MAIN_MODE_OFFBOARD

    def poll(self, now: float) -> None:
        """Read every message waiting (up to a bound) and send our heartbeat when due."""
        if self._boot_s is None:
            self._boot_s = now
        for _ in range(MAX_MESSAGES_PER_POLL):
            msg = self.connection.recv_match(blocking=False)
            if msg is None:
                break
            self._handle(msg, now)
        if now >= self._next_heartbeat_s:
            self._next_heartbeat_s = now + 1.0 / self.settings.heartbeat_hz
            self.connection.mav.heartbeat_send(
                mavlink.MAV_TYPE_ONBOARD_CONTROLLER, mavlink.MAV_AUTOPILOT_INVALID, 0, 0,
                mavlink.MAV_STATE_ACTIVE)

    def _handle(self, msg, now: float) -> None:
        if msg.get_srcSystem() != self.settings.target_system:
            return
        kind = msg.get_type()
        if kind == 'HEARTBEAT':
            if msg.autopilot == mavlink.MAV_AUTOPILOT_INVALID:
                return                                   # a camera, a gimbal: not the autopilot
            if self.settings.autopilot == 'auto':
                self.autopilot = ('ardupilot'
                                  if msg.autopilot == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA
                                  else 'px4')
            self.armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            self.custom_mode = int(msg.custom_mode)
            self.last_heartbeat_s = now
        elif kind == 'ATTITUDE':
            self._attitude = (quat_enu_flu_from_ned_frd(msg.roll, msg.pitch, msg.yaw),
                              np.array([msg.rollspeed, -msg.pitchspeed, -msg.yawspeed]))
        elif kind == 'LOCAL_POSITION_NED' and self._attitude is not None:
            self.estimate = StateEstimate(now, ned_to_enu((msg.x, msg.y, msg.z)),
                                          ned_to_enu((msg.vx, msg.vy, msg.vz)), *self._attitude)
        elif kind == 'SYS_STATUS':
            self.battery_fraction = (msg.battery_remaining / 100.0 if msg.battery_remaining >= 0
                                     else math.nan)
            self.battery_voltage = (msg.voltage_battery / 1000.0 if msg.voltage_battery != 65535
                                    else math.nan)
        elif kind == 'COMMAND_ACK':
            self.acks.append((int(msg.command), int(msg.result)))

    def send_setpoint(self, now: float, position: np.ndarray, velocity: np.ndarray, yaw: float,
                      yaw_rate: float) -> None:
        """A local position + velocity + heading target, given in ENU (sent as NED)."""
        s = self.settings
        x, y, z = enu_to_ned(position)
        vx, vy, vz = enu_to_ned(velocity)
        self.connection.mav.set_position_target_local_ned_send(
            self._boot_ms(now), s.target_system, s.target_component, mavlink.MAV_FRAME_LOCAL_NED,
            TYPE_MASK_POSITION_VELOCITY_YAW, x, y, z, vx, vy, vz, 0.0, 0.0, 0.0,
            yaw_ned_from_enu(yaw), -yaw_rate)

    def _boot_ms(self, now: float) -> int:
        return int((now - (self._boot_s if self._boot_s is not None else now)) * 1000) & 0xFFFFFFFF

    def command(self, command: int, *params: float) -> None:
        """COMMAND_LONG to the autopilot (up to 7 parameters)."""
        p = (list(params) + [0.0] * 7)[:7]
        s = self.settings
        self.connection.mav.command_long_send(s.target_system, s.target_component, command, 0, *p)

    def request_offboard(self) -> None:
        """Switch to OFFBOARD (PX4) or GUIDED (ArduPilot)."""
        mode = ARDUCOPTER_MODE_GUIDED if self.autopilot == 'ardupilot' else PX4_MAIN_MODE_OFFBOARD
        self.command(mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, mode)

    def arm(self, armed: bool = True) -> None:
        """Arm or disarm (refused by the autopilot in flight)."""
        self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1.0 if armed else 0.0)

    def kill(self) -> None:
        """Stop the motors now, even in flight."""
        self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0.0, KILL_MAGIC)

    def takeoff(self, height_m: float) -> None:
        """ArduPilot GUIDED takeoff to `height_m` above home."""
        self.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, math.nan, math.nan, math.nan, height_m)

    def land(self) -> None:
        """Land here on the autopilot's own estimate."""
        self.command(mavlink.MAV_CMD_NAV_LAND, 0, 0, 0, math.nan, math.nan, math.nan, math.nan)


class MavlinkOffboard:
    """Runs a FlightManager on a MavlinkLink: call tick() at the setpoint rate (>= 10 Hz)."""

    def __init__(self, link: MavlinkLink, manager: FlightManager) -> None:
        self.link = link
        self.manager = manager
        self._stream_since_s: float | None = None
        self._next_request_s = 0.0
        self._ready_once = False
        self._takeoff_sent = False
        self._land_sent = False

    def tick(self, now: float) -> None:
        """Read the autopilot, run the manager, send setpoints and mode/arm requests."""
        link, m = self.link, self.manager
        link.poll(now)
        if link.estimate is not None:
            m.update_estimate(link.estimate)
        m.update_battery(link.battery_fraction, link.battery_voltage)
        ready = link.connected(now) and link.armed and link.in_offboard
        if self._ready_once and not link.armed and m.mode in AIRBORNE:
            m.vehicle_disarmed(now, 'the autopilot reports disarmed')
        self._ready_once = ready or (self._ready_once and m.mode in AIRBORNE)
        m.set_vehicle_ready(ready)
        setpoint = m.step(now)
        if not link.connected(now):
            self._stream_since_s = None
            return
        if setpoint.kind == OutputKind.ATTITUDE_ONLY:
            if not self._land_sent:
                link.land()
                self._land_sent = True
            return
        self._land_sent = False
        position, velocity = setpoint.position, setpoint.velocity
        yaw, yaw_rate = setpoint.yaw, setpoint.yaw_rate
        if setpoint.kind == OutputKind.MOTORS_OFF and link.estimate is not None:
            position, velocity = link.estimate.position, np.zeros(3)   # stream "stay here"
            yaw, yaw_rate = link.estimate.yaw, 0.0
        link.send_setpoint(now, position, velocity, yaw, yaw_rate)
        if self._stream_since_s is None:
            self._stream_since_s = now
        self._request_modes(now, setpoint.kind)

    def _request_modes(self, now: float, kind: OutputKind) -> None:
        link, m = self.link, self.manager
        if now < self._next_request_s:
            return
        wanted = None
        if m.mode == Mode.EMERGENCY and link.armed:
            wanted = link.kill
        elif m.mode == Mode.DISARMED and link.armed:
            wanted = lambda: link.arm(False)               # noqa: E731
        elif kind == OutputKind.TRACK and m.mode == Mode.TAKING_OFF:
            if not link.in_offboard and now - self._stream_since_s >= link.settings.warmup_s:
                wanted = link.request_offboard
            elif link.in_offboard and not link.armed:
                wanted = link.arm
            elif link.armed and link.autopilot == 'ardupilot' and not self._takeoff_sent:
                self._takeoff_sent = True
                height = float(m.ref.goal[2] - m.estimate.position[2])
                wanted = lambda: link.takeoff(height)      # noqa: E731
        if m.mode not in AIRBORNE:
            self._takeoff_sent = False
        if wanted is not None:
            wanted()
            self._next_request_s = now + link.settings.retry_s
