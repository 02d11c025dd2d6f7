"""The flight controller's MAVLink interface against a small autopilot written here (pymavlink).

The peer plays PX4 (or ArduPilot): it sends HEARTBEAT, LOCAL_POSITION_NED, ATTITUDE and
SYS_STATUS, refuses OFFBOARD unless a setpoint stream is already flowing, arms only in
OFFBOARD/GUIDED, and moves a point-mass vehicle toward the NED setpoints it receives.
It runs in a thread with a deadline and stops itself.
"""
import math
import socket
import threading
import time

import pytest
from pymavlink import mavutil
from rclpy.parameter import Parameter

from mmchat_ros.geometry import wrap_pi
from mmchat_ros.mission_api import Drone, MissionError
from mmchat_ros.msg import VehicleState
from mmchat_ros.nodes.flight_controller_node import FlightControllerNode

mavlink = mavutil.mavlink
PX4_OFFBOARD = 6 << 16
PX4_POSCTL = 3 << 16
GUIDED = 4
S = VehicleState


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class FakeAutopilot(threading.Thread):
    """A MAVLink autopilot with PX4's (or ArduCopter's) offboard rules and a point-mass vehicle."""

    def __init__(self, port: int, ardupilot: bool = False, deadline_s: float = 60.0) -> None:
        super().__init__(daemon=True)
        self.ardupilot = ardupilot
        self.conn = mavutil.mavlink_connection(f'udpout:127.0.0.1:{port}', source_system=1,
                                               source_component=1)
        self.deadline = time.monotonic() + deadline_s
        self.stopping = threading.Event()
        self.armed = False
        self.custom_mode = 0 if ardupilot else PX4_POSCTL
        self.position = [0.0, 0.0, 0.0]                     # NED
        self.velocity = [0.0, 0.0, 0.0]
        self.yaw = 0.0                                      # NED heading
        self.takeoff_alt: float | None = None
        self.setpoints: list[tuple[float, object]] = []     # (receive time, message)
        self.heartbeats: list[float] = []                   # receive times of the controller's
        self.events: list[str] = []                         # mode changes, arming, refusals

    def stop(self) -> None:
        self.stopping.set()
        self.join(5.0)

    def offboard(self) -> bool:
        return self.custom_mode == (GUIDED if self.ardupilot else PX4_OFFBOARD)

    def run(self) -> None:
        next_heartbeat = next_state = 0.0
        last = time.monotonic()
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            now = time.monotonic()
            while (msg := self.conn.recv_match(blocking=False)) is not None:
                self.handle(msg, now)
            self.move(now - last)
            last = now
            if now >= next_heartbeat:
                next_heartbeat = now + 0.5
                base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (
                    mavlink.MAV_MODE_FLAG_SAFETY_ARMED if self.armed else 0)
                self.conn.mav.heartbeat_send(
                    mavlink.MAV_TYPE_QUADROTOR,
                    mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA if self.ardupilot
                    else mavlink.MAV_AUTOPILOT_PX4,
                    base, self.custom_mode, mavlink.MAV_STATE_ACTIVE)
                self.conn.mav.sys_status_send(0, 0, 0, 500, 15800, -1, 80, 0, 0, 0, 0, 0, 0)
            if now >= next_state:
                next_state = now + 0.02
                ms = int(now * 1000) & 0xFFFFFFFF
                self.conn.mav.local_position_ned_send(ms, *self.position, *self.velocity)
                self.conn.mav.attitude_send(ms, 0.0, 0.0, self.yaw, 0.0, 0.0, 0.0)
            time.sleep(0.002)
        self.conn.close()

    def handle(self, msg, now: float) -> None:
        kind = msg.get_type()
        if kind == 'HEARTBEAT':
            self.heartbeats.append(now)
        elif kind == 'SET_POSITION_TARGET_LOCAL_NED':
            self.setpoints.append((now, msg))
        elif kind == 'COMMAND_LONG':
            self.conn.mav.command_ack_send(msg.command, self.command(msg, now))

    def command(self, msg, now: float) -> int:
        if msg.command == mavlink.MAV_CMD_DO_SET_MODE:
            streaming = sum(1 for t, _ in self.setpoints if now - t < 1.0)
            if not self.ardupilot and streaming < 10:           # PX4: no stream, no OFFBOARD
                self.events.append(f'offboard refused ({streaming} setpoints in 1 s)')
                return mavlink.MAV_RESULT_DENIED
            self.custom_mode = int(msg.param2) << (0 if self.ardupilot else 16)
            self.events.append('offboard')
            return mavlink.MAV_RESULT_ACCEPTED
        if msg.command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
            if msg.param1 == 1.0:
                if not self.offboard():
                    self.events.append('arm refused')
                    return mavlink.MAV_RESULT_DENIED
                self.armed = True
                self.events.append('armed')
                return mavlink.MAV_RESULT_ACCEPTED
            if msg.param2 == 21196 or self.position[2] > -0.05:
                self.armed = False
                self.events.append('killed' if msg.param2 == 21196 else 'disarmed')
                return mavlink.MAV_RESULT_ACCEPTED
            return mavlink.MAV_RESULT_DENIED
        if msg.command == mavlink.MAV_CMD_NAV_LAND and self.armed:
            self.events.append('land')
            return mavlink.MAV_RESULT_ACCEPTED
        if msg.command == mavlink.MAV_CMD_NAV_TAKEOFF and self.ardupilot and self.armed:
            self.takeoff_alt = msg.param7
            self.events.append(f'takeoff {msg.param7:.2f}')
            return mavlink.MAV_RESULT_ACCEPTED
        return mavlink.MAV_RESULT_UNSUPPORTED

    def move(self, dt: float) -> None:
        target = None
        if self.armed and self.offboard() and self.setpoints:
            sp = self.setpoints[-1][1]
            target = ([sp.x, sp.y, sp.z], [sp.vx, sp.vy, sp.vz], sp.yaw)
            if self.ardupilot and self.takeoff_alt is None:
                target = None                                   # GUIDED: no climb before takeoff
        if target is None:
            falling = not self.armed and self.position[2] < 0.0
            self.velocity = [0.0, 0.0, 2.0 if falling else 0.0]
        else:
            position, velocity, yaw = target
            self.velocity = [v + 2.0 * (p - q)
                             for v, p, q in zip(velocity, position, self.position)]
            self.yaw += max(-dt, min(dt, wrap_pi(yaw - self.yaw)))
        self.position = [p + v * dt for p, v in zip(self.position, self.velocity)]
        if self.position[2] > 0.0:                              # the ground
            self.position[2], self.velocity[2] = 0.0, 0.0


@pytest.fixture
def mavlink_flight(ros_context, executor):
    peers = []

    def start(ardupilot=False, **overrides):
        port = free_udp_port()
        node = FlightControllerNode(context=ros_context, parameter_overrides=[
            Parameter(k, value=v) for k, v in {
                'vehicle_interface': 'mavlink', 'mavlink.url': f'udpin:127.0.0.1:{port}',
                'world_frame': 'map', 'setpoint_hz': 20.0,
                'failsafe.state_timeout_s': 5.0,      # wall clock on a loaded 2-core machine
                'mission.takeoff_speed_mps': 1.2, 'mission.land_speed_mps': 1.0,
                'mission.disarm_after_landing_s': 0.5, **overrides}.items()])
        executor.add_node(node)
        peer = FakeAutopilot(port, ardupilot)
        peer.start()
        peers.append((peer, node))
        drone = Drone(context=ros_context, executor=executor, timeout_s=30.0)
        return peer, node, drone

    yield start
    for peer, node in peers:
        peer.stop()
        node.destroy_node()


def test_px4_offboard_takeoff_goto_land_with_enu_ned_conversion(mavlink_flight):
    peer, node, drone = mavlink_flight()
    assert drone.wait_until_ready(10.0)
    assert drone.state.header.frame_id == 'map'
    # The link opens on activate: SYS_STATUS (2 Hz) may come a little after the first estimate.
    drone.spin_until(lambda: not math.isnan(drone.state.battery_voltage), 5.0)
    assert drone.state.battery_voltage == pytest.approx(15.8) and drone.state.battery_fraction \
        == pytest.approx(0.8)
    result = drone.takeoff(1.5)
    assert result.success, result.reason
    # The stream came first, then OFFBOARD, then arming (PX4 refuses the other orders).
    assert peer.events[:2] == ['offboard', 'armed'], peer.events
    assert peer.position[2] == pytest.approx(-1.5, abs=0.15)          # NED: up is -z

    # East 2 m, north 1 m, facing north (ENU yaw pi/2) -> NED (1, 2, -1.5), heading 0.
    result = drone.go_to(2.0, 1.0, 1.5, yaw=math.pi / 2, speed=1.5)
    assert result.success, result.reason
    assert peer.position == pytest.approx([1.0, 2.0, -1.5], abs=0.15)
    last = peer.setpoints[-1][1]
    assert (last.x, last.y, last.z) == pytest.approx((1.0, 2.0, -1.5), abs=0.05)
    assert wrap_pi(last.yaw) == pytest.approx(0.0, abs=0.05) and abs(peer.yaw) < 0.1
    pose = drone.state.pose.position                                   # and back to ENU
    assert (pose.x, pose.y, pose.z) == pytest.approx((2.0, 1.0, 1.5), abs=0.15)

    assert drone.land().success
    assert drone.spin_until(lambda: not peer.armed, 5.0) and peer.events[-1] == 'disarmed'
    assert drone.spin_until(lambda: drone.state.mode == S.MODE_DISARMED, 5.0)

    # Setpoints at >= 10 Hz and our heartbeat at >= 1 Hz all along.
    times = [t for t, _ in peer.setpoints]
    assert len(times) / (times[-1] - times[0]) >= 10.0
    assert max(b - a for a, b in zip(times, times[1:])) < 0.5
    beats = peer.heartbeats
    assert max(b - a for a, b in zip(beats, beats[1:])) <= 1.0


@pytest.mark.parametrize('ardupilot', [False, True], ids=['px4', 'ardupilot'])
def test_emergency_stop_kills_the_motors_through_mavlink(mavlink_flight, ardupilot):
    peer, node, drone = mavlink_flight(ardupilot=ardupilot)
    result = drone.takeoff(1.0)
    assert result.success, result.reason
    if ardupilot:
        assert peer.events[:3] == ['offboard', 'armed', 'takeoff 1.00'], peer.events
    assert drone.emergency_stop().success
    assert drone.spin_until(lambda: not peer.armed, 5.0)
    assert 'killed' in peer.events
    assert drone.spin_until(lambda: peer.position[2] == 0.0, 5.0)       # it fell
    assert drone.state.mode == S.MODE_EMERGENCY


def test_a_controller_shut_down_in_flight_asks_the_autopilot_to_land(mavlink_flight):
    peer, node, drone = mavlink_flight()
    assert drone.takeoff(1.0).success
    assert 'land' not in peer.events
    node.destroy_node()                                    # as on SIGINT / SIGTERM
    assert drone.spin_until(lambda: 'land' in peer.events, 30.0), peer.events


def test_a_silent_autopilot_means_no_takeoff(ros_context, executor):
    node = FlightControllerNode(context=ros_context, parameter_overrides=[
        Parameter('vehicle_interface', value='mavlink'),
        Parameter('mavlink.url', value=f'udpin:127.0.0.1:{free_udp_port()}')])
    executor.add_node(node)
    with Drone(context=ros_context, executor=executor, server_timeout_s=2.0) as drone:
        assert not drone.wait_until_ready(1.0)
        with pytest.raises(MissionError) as refused:
            drone.takeoff(1.0)
        result = refused.value.result
        assert not result.success and 'no fresh state estimate' in result.reason
    node.destroy_node()
