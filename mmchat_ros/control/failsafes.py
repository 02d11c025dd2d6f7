"""Failsafes: which one is active and why, when one starts, the blind flight of a stale estimate.

While airborne, highest priority first: stale or NaN state estimate -> hover on attitude alone
(last trim, climb rate from the IMU), then a blind landing; geofence breach -> land; critical
battery -> land; low battery -> return home and land; operator heartbeat lost or flying idle too
long -> hover, then land after a delay. Each is logged and reported with its reason.

`Failsafes` keeps this state and decides; the FlightManager (the coordinator it is given) flies
the manoeuvre: it ends the running task, starts the failsafe's task, holds position.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from mmchat_ros.control.admission import return_home_task
from mmchat_ros.control.commands import AIRBORNE, Failsafe, Mode, OutputKind, Verb
from mmchat_ros.control.tasks import TOUCHDOWN_SPEED_MPS, LandTask

if TYPE_CHECKING:
    from mmchat_ros.control.manager import FlightManager

#: A blind landing counts as touched down after this long not descending (IMU climb rate).
BLIND_TOUCHDOWN_HOLD_S = 1.0

#: In flight, the only verbs (besides EMERGENCY_STOP) a failsafe still accepts.
ACCEPTED_DURING: dict[Failsafe, tuple[Verb, ...]] = {
    Failsafe.STATE_STALE: (Verb.LAND,),
    Failsafe.GEOFENCE: (Verb.LAND,),
    Failsafe.LOW_BATTERY: (Verb.LAND, Verb.RETURN_HOME),
}

Log = Callable[[str, str], None]         # (level: 'info' | 'warn' | 'error', message)


class Failsafes:
    """The active failsafe, operator heartbeat and blind flight; see the module docstring."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self.kind = Failsafe.NONE
        self.reason = ''
        self.inertial_vertical_speed = 0.0
        self._last_heartbeat_s: float | None = None
        self._heartbeat_lost = False
        self._land_at_s: float | None = None            # hover, then land: when the hover ends
        self._blind_since_s: float | None = None        # stale estimate: attitude-only flight
        self._blind_still_since_s: float | None = None

    # -------------------------------------------------------------------------------- state
    @property
    def blind(self) -> bool:
        """Flying on attitude alone (the state estimate is stale)."""
        return self._blind_since_s is not None

    def heartbeat(self, t: float) -> None:
        """The operator is there."""
        self._last_heartbeat_s = t

    def heartbeat_lost(self, timeout_s: float, t: float) -> bool:
        """No operator heartbeat within `timeout_s` (never lost when the timeout is 0)."""
        return timeout_s > 0 and (self._last_heartbeat_s is None
                                  or t - self._last_heartbeat_s > timeout_s)

    def refusal(self, verb: Verb, mode: Mode) -> str | None:
        """Why an active failsafe refuses `verb` (EMERGENCY_STOP is always accepted)."""
        allowed = ACCEPTED_DURING.get(self.kind)
        if mode in AIRBORNE and allowed is not None and verb not in allowed:
            return f'failsafe active ({self.reason}); only ' + ', '.join(
                v.name for v in (*allowed, Verb.EMERGENCY_STOP)) + ' accepted'
        if self._heartbeat_lost and verb != Verb.LAND:
            return f'failsafe active ({self.reason}); only LAND, EMERGENCY_STOP accepted'
        return None

    def declare(self, kind: Failsafe, reason: str) -> None:
        """`kind` is now the active failsafe, for `reason`."""
        self.kind, self.reason = kind, reason
        level = 'error' if kind in (Failsafe.EMERGENCY_STOP, Failsafe.STATE_STALE) else 'warn'
        self._log(level, f'FAILSAFE {kind.name}: {reason}')

    def clear(self) -> None:
        """No failsafe is active (an operator took over again)."""
        if self.kind != Failsafe.NONE:
            self._log('info', f'failsafe {self.kind.name} cleared')
        self.kind, self.reason = Failsafe.NONE, ''
        self._land_at_s = None
        self._heartbeat_lost = False

    def command_accepted(self) -> None:
        """A command ends an idle timeout (not a lost heartbeat)."""
        if self.kind == Failsafe.COMMAND_TIMEOUT and not self._heartbeat_lost:
            self.clear()

    def emergency_stop(self, reason: str) -> None:
        """Motors off: every other failsafe ends."""
        self._land_at_s = self._blind_since_s = None
        self._heartbeat_lost = False
        self.declare(Failsafe.EMERGENCY_STOP, reason)

    def touched_down(self) -> None:
        """On the ground: no blind flight, no pending landing."""
        self._blind_since_s = None
        self._land_at_s = None

    def descend_blind_now(self, t: float, stale_hover_s: float) -> None:
        """LAND during blind flight: end the attitude-only hover now."""
        self._blind_since_s = min(self._blind_since_s, t - stale_hover_s)

    # ------------------------------------------------------------------------------- checks
    def check(self, flight: FlightManager, t: float) -> None:
        """Start, change or end failsafes for the state at `t` (airborne only)."""
        if flight.mode not in AIRBORNE:
            return
        settings = flight.config.failsafe
        if not flight.estimate_fresh(t):
            if self._blind_since_s is None:
                self._go_blind(flight, t)
            return
        if self._blind_since_s is not None:
            self._recover_from_blind(flight, t)
            return
        if self.kind != Failsafe.GEOFENCE:
            problem = flight.config.geofence.violation(
                flight.estimate.position, settings.geofence_margin_m, check_floor=False)
            if problem:
                self.declare(Failsafe.GEOFENCE, f'geofence breached: {problem}; landing')
                flight.fly_failsafe_task(LandTask(''), t, self.reason)
                return
        if self.kind in (Failsafe.GEOFENCE, Failsafe.STATE_STALE):
            return
        self._check_battery(flight, t)
        if self.kind == Failsafe.LOW_BATTERY:
            return
        self._check_timeouts(flight, t)

    def _go_blind(self, flight: FlightManager, t: float) -> None:
        estimate = flight.estimate
        age = 'never received' if estimate is None else \
            f'last good one {t - estimate.stamp_s:.2f} s old'
        flight.abort_task('aborted by failsafe: state estimate stale')
        self._blind_still_since_s = None
        # Already landing: descend blind at once; otherwise hover level first.
        stale_hover_s = flight.config.failsafe.stale_hover_s
        self._blind_since_s = t - (stale_hover_s if flight.mode == Mode.LANDING else 0.0)
        flight.enter_mode(Mode.FLYING, t)
        self.declare(Failsafe.STATE_STALE, f'state estimate stale ({age}; '
                     f'{flight.estimate_problem}): hovering on attitude, then landing')

    def _check_battery(self, flight: FlightManager, t: float) -> None:
        settings, fraction = flight.config.failsafe, flight.battery_fraction
        if not math.isfinite(fraction) or fraction >= settings.low_battery_fraction:
            return
        critical = fraction < settings.critical_battery_fraction
        if self.kind == Failsafe.LOW_BATTERY and (not critical or flight.mode == Mode.LANDING):
            return
        task, problem = (None, None) if critical else return_home_task(flight, '')
        if task is None:
            why = 'critical' if critical else f'low ({problem})'
            self.declare(Failsafe.LOW_BATTERY, f'battery {fraction:.0%} {why}: landing')
            flight.fly_failsafe_task(LandTask(''), t, self.reason)
        else:
            self.declare(Failsafe.LOW_BATTERY,
                         f'battery {fraction:.0%} low: returning home, then landing')
            flight.fly_failsafe_task(task, t, self.reason)

    def _check_timeouts(self, flight: FlightManager, t: float) -> None:
        settings = flight.config.failsafe
        heartbeat_lost = self.heartbeat_lost(settings.heartbeat_timeout_s, t)
        if self._heartbeat_lost and not heartbeat_lost:
            self.clear()
            self._log('info', 'operator heartbeat back')
        if heartbeat_lost and not self._heartbeat_lost and flight.mode != Mode.LANDING:
            self._heartbeat_lost = True
            self._hover_then_land(flight, t, f'operator heartbeat lost for more than '
                                             f'{settings.heartbeat_timeout_s:g} s')
        idle = not flight.has_task and flight.mode == Mode.FLYING
        if (settings.command_timeout_s > 0 and idle and self.kind == Failsafe.NONE
                and t - flight.last_activity_s > settings.command_timeout_s):
            self._hover_then_land(flight, t, f'no command for {settings.command_timeout_s:g} s')
        if self._land_at_s is not None and t >= self._land_at_s:
            self._land_at_s = None
            flight.fly_failsafe_task(LandTask(''), t, self.reason)

    def _hover_then_land(self, flight: FlightManager, t: float, why: str) -> None:
        delay = flight.config.failsafe.land_delay_s
        self.declare(Failsafe.COMMAND_TIMEOUT, f'{why}: hovering, landing in {delay:g} s')
        flight.abort_task(f'aborted by failsafe: {why}')
        flight.hold_position()
        self._land_at_s = t + delay

    def _recover_from_blind(self, flight: FlightManager, t: float) -> None:
        landing = flight.mode == Mode.LANDING
        self._blind_since_s = None
        estimate = flight.estimate
        flight.ref.reset(estimate.position, estimate.yaw, estimate.velocity)
        if landing:
            self.reason = 'state estimate was stale: landing'
            self._log('warn', 'state estimate back during the blind landing; landing on it')
            flight.fly_failsafe_task(LandTask(''), t, self.reason)
        else:
            self.clear()
            self._log('info', 'state estimate back; holding position')
            flight.hold_position()
            flight.note_activity(t)

    # --------------------------------------------------------------------------- blind flight
    def blind_step(self, flight: FlightManager, t: float) -> tuple[OutputKind, float]:
        """Attitude-only flight: hover, then descend until the IMU says the vehicle is down.

        Returns what the vehicle interface does and the climb rate (m/s) it holds.
        """
        settings = flight.config.failsafe
        descent_s = t - self._blind_since_s - settings.stale_hover_s
        descending = descent_s >= 0.0
        if descending and flight.mode != Mode.LANDING:
            flight.enter_mode(Mode.LANDING, t)
            self._log('warn', 'stale state estimate: landing blind')
        if (descent_s >= BLIND_TOUCHDOWN_HOLD_S
                and abs(self.inertial_vertical_speed) < TOUCHDOWN_SPEED_MPS):
            if self._blind_still_since_s is None:
                self._blind_still_since_s = t
            if t - self._blind_still_since_s >= BLIND_TOUCHDOWN_HOLD_S:
                flight.touchdown(t)
                return OutputKind.MOTORS_OFF, 0.0
        else:
            self._blind_still_since_s = None
        return OutputKind.ATTITUDE_ONLY, -settings.blind_descent_mps if descending else 0.0
