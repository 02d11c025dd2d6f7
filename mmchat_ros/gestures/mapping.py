"""Gesture -> command rules, read from YAML (config/gesture_mapping.yaml).

    require_authorised: true          # no command unless the latest AuthState authorises
    gestures:
      thumbs_up: {verb: TAKEOFF, altitude_m: 1.5}
      fist: {verb: LAND}
      pointing: {verb: MOVE_BY, pointed_step_m: 0.5, speed_mps: 0.5}
      clockwise: {verb: YAW_BY, yaw_deg: -45}
      v_sign: null                    # recognised and published, but commands nothing

Verbs are Command's constants. Gestures may only ask for TAKEOFF, LAND, HOVER, MOVE_BY, YAW_BY,
FOLLOW_TRACK and RETURN_HOME: GOTO needs coordinates a hand cannot give, and ARM, DISARM and
EMERGENCY_STOP are too consequential for a misread hand. `pointed_step_m` moves that far along the
pointing finger's dominant image axis: image up/down -> +z/-z, image right/left (as the camera sees
it) -> -y/+y of base_link (REP-103: x forward, y left, z up). Positive yaw is counter-clockwise seen
from above (REP-103).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mmchat_ros.control.commands import CommandRequest, Source, Verb
from mmchat_ros.gestures import dynamic_gestures, static_gestures

GESTURE_LABELS: tuple[str, ...] = static_gestures.GESTURES + tuple(
    label for label in dynamic_gestures.LABELS if label != dynamic_gestures.STILL)
#: Verb -> the fields a rule may set for it.
VERB_FIELDS: dict[str, frozenset[str]] = {
    'TAKEOFF': frozenset({'altitude_m'}),
    'LAND': frozenset(),
    'HOVER': frozenset(),
    'MOVE_BY': frozenset({'x_m', 'y_m', 'z_m', 'pointed_step_m', 'speed_mps'}),
    'YAW_BY': frozenset({'yaw_deg', 'yaw_rad'}),
    'FOLLOW_TRACK': frozenset({'track_id', 'standoff_m'}),
    'RETURN_HOME': frozenset(),
}
REFUSED_VERBS = {'GOTO': 'needs coordinates a hand cannot give',
                 'ARM': 'too consequential for a misread hand',
                 'DISARM': 'too consequential for a misread hand',
                 'EMERGENCY_STOP': 'cuts the motors; too consequential for a misread hand'}
MAX_STEP_M = 5.0


class MappingError(ValueError):
    """A mapping file that is missing, not YAML, or asks for something not allowed."""


@dataclass(frozen=True)
class Rule:
    """The command of one gesture."""

    verb: str
    values: dict[str, float] = field(default_factory=dict)
    pointed_step_m: float = 0.0

    def request(self, pointing: np.ndarray | None) -> CommandRequest | None:
        """The request of this rule, or None when it needs a direction and there is none.

        No request_id, operator or frame yet: the node adds them when it sends. `pointing` is the
        finger's unit (dx, dy) in raw camera image axes (y down).
        """
        values = dict(self.values)
        if self.pointed_step_m:
            if pointing is None:
                return None
            dx, dy = pointing
            if abs(dx) >= abs(dy):
                values['y_m'] = -math.copysign(self.pointed_step_m, dx)
            else:
                values['z_m'] = -math.copysign(self.pointed_step_m, dy)
        return CommandRequest(request_id='', verb=Verb[self.verb], source=Source.GESTURE, **values)


@dataclass(frozen=True)
class GestureMapping:
    """Rules per gesture label, and whether commands need an authorised operator."""

    rules: dict[str, Rule]
    require_authorised: bool = True

    def request(self, gesture: str, pointing: np.ndarray | None = None) -> CommandRequest | None:
        """The request `gesture` makes, or None when it is unmapped (or lacks a direction)."""
        rule = self.rules.get(gesture)
        return rule.request(pointing) if rule else None

    @classmethod
    def from_yaml(cls, path: str | Path) -> 'GestureMapping':
        """Read and check a mapping file; MappingError says what is wrong and where."""
        path = Path(path)
        try:
            document = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise MappingError(f'cannot read gesture mapping {path}: {exc}') from exc
        except yaml.YAMLError as exc:
            raise MappingError(f'gesture mapping {path} is not valid YAML: {exc}') from exc
        try:
            return cls.from_document(document)
        except MappingError as exc:
            raise MappingError(f'gesture mapping {path}: {exc}') from exc

    @classmethod
    def from_document(cls, document: Any) -> 'GestureMapping':
        """Check a parsed mapping document."""
        if not isinstance(document, dict):
            raise MappingError('expected a mapping with keys require_authorised and gestures')
        unknown = set(document) - {'require_authorised', 'gestures'}
        if unknown:
            raise MappingError(f'unknown top-level keys {sorted(unknown)}')
        require = document.get('require_authorised', True)
        if not isinstance(require, bool):
            raise MappingError(f'require_authorised must be true or false, got {require!r}')
        gestures = document.get('gestures') or {}
        if not isinstance(gestures, dict):
            raise MappingError('gestures must map gesture names to rules')
        rules = {}
        for gesture, body in gestures.items():
            if gesture not in GESTURE_LABELS:
                raise MappingError(f"unknown gesture '{gesture}' "
                                   f"(known: {', '.join(GESTURE_LABELS)})")
            if body is not None:
                try:
                    rules[gesture] = _rule(body)
                except MappingError as exc:
                    raise MappingError(f"gesture '{gesture}': {exc}") from exc
        return cls(rules, require)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MappingError(f'{name} must be a finite number, got {value!r}')
    return float(value)


def _rule(body: Any) -> Rule:
    if not isinstance(body, dict) or 'verb' not in body:
        raise MappingError(f'a rule is a mapping with a verb, got {body!r}')
    verb = body['verb']
    if verb in REFUSED_VERBS:
        raise MappingError(f'verb {verb} is not allowed from gestures: {REFUSED_VERBS[verb]}')
    if verb not in VERB_FIELDS:
        raise MappingError(f"unknown verb {verb!r} (allowed: {', '.join(VERB_FIELDS)})")
    values = {k: _number(k, v) for k, v in body.items() if k != 'verb'}
    extra = set(values) - VERB_FIELDS[verb]
    if extra:
        raise MappingError(f"{verb} takes {', '.join(sorted(VERB_FIELDS[verb])) or 'no fields'}, "
                           f'not {sorted(extra)}')
    pointed = values.pop('pointed_step_m', 0.0)
    if 'yaw_deg' in values:
        values['yaw_rad'] = math.radians(values.pop('yaw_deg'))
    if 'track_id' in values:
        values['track_id'] = int(values['track_id'])
    _check_verb_values(verb, values, pointed)
    return Rule(verb, values, pointed)


def _check_verb_values(verb: str, values: dict[str, float], pointed: float) -> None:
    steps = [abs(values.get(k, 0.0)) for k in ('x_m', 'y_m', 'z_m')] + [abs(pointed)]
    if verb == 'TAKEOFF' and values.get('altitude_m', 0.0) <= 0:
        raise MappingError('TAKEOFF needs a positive altitude_m')
    if verb == 'MOVE_BY':
        if pointed and any(k in values for k in ('x_m', 'y_m', 'z_m')):
            raise MappingError('MOVE_BY takes either pointed_step_m or x_m/y_m/z_m, not both')
        if pointed < 0 or not any(steps):
            raise MappingError('MOVE_BY needs a non-zero step (x_m, y_m, z_m or a positive '
                               'pointed_step_m)')
        if max(steps) > MAX_STEP_M:
            raise MappingError(f'MOVE_BY steps are limited to {MAX_STEP_M} m')
    if verb == 'YAW_BY' and not 0 < abs(values.get('yaw_rad', 0.0)) <= math.pi:
        raise MappingError('YAW_BY needs a yaw of at most 180 degrees, not zero')
    if values.get('speed_mps', 0.0) < 0 or values.get('standoff_m', 0.0) < 0:
        raise MappingError('speed_mps and standoff_m cannot be negative')
