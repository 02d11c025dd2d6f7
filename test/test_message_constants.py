"""Every enum that mirrors message constants equals them, member for member, none missing."""
import pytest

from mmchat_ros.control.commands import Failsafe, Mode, Source, Verb
from mmchat_ros.detection.tracking import TrackState
from mmchat_ros import msg as msg_package
from mmchat_ros.msg import Command, Detection, SlamState, VehicleState
from mmchat_ros.slam.backend import TrackingState


def constants(message) -> dict[str, int]:
    """The constants a generated message class defines (name -> value)."""
    return dict(getattr(type(message), f'_Metaclass_{message.__name__}__constants'))


#: (enum, message, prefix of its constants, prefixes of other enums' constants in that message)
MIRRORS = [
    (Verb, Command, '', ('SOURCE_',)),
    (Source, Command, 'SOURCE_', ()),
    (Mode, VehicleState, 'MODE_', ()),
    (Failsafe, VehicleState, 'FAILSAFE_', ()),
    (TrackState, Detection, 'TRACK_', ()),
    (TrackingState, SlamState, 'STATE_', ()),
]


def takes(prefix: str, others: tuple[str, ...], constant: str) -> bool:
    """Whether the enum of `prefix` (not `others`) mirrors `constant`."""
    return constant.startswith(prefix) and not any(constant.startswith(o) for o in others)


@pytest.mark.parametrize('enum, message, prefix, others', MIRRORS,
                         ids=[f'{e.__name__}-{m.__name__}' for e, m, _, _ in MIRRORS])
def test_enum_equals_its_message_constants(enum, message, prefix, others):
    wanted = {name[len(prefix):]: value for name, value in constants(message).items()
              if takes(prefix, others, name)}
    assert wanted, f'{message.__name__} has no {prefix}* constants'
    assert {member.name: int(member) for member in enum} == wanted


def claimed(message_name: str, constant: str) -> list[str]:
    """The enums of MIRRORS that take `constant` of message `message_name`."""
    return [enum.__name__ for enum, message, prefix, others in MIRRORS
            if message.__name__ == message_name and takes(prefix, others, constant)]


#: Numeric constants no enum mirrors, and why.
NOT_MIRRORED = {('Gesture', 'KIND_'): 'the gesture engine names kinds; gesture_node maps them'}


def test_every_numeric_message_constant_has_exactly_one_enum():
    """A new numeric constant in any message needs its enum (or a line in NOT_MIRRORED)."""
    for name in dir(msg_package):
        message = getattr(msg_package, name)
        if not hasattr(type(message), f'_Metaclass_{name}__constants'):
            continue
        for constant, value in constants(message).items():
            if not isinstance(value, int) or any(
                    name == m and constant.startswith(p) for m, p in NOT_MIRRORED):
                continue
            assert len(claimed(name, constant)) == 1, f'{name}.{constant}'
