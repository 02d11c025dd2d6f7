"""Gesture -> command mapping from YAML, its checks, and the operator authorisation rule."""
import math

import numpy as np
import pytest
import yaml

from mmchat_ros import graph
from mmchat_ros.authorisation import Authorisation, refusal
from mmchat_ros.gestures.mapping import GestureMapping, MappingError

MAPPING_FILE = graph.share_dir() / 'config' / 'gesture_mapping.yaml'


@pytest.fixture(scope='module')
def mapping():
    return GestureMapping.from_yaml(MAPPING_FILE)


def test_default_mapping_follows_the_yaml(mapping):
    document = yaml.safe_load(MAPPING_FILE.read_text())
    assert mapping.require_authorised is True
    takeoff = mapping.request('thumbs_up')
    assert (takeoff.verb_name, takeoff.altitude_m) == (
        'TAKEOFF', document['gestures']['thumbs_up']['altitude_m'])
    assert mapping.request('fist').verb_name == 'LAND'
    assert mapping.request('open_palm').verb_name == 'HOVER'
    assert mapping.request('v_sign') is None                   # mapped to null: no command
    assert mapping.request('move') is None                      # not mapped


def test_circles_yaw_by_rep103_signs(mapping):
    clockwise, counter = mapping.request('clockwise'), mapping.request('counter_clockwise')
    assert clockwise.verb_name == counter.verb_name == 'YAW_BY'
    assert clockwise.yaw_rad < 0 < counter.yaw_rad             # + is counter-clockwise from above
    assert counter.yaw_rad == pytest.approx(
        math.radians(yaml.safe_load(MAPPING_FILE.read_text())['gestures']['counter_clockwise']
                     ['yaw_deg']))


@pytest.mark.parametrize('direction, axis, sign', [
    ((1.0, 0.1), 'y_m', -1.0),      # finger to the image's right: the vehicle's right (-y)
    ((-0.9, 0.3), 'y_m', 1.0),
    ((0.2, -1.0), 'z_m', 1.0),      # up the image: climb
    ((0.1, 0.9), 'z_m', -1.0),
])
def test_pointing_steps_along_the_dominant_image_axis(mapping, direction, axis, sign):
    request = mapping.request('pointing', np.array(direction))
    step = mapping.rules['pointing'].pointed_step_m
    assert request.verb_name == 'MOVE_BY'
    assert getattr(request, axis) == pytest.approx(sign * step)
    other = {'y_m', 'z_m'} - {axis}
    assert getattr(request, other.pop()) == 0.0 and request.x_m == 0.0


def test_pointing_at_the_camera_commands_nothing(mapping):
    assert mapping.request('pointing', None) is None


@pytest.mark.parametrize('text, message', [
    ('gestures: [unclosed', 'not valid YAML'),
    ('- just\n- a list', 'expected a mapping'),
    ('gestures: {fist: {verb: LAND}}\nextra: 1', 'unknown top-level keys'),
    ('require_authorised: maybe', 'require_authorised must be true or false'),
    ('gestures: {wave: {verb: LAND}}', "unknown gesture 'wave'"),
    ('gestures: {fist: {verb: FLY}}', "unknown verb 'FLY'"),
    ('gestures: {fist: {verb: EMERGENCY_STOP}}', 'not allowed from gestures'),
    ('gestures: {fist: {verb: ARM}}', 'not allowed from gestures'),
    ('gestures: {fist: LAND}', 'a rule is a mapping with a verb'),
    ('gestures: {fist: {verb: LAND, altitude_m: 2}}', 'LAND takes no fields'),
    ('gestures: {thumbs_up: {verb: TAKEOFF}}', 'TAKEOFF needs a positive altitude_m'),
    ('gestures: {thumbs_up: {verb: TAKEOFF, altitude_m: high}}', 'altitude_m must be a finite'),
    ('gestures: {pointing: {verb: MOVE_BY, pointed_step_m: 0.5, x_m: 1}}', 'not both'),
    ('gestures: {swipe_left: {verb: MOVE_BY, y_m: 50}}', 'limited to'),
    ('gestures: {clockwise: {verb: YAW_BY, yaw_deg: 270}}', 'at most 180 degrees'),
])
def test_bad_mapping_files_give_clear_errors(tmp_path, text, message):
    path = tmp_path / 'mapping.yaml'
    path.write_text(text)
    with pytest.raises(MappingError, match=message) as error:
        GestureMapping.from_yaml(path)
    assert str(path) in str(error.value)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(MappingError, match='cannot read gesture mapping'):
        GestureMapping.from_yaml(tmp_path / 'nope.yaml')


NOW = 1000.0


@pytest.mark.parametrize('latest, required, allowed', [
    (None, True, False),
    (Authorisation('', False, 0.0), True, False),                 # a stranger
    (Authorisation('alice', False, NOW + 60), True, False),
    (Authorisation('alice', True, NOW - 1), True, False),         # expired
    (Authorisation('alice', True, NOW + 60), True, True),
    (None, False, True),                                          # mapping does not require it
])
def test_commands_need_a_current_authorisation(latest, required, allowed):
    assert (refusal(latest, NOW, required) is None) == allowed
