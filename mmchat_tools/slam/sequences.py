"""Rendered camera sequences of the built-in simulator with ground truth, in the TUM RGB-D layout.

ROS-free. The camera flies kinematically (the vehicle body's pose is written each frame; the physics
only moves the scripted targets), so every sequence is exactly repeatable. Every path starts with a
take-off climb, the part of a flight where the SLAM node recovers metric scale from the altitude.

    mmchat sequences list
    mmchat sequences render loop --out /tmp/loop [--width 640 --height 480]

Layout written (readable by mmchat_tools.slam.datasets and by TUM RGB-D tools):

    rgb/<t>.png             frames, t in seconds
    rgb.txt                 '# timestamp filename' lines
    groundtruth.txt         camera optical frame (REP-103) in the world, TUM format
    body_groundtruth.txt    vehicle body (FLU) in the world, TUM format (altitude and attitude)
    camera.yaml             intrinsics (camera_calibration YAML)
    sequence.yaml           how it was made: world, fps, noise, blur, camera mount
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
import math
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import yaml

from mmchat_ros.geometry import quat_from_yaw, quaternion_wxyz
from mmchat_ros.slam.poses import Trajectory, pose_matrix

#: position (x, y, z) and heading (yaw, rad) of the vehicle at time t
PathFunction = Callable[[float], tuple[np.ndarray, float]]

TAKEOFF_START_M = 0.3
CRUISE_ALTITUDE_M = 1.5


@dataclass(frozen=True)
class SequenceSpec:
    """A named flight through one world."""

    name: str
    purpose: str                      # 'benchmark', 'training' or 'test'
    description: str
    world: str                        # world file, relative to the package share
    duration_s: float
    fps: float = 20.0
    seed: int = 0                     # textures and noise
    image_noise_std: float = 0.0
    motion_blur_px: int = 0


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


def _distance(t: float, speed: float, climb_s: float) -> float:
    """Distance flown when the speed ramps up smoothly from 0 to `speed` during the climb."""
    x = t / climb_s
    return speed * climb_s * (x ** 3 - x ** 4 / 2 if x < 1 else x - 0.5)


def _takeoff_altitude(t: float, climb_s: float, top: float = CRUISE_ALTITUDE_M) -> float:
    return TAKEOFF_START_M + (top - TAKEOFF_START_M) * _smoothstep(t / climb_s)


def _loop(radius: float, speed: float, climb_s: float = 4.0, bob_m: float = 0.2) -> PathFunction:
    """Take off at the edge of a circle, then fly around it facing 30 deg inward of the tangent."""
    def path(t: float) -> tuple[np.ndarray, float]:
        s = _distance(t, speed, climb_s)
        angle = -math.pi / 2 + s / radius
        z = _takeoff_altitude(t, climb_s) + bob_m * math.sin(0.5 * s) * _smoothstep(t / climb_s - 1)
        yaw = angle + math.pi / 2 + math.radians(30)
        return np.array([radius * math.cos(angle), radius * math.sin(angle), z]), yaw
    return path


def _figure_eight(half_width: float, speed: float, climb_s: float = 4.0) -> PathFunction:
    """A lemniscate through the centre of the room with the heading swinging +-50 deg."""
    def path(t: float) -> tuple[np.ndarray, float]:
        s = _distance(t, speed, climb_s)
        phase = s / (1.6 * half_width)
        x = half_width * math.sin(phase)
        y = 0.5 * half_width * math.sin(2 * phase)
        z = _takeoff_altitude(t, climb_s) + 0.25 * math.sin(phase) * _smoothstep(t / climb_s - 1)
        yaw = math.radians(50) * math.sin(0.5 * phase)
        return np.array([x, y, z]), yaw
    return path


def _wander(radius: float, speed: float, heading_rate: float, climb_s: float = 4.0,
            top: float = 2.0) -> PathFunction:
    """A slow spiral with a turning heading: varied views for vocabulary training."""
    def path(t: float) -> tuple[np.ndarray, float]:
        angle = speed * t / radius
        r = radius * (0.6 + 0.4 * math.sin(0.13 * t))
        z = _takeoff_altitude(t, climb_s, top) + 0.4 * math.sin(0.21 * t)
        return np.array([r * math.cos(angle), r * math.sin(1.3 * angle), z]), heading_rate * t
    return path


ROOM = 'sim/worlds/indoor_room.yaml'
YARD = 'sim/worlds/outdoor_yard.yaml'

SEQUENCES: dict[str, tuple[SequenceSpec, PathFunction]] = {
    'loop': (SequenceSpec('loop', 'benchmark', 'take-off, then two laps of a 3 m circle at 0.7 m/s',
                          ROOM, 60.0), _loop(3.0, 0.7)),
    'figure_eight': (SequenceSpec('figure_eight', 'benchmark',
                                  'take-off, then a 7 m figure-eight at 0.6 m/s, heading +-50 deg',
                                  ROOM, 60.0), _figure_eight(3.5, 0.6)),
    'fast': (SequenceSpec('fast', 'benchmark',
                          'take-off, then a 3 m circle at 1.5 m/s, 5 px motion blur, pixel noise 4',
                          ROOM, 40.0, image_noise_std=4.0, motion_blur_px=5), _loop(3.0, 1.5)),
    'short': (SequenceSpec('short', 'test', 'take-off and a quarter lap (tests)', ROOM, 12.0),
              _loop(3.0, 0.7)),
    'train_room': (SequenceSpec('train_room', 'training',
                                'spiral with a turning heading (vocabulary)',
                                ROOM, 45.0, seed=0), _wander(3.5, 0.6, 0.35)),
    'train_room_b': (SequenceSpec('train_room_b', 'training',
                                  'other textures, other spiral (vocabulary)',
                                  ROOM, 30.0, seed=3), _wander(2.5, 0.5, -0.4, top=2.8)),
    'train_yard': (SequenceSpec('train_yard', 'training', 'spiral in the yard (vocabulary)',
                                YARD, 45.0, seed=0), _wander(8.0, 1.5, 0.3, top=3.0)),
}


@dataclass(frozen=True)
class RenderedFrame:
    """One frame and where the camera and the vehicle were."""

    time_s: float
    image: np.ndarray               # BGR uint8
    world_from_camera: np.ndarray   # 4x4, REP-103 optical frame
    world_from_body: np.ndarray     # 4x4, body FLU


def spec(name: str) -> SequenceSpec:
    """The spec of a named sequence; ValueError naming the known ones."""
    if name not in SEQUENCES:
        raise ValueError(f"unknown sequence '{name}' (known: {', '.join(SEQUENCES)})")
    return SEQUENCES[name][0]


def frames(name: str, width: int = 640, height: int = 480, duration_s: float | None = None,
           camera: str = 'forward', every: int = 1) -> Iterator[RenderedFrame]:
    """Render a named sequence frame by frame, or every n-th frame (MUJOCO_GL: egl unless set)."""
    import mujoco

    from mmchat_ros.graph import share_dir
    from mmchat_ros.simulation import Disturbances, Simulator

    sequence, path = SEQUENCES[spec(name).name]
    share = share_dir()
    sim = Simulator.from_files(share / sequence.world, share / 'sim/vehicles/quadrotor.yaml',
                               disturbances=Disturbances(image_noise_std=sequence.image_noise_std,
                                                         motion_blur_px=sequence.motion_blur_px),
                               seed=sequence.seed, camera_aspect=height / width)
    camera_id = sim.model.camera(camera).id
    mujoco_to_optical = np.diag([1.0, -1.0, -1.0])   # MuJoCo cameras look along -z with y up
    try:
        count = int(round((duration_s or sequence.duration_s) * sequence.fps))
        for i in range(count):
            t = i / sequence.fps
            if i:
                sim.step(1.0 / sequence.fps)        # advances time and the scripted targets
            position, yaw = path(t)
            sim.data.qpos[:7] = [*position, *quaternion_wxyz(quat_from_yaw(yaw))]
            sim.data.qvel[:] = 0.0
            mujoco.mj_forward(sim.model, sim.data)
            if i % every:
                continue
            world_from_camera = np.eye(4)
            world_from_camera[:3, :3] = (sim.data.cam_xmat[camera_id].reshape(3, 3)
                                         @ mujoco_to_optical)
            world_from_camera[:3, 3] = sim.data.cam_xpos[camera_id]
            body = pose_matrix(position, quat_from_yaw(yaw))
            yield RenderedFrame(round(t, 6), sim.render(camera, width, height), world_from_camera,
                                body)
    finally:
        sim.close()


def render(name: str, out_dir: str | Path, width: int = 640, height: int = 480,
           duration_s: float | None = None, show_progress: bool = True) -> Path:
    """Write a named sequence in the TUM RGB-D layout (see the module doc); returns `out_dir`."""
    import cv2
    from tqdm import tqdm

    from mmchat_ros.calibration import CameraCalibration
    from mmchat_ros.graph import share_dir
    from mmchat_ros.vehicle_model import VehicleModel

    sequence = spec(name)
    out = Path(out_dir)
    (out / 'rgb').mkdir(parents=True, exist_ok=True)
    mount = VehicleModel.from_yaml(share_dir() / 'sim/vehicles/quadrotor.yaml').cameras['forward']
    calibration = CameraCalibration.pinhole(width, height, mount.horizontal_fov_deg, 'forward')
    calibration.to_yaml(out / 'camera.yaml')
    times, cameras, bodies, lines = [], [], [], ['# timestamp filename']
    total = int(round((duration_s or sequence.duration_s) * sequence.fps))
    for frame in tqdm(frames(name, width, height, duration_s), total=total, desc=f'render {name}',
                      unit='frame', disable=not show_progress):
        filename = f'rgb/{frame.time_s:.6f}.png'
        cv2.imwrite(str(out / filename), frame.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        lines.append(f'{frame.time_s:.6f} {filename}')
        times.append(frame.time_s)
        cameras.append(frame.world_from_camera)
        bodies.append(frame.world_from_body)
    (out / 'rgb.txt').write_text('\n'.join(lines) + '\n')
    Trajectory.from_matrices(times, cameras).write_tum(out / 'groundtruth.txt')
    Trajectory.from_matrices(times, bodies).write_tum(out / 'body_groundtruth.txt')
    description = {**asdict(sequence), 'width': width, 'height': height,
                   'camera': {'name': 'forward', 'position_m': list(mount.position_m),
                              'pitch_deg': mount.pitch_deg,
                              'horizontal_fov_deg': mount.horizontal_fov_deg}}
    (out / 'sequence.yaml').write_text(yaml.safe_dump(description, sort_keys=False))
    return out


HELP = 'list or render the built-in simulator sequences (TUM RGB-D layout, with ground truth)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`list`, and `render NAME --out DIR`."""
    commands = parser.add_subparsers(dest='action', required=True)
    commands.add_parser('list', help='the built-in sequences and what each is for')
    make = commands.add_parser('render', help='render one sequence in the TUM RGB-D layout')
    make.add_argument('name', choices=sorted(SEQUENCES))
    make.add_argument('--out', type=Path, required=True, help='folder to write')
    make.add_argument('--width', type=int, default=640, help='image width (default 640)')
    make.add_argument('--height', type=int, default=480, help='image height (default 480)')
    make.add_argument('--duration', type=float, help='seconds (default: the sequence length)')


def run(args: argparse.Namespace) -> int:
    """List the sequences, or render one and print its folder."""
    if args.action == 'list':
        for sequence, _ in SEQUENCES.values():
            print(f'{sequence.name:14s} {sequence.purpose:9s} {sequence.duration_s:5.0f} s  '
                  f'{sequence.description}')
        return 0
    print(render(args.name, args.out, args.width, args.height, args.duration))
    return 0
