"""The flight manager's rules, ROS-free: state machine, command checks, tasks, failsafes.

A kinematic stand-in follows the manager's reference exactly (and stops at the floor), so these
tests exercise decisions, not dynamics; the closed-loop tests fly the real simulator.
"""
import math

import numpy as np
import pytest

from mmchat_ros.authorisation import Authorisation
from mmchat_ros.control.admission import ADMISSION
from mmchat_ros.control.cascade import StateEstimate
from mmchat_ros.control.commands import CommandRequest, Failsafe, Mode, OutputKind, Source, Verb
from mmchat_ros.control.config import ControllerConfig
from mmchat_ros.control.manager import FlightManager
from mmchat_ros.geometry import quat_from_yaw, wrap_pi

DT = 0.01


class Kinematic:
    """Feeds the manager an estimate equal to its reference, above a floor at z = 0."""

    def __init__(self, **overrides):
        self.config = ControllerConfig.from_parameters(overrides)
        self.logs: list[tuple[str, str]] = []
        self.manager = FlightManager(self.config, world_frames=('odom', 'map'),
                                     log=lambda level, text: self.logs.append((level, text)))
        self.t = 0.0
        self.position = np.zeros(3)
        self.yaw = 0.0
        self.velocity = np.zeros(3)
        self.estimating = True
        self.outcomes = []
        self.setpoints = []
        self._ids = 0
        self.feed()

    def feed(self, position=None):
        if position is not None:
            self.position = np.array(position, float)
        self.manager.update_estimate(StateEstimate(self.t, self.position.copy(),
                                                   self.velocity.copy(), quat_from_yaw(self.yaw),
                                                   np.zeros(3)))

    def command(self, verb, **fields):
        self._ids += 1
        fields.setdefault('request_id', f'c{self._ids}')
        return self.manager.submit(CommandRequest(verb=verb, **fields), self.t)

    def run(self, seconds, until=None):
        for _ in range(int(round(seconds / DT))):
            self.t += DT
            setpoint = self.manager.step(self.t)
            self.setpoints.append(setpoint)
            if setpoint.kind == OutputKind.TRACK:
                new = setpoint.position.copy()
                new[2] = max(new[2], 0.0)
                self.velocity = (new - self.position) / DT
                self.position, self.yaw = new, setpoint.yaw
            else:
                self.velocity = np.zeros(3)
            if self.estimating:
                self.feed()
            self.outcomes += self.manager.pop_outcomes()
            if until is not None and until():
                return True
        return bool(until and until())

    def outcome(self, request_id):
        return next((o for o in self.outcomes if o.request_id == request_id), None)

    def fly(self, verb, seconds=60.0, **fields):
        decision = self.command(verb, **fields)
        assert decision.accepted, decision.reason
        request_id = f'c{self._ids}'
        assert self.run(seconds, until=lambda: self.outcome(request_id) is not None)
        return self.outcome(request_id)

    def airborne(self, altitude=1.5):
        assert self.fly(Verb.TAKEOFF, altitude_m=altitude).success
        assert self.manager.mode == Mode.FLYING


@pytest.fixture
def k():
    return Kinematic()


def test_takeoff_goto_land_walk_through_the_state_machine(k):
    m = k.manager
    assert m.mode == Mode.DISARMED and not m.armed
    assert k.command(Verb.TAKEOFF, altitude_m=1.5).accepted
    assert m.mode == Mode.TAKING_OFF and m.armed and m.active_request_id == 'c1'
    k.run(0.5)
    assert m.distance_remaining > 0.5
    assert k.run(10, until=lambda: k.outcome('c1'))
    assert k.outcome('c1').success and m.mode == Mode.FLYING
    assert k.position[2] == pytest.approx(1.5, abs=0.02) and m.home == pytest.approx([0, 0, 0])
    outcome = k.fly(Verb.GOTO, x_m=3.0, y_m=-2.0, z_m=2.0, yaw_rad=1.0, speed_mps=2.0)
    assert outcome.success and 'reached goal' in outcome.reason
    assert k.position == pytest.approx([3, -2, 2], abs=0.02)
    assert k.yaw == pytest.approx(1.0, abs=0.01)
    speeds = [np.linalg.norm(s.velocity) for s in k.setpoints if s.kind == OutputKind.TRACK]
    assert max(speeds) == pytest.approx(2.0, abs=0.01)                # the asked speed, on the path
    outcome = k.fly(Verb.LAND)
    assert outcome.success and m.mode == Mode.LANDED and k.position[2] == pytest.approx(0.0)
    assert k.setpoints[-1].kind == OutputKind.MOTORS_OFF
    k.run(k.config.mission.disarm_after_landing_s + 0.1)
    assert m.mode == Mode.DISARMED


def test_body_frame_moves_and_counter_clockwise_yaw(k):
    k.airborne()
    assert k.fly(Verb.YAW_BY, yaw_rad=math.pi / 2).success
    assert k.yaw == pytest.approx(math.pi / 2, abs=0.01)             # REP-103: CCW, now facing +y
    start = k.position.copy()
    assert k.fly(Verb.MOVE_BY, x_m=1.0, y_m=0.5, z_m=0.2, frame_id='base_link').success
    # Forward is +y in the world, left is -x.
    assert k.position - start == pytest.approx([-0.5, 1.0, 0.2], abs=0.02)
    start = k.position.copy()
    assert k.fly(Verb.MOVE_BY, x_m=1.0, frame_id='odom').success   # a world-frame offset
    assert k.position - start == pytest.approx([1.0, 0.0, 0.0], abs=0.02)
    assert k.fly(Verb.YAW_BY, yaw_rad=-2 * math.pi).success          # a full turn clockwise
    assert wrap_pi(k.yaw - math.pi / 2) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize('fields,reason', [
    ({'verb': 42}, 'unknown verb 42'),
    ({'verb': Verb.GOTO, 'x_m': math.nan}, 'non-finite argument(s): x_m'),
    ({'verb': Verb.GOTO, 'y_m': math.inf, 'speed_mps': -math.inf}, 'y_m, speed_mps'),
    ({'verb': Verb.GOTO, 'x_m': 1.0, 'z_m': 1.5, 'speed_mps': 4.0}, 'exceeds the limit 3 m/s'),
    ({'verb': Verb.GOTO, 'x_m': 1.0, 'z_m': 1.5, 'speed_mps': -1.0}, 'negative'),
    ({'verb': Verb.GOTO, 'x_m': 12.0, 'z_m': 1.5}, 'outside the geofence box'),
    ({'verb': Verb.GOTO, 'x_m': 1.0, 'z_m': 7.0}, 'above the geofence ceiling'),
    ({'verb': Verb.GOTO, 'x_m': 1.0, 'z_m': 0.1}, 'below the geofence floor'),
    ({'verb': Verb.GOTO, 'x_m': 1.0, 'z_m': 1.5, 'frame_id': 'base_link'}, "frame 'base_link'"),
    ({'verb': Verb.MOVE_BY, 'x_m': 20.0}, 'outside the geofence'),
    ({'verb': Verb.FOLLOW_TRACK, 'track_id': 3, 'standoff_m': 0.2}, 'standoff_m 0.2 is outside'),
    ({'verb': Verb.FOLLOW_TRACK, 'track_id': -1, 'standoff_m': 2.0}, 'not a track'),
    ({'verb': Verb.TAKEOFF, 'altitude_m': 1.0}, 'takeoff needs it on the ground'),
    ({'verb': Verb.DISARM}, 'land or use EMERGENCY_STOP'),
    ({'verb': Verb.GOTO, 'request_id': ''}, 'request_id is empty'),
])
def test_bad_commands_are_rejected_with_the_reason_and_change_nothing(k, fields, reason):
    k.airborne()
    before = (k.manager.mode, k.manager.ref.goal.copy())
    decision = k.command(**fields)
    assert not decision.accepted and reason in decision.reason
    assert ('warn', ) == k.logs[-1][:1] and reason in k.logs[-1][1]
    assert (k.manager.mode, k.manager.ref.goal.tolist()) == (before[0], before[1].tolist())


def test_commands_that_need_flight_are_rejected_on_the_ground(k):
    for verb in (Verb.GOTO, Verb.MOVE_BY, Verb.YAW_BY, Verb.HOVER, Verb.RETURN_HOME):
        decision = k.command(verb, z_m=1.0)
        assert not decision.accepted and 'take off first' in decision.reason
    assert 'already on the ground' in k.command(Verb.LAND).reason
    assert 'above the geofence ceiling' in k.command(Verb.TAKEOFF, altitude_m=9.0).reason
    assert 'must be positive' in k.command(Verb.TAKEOFF, altitude_m=0.0).reason
    assert k.manager.mode == Mode.DISARMED


def test_a_cylinder_geofence():
    k = Kinematic(**{'geofence.shape': 'cylinder', 'geofence.radius_m': 3.0,
                     'geofence.center_x_m': 1.0})
    k.airborne()
    assert 'from the geofence centre' in k.command(Verb.GOTO, x_m=-2.5, z_m=1.5).reason
    assert k.command(Verb.GOTO, x_m=3.5, z_m=1.5).accepted


def test_operator_authorisation_for_voice_gesture_and_llm(k):
    def voice(operator='alice', **fields):
        return k.command(Verb.TAKEOFF, altitude_m=1.0, source=Source.VOICE, operator_id=operator,
                         **fields)
    assert 'no authentication state received' in voice().reason
    k.manager.update_authorisation(Authorisation('alice', False, k.t + 10))
    assert "operator 'alice' is not authenticated" in voice().reason
    k.manager.update_authorisation(Authorisation('alice', True, k.t + 10))
    assert "operator 'bob' is not the authenticated operator 'alice'" in voice('bob').reason
    assert 'no operator_id given' in voice('').reason
    assert 'unknown source 9' in k.command(Verb.LAND, source=9).reason
    k.manager.update_authorisation(Authorisation('alice', True, k.t - 1.0))
    assert 'authorisation expired 1.0 s ago' in voice().reason
    assert k.manager.mode == Mode.DISARMED
    k.manager.update_authorisation(Authorisation('alice', True, k.t + 10))
    assert voice().accepted
    # Emergency stop needs nobody's authorisation.
    assert k.command(Verb.EMERGENCY_STOP, source=Source.GESTURE, operator_id='mallory').accepted
    assert k.manager.mode == Mode.EMERGENCY


def test_authorisation_can_be_turned_off():
    k = Kinematic(require_authorised_operator=False)
    assert k.command(Verb.TAKEOFF, altitude_m=1.0, source=Source.LLM).accepted


def test_emergency_stop_always_wins_and_disarm_clears_it(k):
    k.airborne()
    assert k.command(Verb.GOTO, x_m=3.0, z_m=1.5).accepted
    k.run(0.5)
    decision = k.command(Verb.EMERGENCY_STOP)
    assert decision.accepted
    m = k.manager
    assert m.mode == Mode.EMERGENCY and not m.armed and m.failsafe == Failsafe.EMERGENCY_STOP
    assert k.outcome('c2') is None and k.manager.pop_outcomes()[0].reason.startswith('aborted')
    k.run(0.1)
    assert k.setpoints[-1].kind == OutputKind.MOTORS_OFF
    for verb in (Verb.TAKEOFF, Verb.ARM, Verb.GOTO):
        assert not k.command(verb, altitude_m=1.0, z_m=1.0).accepted
    assert k.command(Verb.EMERGENCY_STOP).accepted                   # again: still accepted
    garbage = k.command(Verb.EMERGENCY_STOP, request_id='', x_m=math.nan, source=99)
    assert garbage.accepted                                          # whatever else it holds
    assert k.command(Verb.DISARM).accepted
    assert m.mode == Mode.DISARMED and m.failsafe == Failsafe.NONE


def test_a_newer_command_preempts_and_cancel_holds(k):
    k.airborne()
    assert k.command(Verb.GOTO, x_m=4.0, z_m=1.5).accepted             # c2
    k.run(1.0)
    assert k.command(Verb.GOTO, x_m=-2.0, z_m=1.5).accepted            # c3
    k.run(0.05)
    assert k.outcome('c2').reason == 'preempted by c3' and not k.outcome('c2').success
    k.run(1.0)
    assert k.manager.cancel('c3', k.t)
    k.run(0.05)
    assert k.outcome('c3').reason.startswith('canceled')
    stop = k.manager.ref.goal.copy()
    k.run(3.0)
    assert k.position == pytest.approx(stop, abs=0.01) and not k.manager.cancel('c3', k.t)


def test_command_timeout_hovers_then_lands():
    k = Kinematic(**{'failsafe.command_timeout_s': 2.0, 'failsafe.land_delay_s': 1.0})
    k.airborne()
    m = k.manager
    assert k.run(3.0, until=lambda: m.failsafe == Failsafe.COMMAND_TIMEOUT)
    assert 'no command for 2 s' in m.failsafe_reason and m.mode == Mode.FLYING
    assert k.run(1.5, until=lambda: m.mode == Mode.LANDING)
    assert k.run(10.0, until=lambda: m.mode == Mode.LANDED)
    assert any('FAILSAFE COMMAND_TIMEOUT' in text for _, text in k.logs)


def test_an_accepted_command_clears_a_command_timeout(k):
    k = Kinematic(**{'failsafe.command_timeout_s': 1.0, 'failsafe.land_delay_s': 3.0})
    k.airborne()
    assert k.run(2.0, until=lambda: k.manager.failsafe == Failsafe.COMMAND_TIMEOUT)
    assert k.command(Verb.GOTO, x_m=1.0, z_m=1.5).accepted
    assert k.manager.failsafe == Failsafe.NONE and k.manager.mode == Mode.FLYING


def test_heartbeat_loss_hovers_rejects_commands_then_lands_unless_it_returns():
    k = Kinematic(**{'failsafe.heartbeat_timeout_s': 0.5, 'failsafe.land_delay_s': 2.0})
    m = k.manager
    assert 'no operator heartbeat' in k.command(Verb.TAKEOFF, altitude_m=1.0).reason
    m.heartbeat(k.t)
    assert k.command(Verb.TAKEOFF, altitude_m=1.0).accepted
    for _ in range(300):
        m.heartbeat(k.t)
        k.run(0.1)
        if m.mode == Mode.FLYING and not m.active_request_id:
            break
    assert k.run(1.0, until=lambda: m.failsafe == Failsafe.COMMAND_TIMEOUT)
    assert 'heartbeat lost' in m.failsafe_reason
    assert 'only LAND, EMERGENCY_STOP' in k.command(Verb.GOTO, x_m=1.0, z_m=1.0).reason
    m.heartbeat(k.t)                                          # the operator is back in time
    k.run(0.05)
    assert m.failsafe == Failsafe.NONE and m.mode == Mode.FLYING
    assert k.run(4.0, until=lambda: m.failsafe == Failsafe.COMMAND_TIMEOUT)
    assert k.run(3.0, until=lambda: m.mode == Mode.LANDING)     # not back: land


def test_stale_or_nan_estimate_hovers_on_attitude_then_lands_blind(k):
    k.airborne()
    m = k.manager
    k.estimating = False
    bad = StateEstimate(k.t, np.array([math.nan, 0, 1]), np.zeros(3), quat_from_yaw(0), np.zeros(3))
    assert not m.update_estimate(bad)
    assert k.run(1.0, until=lambda: m.failsafe == Failsafe.STATE_STALE)
    assert 'NaN' in m.failsafe_reason and m.mode == Mode.FLYING
    k.run(0.1)
    kinds = {s.kind for s in k.setpoints[-10:]}
    assert kinds == {OutputKind.ATTITUDE_ONLY} and k.setpoints[-1].vertical_speed == 0.0
    assert 'state estimate' in k.command(Verb.GOTO, x_m=1.0, z_m=1.0).reason
    k.run(k.config.failsafe.stale_hover_s)
    assert m.mode == Mode.LANDING
    assert k.setpoints[-1].vertical_speed == -k.config.failsafe.blind_descent_mps
    m.update_inertial_vertical_speed(-0.3)                     # descending...
    k.run(3.0)
    assert m.mode == Mode.LANDING
    m.update_inertial_vertical_speed(0.0)                      # ...stopped by the ground
    assert k.run(2.0, until=lambda: m.mode == Mode.LANDED)


def test_an_estimate_that_comes_back_during_the_hover_ends_the_failsafe(k):
    k.airborne()
    k.estimating = False
    m = k.manager
    assert k.run(1.0, until=lambda: m.failsafe == Failsafe.STATE_STALE)
    k.estimating = True
    k.run(0.1)
    assert m.failsafe == Failsafe.NONE and m.mode == Mode.FLYING
    assert k.setpoints[-1].kind == OutputKind.TRACK
    assert k.command(Verb.GOTO, x_m=1.0, z_m=1.5).accepted


def test_low_battery_returns_home_and_critical_battery_lands(k):
    k.airborne()
    assert k.fly(Verb.GOTO, x_m=3.0, y_m=2.0, z_m=1.0).success
    m = k.manager
    m.update_battery(0.2)
    k.run(0.05)
    assert m.failsafe == Failsafe.LOW_BATTERY and 'returning home' in m.failsafe_reason
    assert 'only LAND, RETURN_HOME' in k.command(Verb.GOTO, x_m=1.0, z_m=1.5).reason
    assert k.run(30.0, until=lambda: m.mode == Mode.LANDED)
    assert k.position == pytest.approx([0.0, 0.0, 0.0], abs=0.05)
    # Critical: land where it is.
    k2 = Kinematic()
    k2.airborne()
    assert k2.fly(Verb.GOTO, x_m=2.0, z_m=1.5).success
    k2.manager.update_battery(0.05)
    k2.run(0.05)
    assert k2.manager.mode == Mode.LANDING and 'critical' in k2.manager.failsafe_reason
    assert k2.run(10.0, until=lambda: k2.manager.mode == Mode.LANDED)
    assert k2.position[:2] == pytest.approx([2.0, 0.0], abs=0.05)
    assert 'below the low-battery threshold' in k2.command(Verb.TAKEOFF, altitude_m=1.0).reason


def test_geofence_breach_lands(k):
    k.airborne()
    k.feed([10.6, 0.0, 1.5])                     # pushed out (wind, an estimate jump)
    k.estimating = False
    k.run(0.02)
    assert k.manager.failsafe == Failsafe.GEOFENCE and k.manager.mode == Mode.LANDING
    assert 'geofence breached' in k.manager.failsafe_reason


def test_follow_keeps_the_standoff_and_stops_when_the_track_is_lost(k):
    k.airborne()
    m = k.manager
    assert k.command(Verb.FOLLOW_TRACK, track_id=7, standoff_m=2.0).accepted
    for i in range(800):                             # target walks +x at 0.5 m/s
        m.update_target(7, np.array([-3.0 + 0.5 * i * DT, 1.0, 0.0]), k.t)
        m.update_target(8, np.array([0.0, 0.0, 0.0]), k.t)
        k.run(DT)
    target = np.array([-3.0 + 0.5 * 799 * DT, 1.0])
    assert np.linalg.norm(k.position[:2] - target) == pytest.approx(2.0, abs=0.1)
    assert m.distance_remaining < 0.1
    heading = math.atan2(*(target - k.position[:2])[::-1])
    assert wrap_pi(k.yaw - heading) == pytest.approx(0.0, abs=0.1)   # facing the target
    assert m.active_request_id == 'c2'
    k.run(k.config.mission.follow_timeout_s + 0.1)
    assert not k.outcome('c2').success and 'track 7 not seen' in k.outcome('c2').reason


def test_takeoff_waits_for_the_vehicle_to_be_ready(k):
    m = k.manager
    m.set_vehicle_ready(False)
    assert k.command(Verb.TAKEOFF, altitude_m=1.0).accepted
    k.run(1.0)
    assert m.mode == Mode.TAKING_OFF and k.position[2] == 0.0
    m.set_vehicle_ready(True)
    assert k.run(10.0, until=lambda: k.outcome('c1'))
    assert k.outcome('c1').success
    k2 = Kinematic(**{'failsafe.arm_timeout_s': 1.0})
    k2.manager.set_vehicle_ready(False)
    assert k2.command(Verb.TAKEOFF, altitude_m=1.0).accepted
    assert k2.run(2.0, until=lambda: k2.outcome('c1'))
    assert 'not ready' in k2.outcome('c1').reason and k2.manager.mode == Mode.LANDED


def test_every_verb_but_emergency_stop_has_one_admission_check():
    assert set(ADMISSION) == set(Verb) - {Verb.EMERGENCY_STOP}
