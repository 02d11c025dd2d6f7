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

    _STATES = {'SYSTEM_NOT_READY': TrackingState.NOT_READY,
               'NO_IMAGES_YET': TrackingState.NO_IMAGES,
               'NOT_INITIALIZED': TrackingState.NOT_INITIALIZED, 'OK': TrackingState.OK,
               'RECENTLY_LOST': TrackingState.RECENTLY_LOST, 'LOST': TrackingState.LOST}

    def __init__(self, vocabulary: Path, settings: Path) -> None:
        try:
            import orbslam3
        except ImportError as exc:
            raise BackendError(f'the orbslam3-python binding is not installed ({exc}); '
                               'see requirements/slam-nodeps.txt') from exc
        # The binding fetches ORBvoc.txt from the internet when the path does not exist: never let
        # it.
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
        return TrackResult(state, pose, int(self._system.get_map_info().num_keyframes), points,
                           seconds)

    def reset(self) -> None:
        self._system.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._system.shutdown()


BACKENDS: dict[str, Callable[[Path, Path], MonocularSlam]] = {'orbslam3-python': OrbSlam3Python}

#: Seconds to wait for a child process to load the vocabulary (ORBvoc.txt: tens of seconds).
START_TIMEOUT_S = 300.0
CALL_TIMEOUT_S = 60.0


def _serve(connection, name: str, vocabulary: Path, settings: Path) -> None:
    """Child process: run one backend, answer ('track', image, t) / ('reset',) / ('close',)."""
    try:
        backend = BACKENDS[name](vocabulary, settings)
    except Exception as exc:               # reported to the parent, which raises BackendError
        connection.send(('error', f'{type(exc).__name__}: {exc}'))
        return
    connection.send(('ready', None))
    try:
        while True:
            command, *arguments = connection.recv()
            if command == 'track':
                connection.send(('ok', backend.track(*arguments)))
            elif command == 'reset':
                backend.reset()
                connection.send(('ok', None))
            else:
                break
    except (EOFError, OSError):
        pass                               # the parent went away
    finally:
        backend.close()
        connection.close()


class IsolatedBackend:
    """A backend in its own process.

    ORB-SLAM3 keeps the camera intrinsics and image bounds of the first frame it ever saw in static
    members of its Frame class, so a second system in one process with another camera silently
    tracks with the first one's geometry; and it ends the whole process on some errors. In a child
    process neither reaches the ROS node (or the other nodes sharing its process): a crash becomes
    a BackendError.
    """

    def __init__(self, name: str, vocabulary: Path, settings: Path) -> None:
        import multiprocessing

        context = multiprocessing.get_context('spawn')    # no fork of a process with ROS threads
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, name, vocabulary, settings),
                                        name=f'slam-{name}', daemon=True)
        self._process.start()
        child.close()
        status, detail = self._receive(START_TIMEOUT_S, 'start')
        if status == 'error':
            self._process.join(5.0)
            raise BackendError(f'{name} did not start: {detail}')

    def _receive(self, timeout_s: float, what: str):
        try:
            if not self._connection.poll(timeout_s):
                self._stop()
                raise BackendError(f'SLAM process did not answer {what} within {timeout_s:.0f} s')
            return self._connection.recv()
        except (EOFError, OSError):
            self._process.join(2.0)
            raise BackendError(f'SLAM process ended during {what} (exit code '
                               f'{self._process.exitcode})') from None

    def _call(self, *message):
        try:
            self._connection.send(message)
        except (OSError, ValueError):
            raise BackendError(
                f'SLAM process is gone (exit code {self._process.exitcode})') from None
        return self._receive(CALL_TIMEOUT_S, message[0])[1]

    def track(self, image: np.ndarray, timestamp_s: float) -> TrackResult:
        return self._call('track', np.ascontiguousarray(image), float(timestamp_s))

    def reset(self) -> None:
        self._call('reset')

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._connection.send(('close',))
            except (OSError, ValueError):
                pass
            self._process.join(10.0)
        self._stop()

    def _stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5.0)
        self._connection.close()


def open_backend(name: str, vocabulary: Path, settings: Path,
                 isolated: bool = True) -> MonocularSlam:
    """Start the named binding on a plain-text vocabulary and a settings file.

    It runs in its own process unless `isolated` is false.
    """
    if name not in BACKENDS:
        raise BackendError(f"unknown SLAM backend '{name}' (known: {', '.join(BACKENDS)})")
    if isolated:
        return IsolatedBackend(name, Path(vocabulary), Path(settings))
    return BACKENDS[name](Path(vocabulary), Path(settings))
