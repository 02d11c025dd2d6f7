"""Monocular SLAM behind a small interface, so the binding can be swapped. ROS-free.

`open_backend('orbslam3-python', vocabulary, settings)` returns a MonocularSlam. Another binding
(pyorbslam3, a future ORB-SLAM3 release) needs one class with the same four methods and an entry
in BACKENDS; the node, the offline runner and the benchmark only use this interface.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
import time
from typing import Callable, Protocol

import numpy as np

from mmchat_ros.slam.poses import invert


class TrackingState(IntEnum):
    """ORB-SLAM3's tracking states, numbered as mmchat_ros/SlamState's STATE_* constants."""

    NOT_READY = 0
    NO_IMAGES = 1
    NOT_INITIALIZED = 2
    OK = 3
    RECENTLY_LOST = 4
    LOST = 5


@dataclass(frozen=True)
class TrackResult:
    """What tracking one frame gave."""

    state: TrackingState
    map_from_camera: np.ndarray | None   # 4x4 camera pose in the SLAM map (unscaled), when OK
    keyframes: int                       # keyframes of the active map
    tracked_points: np.ndarray           # (n, 3) map points matched in this frame, SLAM map frame
    seconds: float                       # time spent in the tracker


class BackendError(RuntimeError):
    """A SLAM binding that is missing or failed to start."""


class MonocularSlam(Protocol):
    """The operations the SLAM node needs from a monocular SLAM system."""

    def track(self, image: np.ndarray, timestamp_s: float) -> TrackResult:
        """Track one BGR or grey uint8 image; timestamps must increase."""

    def reset(self) -> None:
        """Drop the active map; the next frames initialise a new one."""

    def close(self) -> None:
        """Stop the system's threads (idempotent)."""


class OrbSlam3Python:
    """ORB-SLAM3 through the `orbslam3-python` wheel (module `orbslam3`)."""

    _STATES = {'SYSTEM_NOT_READY': TrackingState.NOT_READY, 'NO_IMAGES_YET': TrackingState.NO_IMAGES,
               'NOT_INITIALIZED': TrackingState.NOT_INITIALIZED, 'OK': TrackingState.OK,
               'RECENTLY_LOST': TrackingState.RECENTLY_LOST, 'LOST': TrackingState.LOST}

    def __init__(self, vocabulary: Path, settings: Path) -> None:
        try:
            import orbslam3
        except ImportError as exc:
            raise BackendError(f'the orbslam3-python binding is not installed ({exc}); '
                               'see requirements/slam-nodeps.txt') from exc
        # The binding fetches ORBvoc.txt from the internet when the path does not exist: never let it.
        for path, what in ((vocabulary, 'vocabulary'), (settings, 'settings')):
            if not Path(path).is_file():
                raise BackendError(f'{what} file {path} does not exist')
        self._system = orbslam3.System(str(vocabulary), str(settings), orbslam3.Sensor.MONOCULAR)
        self._system.set_use_viewer(False)
        if not self._system.initialize():
            raise BackendError('ORB-SLAM3 did not initialise (see its output above)')
        self._closed = False

    def track(self, image: np.ndarray, timestamp_s: float) -> TrackResult:
        started = time.perf_counter()
        self._system.process_image_mono(image, float(timestamp_s))
        seconds = time.perf_counter() - started
        state = self._STATES.get(self._system.get_tracking_state().name, TrackingState.LOST)
        pose = None
        points = np.zeros((0, 3))
        if state == TrackingState.OK:
            camera_from_map = self._system.get_frame_pose()     # Tcw
            if camera_from_map is not None:
                pose = invert(np.asarray(camera_from_map, dtype=float))
            tracked = self._system.get_tracked_mappoints()
            if tracked:
                points = np.asarray(tracked, dtype=float).reshape(-1, 3)
        return TrackResult(state, pose, int(self._system.get_map_info().num_keyframes), points, seconds)

    def reset(self) -> None:
        self._system.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._system.shutdown()


BACKENDS: dict[str, Callable[[Path, Path], MonocularSlam]] = {'orbslam3-python': OrbSlam3Python}


def open_backend(name: str, vocabulary: Path, settings: Path) -> MonocularSlam:
    """Start the named binding on a plain-text vocabulary and a settings file."""
    if name not in BACKENDS:
        raise BackendError(f"unknown SLAM backend '{name}' (known: {', '.join(BACKENDS)})")
    return BACKENDS[name](Path(vocabulary), Path(settings))
