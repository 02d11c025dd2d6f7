"""Auto-labelled images and tracking sequences rendered by the built-in simulator (ROS-free).

Labels come from MuJoCo's segmentation rendering: every pixel names the geom it shows and every
geom its body, so a target's box covers exactly its visible pixels (occlusion-aware, clipped at the
image border). Targets are the world's mocap bodies `target_<id>`; classes follow the simulator's
ground truth: 0 person, 1 vehicle.

Two products:
  random scenes (`SceneSampler`): both worlds, texture seeds, random drone poses and heights, target
      poses and colours, lighting, blur and noise; written as an Ultralytics YOLO dataset.
  sequences (`render_sequence`): scripted scenarios (crossing, occlusion, exit and re-entry) with
      per-frame ground-truth boxes and target identities, for tracking tests and benchmarks;
      `validation_scenarios` are others of the same kinds, for choosing tracker settings.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import math
import os
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

os.environ.setdefault('MUJOCO_GL', 'egl')
import mujoco  # noqa: E402  (reads MUJOCO_GL at import)

from mmchat_ros.geometry import quat_from_euler, quat_from_yaw, quaternion_wxyz  # noqa: E402
from mmchat_ros.simulation import Simulator, World  # noqa: E402
from mmchat_ros.simulation.world import Obstacle, Path2D, Target  # noqa: E402
from mmchat_ros.vehicle_model import VehicleModel  # noqa: E402

CLASS_NAMES: tuple[str, ...] = ('person', 'vehicle')
TARGET_BODY_PREFIX = 'target_'
MIN_VISIBLE_PX = 12          # fewer visible pixels than this: not labelled
MIN_BOX_SIDE_PX = 3
#: The simulator's person legs (mjcf.py), recoloured in scenes.
TROUSERS_RGBA = (0.15, 0.2, 0.35, 1.0)


@dataclass(frozen=True)
class LabelledBox:
    """One visible target in an image: identity, class and pixel box (x1, y1, x2, y2, exclusive)."""

    target_id: int
    class_id: int
    box_xyxy: tuple[float, float, float, float]
    visible_px: int


@dataclass(frozen=True)
class CameraPose:
    """Vehicle position (ENU, m) and yaw/pitch/roll (rad, FLU body; positive pitch is nose down)."""

    position_m: tuple[float, float, float]
    yaw_rad: float
    pitch_rad: float = 0.0
    roll_rad: float = 0.0

    def quaternion_wxyz(self) -> np.ndarray:
        """MuJoCo's (w, x, y, z) of R = Rz(yaw) Ry(pitch) Rx(roll)."""
        return quaternion_wxyz(quat_from_euler(self.roll_rad, self.pitch_rad, self.yaw_rad))


class LabelledRenderer:
    """Renders a simulator camera as BGR plus the visible boxes of every target body."""

    def __init__(self, sim: Simulator, width: int, height: int, camera: str = 'forward') -> None:
        self.sim = sim
        self.camera = camera
        self.size = (width, height)
        model = sim.model
        self._colour = mujoco.Renderer(model, height, width)
        self._segment = mujoco.Renderer(model, height, width)
        self._segment.enable_segmentation_rendering()
        kinds = {t.target_id: t.kind for t in sim.world.targets}
        # geom id -> index into self._targets (-1: not a target)
        self._targets: list[tuple[int, int]] = []
        self._geom_target = np.full(model.ngeom + 1, -1, dtype=np.int32)
        for body in range(model.nbody):
            name = model.body(body).name
            if not name.startswith(TARGET_BODY_PREFIX):
                continue
            target_id = int(name[len(TARGET_BODY_PREFIX):])
            self._targets.append((target_id, CLASS_NAMES.index(kinds[target_id])))
            self._geom_target[:-1][model.geom_bodyid == body] = len(self._targets) - 1

    def place_camera(self, pose: CameraPose) -> None:
        """Put the vehicle (and so its cameras) at `pose`, at rest."""
        data = self.sim.data
        data.qpos[:3] = pose.position_m
        data.qpos[3:7] = pose.quaternion_wxyz()
        data.qvel[:6] = 0.0
        mujoco.mj_forward(self.sim.model, data)

    def render(self) -> tuple[np.ndarray, list[LabelledBox]]:
        """The BGR image and the boxes of the targets visible in it."""
        data = self.sim.data
        self._colour.update_scene(data, camera=self.camera)
        image = np.ascontiguousarray(self._colour.render()[:, :, ::-1])
        self._segment.update_scene(data, camera=self.camera)
        segmentation = self._segment.render()
        ids, types = segmentation[:, :, 0], segmentation[:, :, 1]
        geoms = np.where(types == int(mujoco.mjtObj.mjOBJ_GEOM), ids, -1)
        owner = self._geom_target[geoms]          # index -1 reads the sentinel entry, also -1
        return image, self._boxes(owner)

    def _boxes(self, owner: np.ndarray) -> list[LabelledBox]:
        boxes = []
        for index, (target_id, class_id) in enumerate(self._targets):
            rows, cols = np.nonzero(owner == index)
            if rows.size < MIN_VISIBLE_PX:
                continue
            x1, x2, y1, y2 = cols.min(), cols.max() + 1, rows.min(), rows.max() + 1
            if min(x2 - x1, y2 - y1) < MIN_BOX_SIDE_PX:
                continue
            boxes.append(LabelledBox(target_id, class_id,
                                     (float(x1), float(y1), float(x2), float(y2)),
                                     int(rows.size)))
        return boxes

    def close(self) -> None:
        """Free the GL contexts."""
        self._colour.close()
        self._segment.close()


def place_targets(sim: Simulator, time_s: float) -> None:
    """Move every target body to where its scripted path puts it at `time_s`."""
    for target in sim.world.targets:
        (x, y), yaw, _ = target.path.pose(time_s)
        set_target_pose(sim, target.target_id, x, y, yaw)


def set_target_pose(sim: Simulator, target_id: int, x: float, y: float, yaw: float) -> None:
    """Put target `target_id` at (x, y) on the ground facing `yaw`."""
    mocap = sim.model.body(f'{TARGET_BODY_PREFIX}{target_id}').mocapid[0]
    sim.data.mocap_pos[mocap] = (x, y, 0.0)
    sim.data.mocap_quat[mocap] = quaternion_wxyz(quat_from_yaw(yaw))


def degrade(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Camera-like damage: motion blur in a random direction, exposure change, noise, JPEG."""
    out = image
    if rng.random() < 0.4 * strength:
        length = int(rng.integers(3, 10))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2),
                                           float(rng.uniform(0, 180)), 1)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    gain, offset = 1.0 + strength * rng.uniform(-0.3, 0.25), strength * rng.uniform(-20, 20)
    noise = rng.uniform(0, 7 * strength)
    pixels = (out.astype(np.float32) * gain + offset
              + noise * rng.standard_normal(out.shape, np.float32))
    out = np.clip(pixels, 0, 255).astype(np.uint8)
    if rng.random() < 0.3 * strength:
        ok, encoded = cv2.imencode('.jpg', out,
                                   [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 80))])
        out = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else out
    return out


# --- random scenes -----------------------------------------------------------------------------

NEUTRAL_COLOUR_SHARE = 0.3     # black, grey, white and silver: common for clothes and vehicles
PERSON_SIZED_SHARE = 0.4       # distractors of a standing person's size (the hardest negatives)


def _random_colour(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """A saturated colour, or (NEUTRAL_COLOUR_SHARE) a near-grey from almost black to white."""
    if rng.random() < NEUTRAL_COLOUR_SHARE:
        grey = rng.uniform(0.05, 0.9)
        r, g, b = np.clip(grey + rng.uniform(-0.04, 0.04, 3), 0.0, 1.0)
        return float(r), float(g), float(b), 1.0
    hsv = np.array([[[rng.integers(0, 180), rng.integers(40, 256), rng.integers(50, 256)]]],
                   np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0] / 255.0
    return float(r), float(g), float(b), 1.0


def random_obstacle(base: World, rng: np.random.Generator) -> Obstacle:
    """A distractor: a pillar, post or crate of random size, colour and texture, inside the arena.

    PERSON_SIZED_SHARE of them are as tall and wide as a person.
    """
    sx, sy, _ = base.size_m
    if rng.random() < PERSON_SIZED_SHARE:
        width, depth = rng.uniform(0.3, 0.8, 2)
        height = rng.uniform(1.4, 2.2)
    else:
        width, depth = rng.uniform(0.15, 1.2, 2)
        height = rng.uniform(0.4, 2.6)
    grey = rng.uniform(0.1, 0.8)
    rgba = (grey, grey, grey, 1.0) if rng.random() < 0.4 else _random_colour(rng)
    return Obstacle((float(rng.uniform(-sx / 2 + 1, sx / 2 - 1)),
                     float(rng.uniform(-sy / 2 + 1, sy / 2 - 1)),
                     height / 2), (float(width), float(depth), float(height)), rgba,
                    str(rng.choice(['', '', 'dots', 'wood', 'checker'])))


def random_world(base: World, rng: np.random.Generator, persons: int, vehicles: int,
                 distractors: int = 0) -> World:
    """`base` with its targets replaced by random persons and vehicles, and obstacles added.

    The `distractors` extra obstacles are negatives the detector must learn to ignore: grey pillars
    look a little like people.
    """
    still = Path2D([(0.0, 0.0), (1.0, 0.0)], 0.0)
    targets = [Target(i + 1, 'person' if i < persons else 'vehicle', still, _random_colour(rng))
               for i in range(persons + vehicles)]
    obstacles = list(base.obstacles) + [random_obstacle(base, rng) for _ in range(distractors)]
    return replace(base, targets=targets, obstacles=obstacles)


class SceneSampler:
    """Random labelled views of one world: a new target layout, lighting and camera each call."""

    def __init__(self, world: World, vehicle: VehicleModel, seed: int, width: int,
                 height: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.world = world
        self.sim = Simulator(world, vehicle, seed=seed, camera_aspect=height / width)
        self.renderer = LabelledRenderer(self.sim, width, height)
        model = self.sim.model
        self._base_light = model.light_diffuse.copy()
        self._base_head = (model.vis.headlight.ambient.copy(), model.vis.headlight.diffuse.copy())
        self._colour_geoms = {t.target_id: self._recolourable_geoms(t) for t in world.targets}
        self._trouser_geoms = {t.target_id: self._recolourable_geoms(t, TROUSERS_RGBA)
                               for t in world.targets if t.kind == 'person'}

    def _recolourable_geoms(self, target: Target, rgba=None) -> list[int]:
        """Geoms of `target` coloured `rgba` (default: the target's own colour, e.g. the shirt)."""
        body = self.sim.model.body(f'{TARGET_BODY_PREFIX}{target.target_id}').id
        geoms = np.nonzero(self.sim.model.geom_bodyid == body)[0]
        colour = target.rgba if rgba is None else rgba
        return [int(g) for g in geoms
                if np.allclose(self.sim.model.geom_rgba[g], colour, atol=1e-3)]

    def _half_extent(self) -> tuple[float, float]:
        sx, sy, _ = self.world.size_m
        margin = 0.4
        return sx / 2 - margin, sy / 2 - margin

    def _free_spot(self, taken: list[tuple[float, float]], clearance: float) -> tuple[float, float]:
        hx, hy = self._half_extent()
        for _ in range(50):
            x, y = self.rng.uniform(-hx, hx), self.rng.uniform(-hy, hy)
            inside_obstacle = any(abs(x - o.position_m[0]) < o.size_m[0] / 2 + 0.3 and
                                  abs(y - o.position_m[1]) < o.size_m[1] / 2 + 0.3
                                  for o in self.world.obstacles)
            if not inside_obstacle and all(math.hypot(x - a, y - b) > clearance for a, b in taken):
                return x, y
        return x, y

    def _shuffle_scene(self) -> list[tuple[float, float]]:
        spots: list[tuple[float, float]] = []
        for target in self.world.targets:
            x, y = self._free_spot(spots, 2.2 if target.kind == 'vehicle' else 0.6)
            spots.append((x, y))
            set_target_pose(self.sim, target.target_id, x, y, self.rng.uniform(-math.pi, math.pi))
            colour = _random_colour(self.rng) if self.rng.random() < 0.8 else target.rgba
            for geom in self._colour_geoms[target.target_id]:
                self.sim.model.geom_rgba[geom] = colour
            trousers = _random_colour(self.rng) if self.rng.random() < 0.5 else TROUSERS_RGBA
            for geom in self._trouser_geoms.get(target.target_id, []):
                self.sim.model.geom_rgba[geom] = trousers
        model = self.sim.model
        model.light_diffuse[:] = self._base_light * self.rng.uniform(0.4, 1.4)
        model.vis.headlight.ambient[:] = self._base_head[0] * self.rng.uniform(0.5, 1.5)
        model.vis.headlight.diffuse[:] = self._base_head[1] * self.rng.uniform(0.5, 1.5)
        return spots

    def _camera_pose(self, spots: list[tuple[float, float]]) -> CameraPose:
        rng = self.rng
        hx, hy = self._half_extent()
        ceiling = self.world.size_m[2] - 0.3 if self.world.kind == 'room' else 8.0
        height = float(min(ceiling, rng.choice([rng.uniform(0.08, 0.6), rng.uniform(0.6, 6.0)])))
        if spots and rng.random() < 0.9:
            fx, fy = spots[rng.integers(len(spots))]
            distance = rng.uniform(1.2, 16.0 if self.world.kind == 'yard' else 9.0)
            bearing = rng.uniform(-math.pi, math.pi)
            x = float(np.clip(fx + distance * math.cos(bearing), -hx, hx))
            y = float(np.clip(fy + distance * math.sin(bearing), -hy, hy))
            yaw = math.atan2(fy - y, fx - x) + rng.normal(0.0, 0.35)
            look_down = math.atan2(height - 0.9, max(math.hypot(fx - x, fy - y), 0.5))
            pitch = float(np.clip(look_down - math.radians(10), -0.3, 0.6)) + rng.normal(0.0, 0.08)
        else:
            x, y = rng.uniform(-hx, hx), rng.uniform(-hy, hy)
            yaw, pitch = rng.uniform(-math.pi, math.pi), rng.normal(0.05, 0.15)
        return CameraPose((x, y, height), yaw, pitch, rng.normal(0.0, 0.08))

    def sample(self) -> tuple[np.ndarray, list[LabelledBox]]:
        """One random labelled image."""
        spots = self._shuffle_scene()
        self.renderer.place_camera(self._camera_pose(spots))
        image, boxes = self.renderer.render()
        return degrade(image, self.rng), boxes

    def close(self) -> None:
        """Free the renderers."""
        self.renderer.close()
        self.sim.close()


def yolo_label_lines(boxes: list[LabelledBox], width: int, height: int) -> list[str]:
    """Ultralytics label lines: `class cx cy w h`, normalised to the image size."""
    lines = []
    for box in boxes:
        x1, y1, x2, y2 = box.box_xyxy
        lines.append(f'{box.class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} '
                     f'{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}')
    return lines


def write_dataset(root: Path, split: str, count: int, seed: int, worlds: list[Path], vehicle: Path,
                  sizes: tuple[tuple[int, int], ...] = ((320, 240), (480, 360)),
                  images_per_scene: int = 30, max_distractors: int = 6,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Render `count` labelled images into root/images/<split> and root/labels/<split>.

    Every `images_per_scene` images a new scene: next world, new texture seed, new targets and up
    to `max_distractors` random extra obstacles.
    Returns counts of images, boxes per class and images without targets.
    """
    (root / 'images' / split).mkdir(parents=True, exist_ok=True)
    (root / 'labels' / split).mkdir(parents=True, exist_ok=True)
    vehicle_model = VehicleModel.from_yaml(vehicle)
    bases = [World.from_yaml(w) for w in worlds]
    rng = np.random.default_rng(seed)
    stats = {'images': 0, 'empty_images': 0, **{f'boxes_{name}': 0 for name in CLASS_NAMES}}
    scene = 0
    while stats['images'] < count:
        base = bases[scene % len(bases)]
        vehicles = int(rng.integers(1, 4)) if base.kind == 'yard' else int(rng.random() < 0.35)
        world = random_world(base, rng, persons=int(rng.integers(1, 5)), vehicles=vehicles,
                             distractors=int(rng.integers(0, max_distractors + 1)))
        width, height = sizes[int(rng.integers(len(sizes)))]
        sampler = SceneSampler(world, vehicle_model, int(rng.integers(1 << 30)), width, height)
        try:
            for _ in range(min(images_per_scene, count - stats['images'])):
                image, boxes = sampler.sample()
                name = f'{split}_{stats["images"]:05d}'
                cv2.imwrite(str(root / 'images' / split / f'{name}.jpg'), image,
                            [cv2.IMWRITE_JPEG_QUALITY, 92])
                (root / 'labels' / split / f'{name}.txt').write_text(
                    ''.join(line + '\n' for line in yolo_label_lines(boxes, width, height)))
                stats['images'] += 1
                stats['empty_images'] += not boxes
                for box in boxes:
                    stats[f'boxes_{CLASS_NAMES[box.class_id]}'] += 1
                if progress:
                    progress(1)
        finally:
            sampler.close()
        scene += 1
    return stats


def write_data_yaml(root: Path, splits: dict[str, str]) -> Path:
    """The Ultralytics dataset file for `root` (splits: {'train': 'images/train', ...})."""
    lines = [f'path: {root.resolve()}'] + [f'{k}: {v}' for k, v in splits.items()]
    lines += ['names:'] + [f'  {i}: {name}' for i, name in enumerate(CLASS_NAMES)]
    path = root / 'data.yaml'
    path.write_text('\n'.join(lines) + '\n')
    return path


def read_yolo_labels(label_path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(boxes xyxy in pixels (N, 4), class ids (N,)) of one Ultralytics label file."""
    rows = (np.loadtxt(label_path, ndmin=2)
            if label_path.is_file() and label_path.stat().st_size else np.zeros((0, 5)))
    cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, rows[:, 0].astype(int)


# --- tracking sequences ------------------------------------------------------------------------

@dataclass(frozen=True)
class SequenceFrame:
    """One frame of a rendered sequence with its ground truth."""

    time_s: float
    image: np.ndarray
    boxes: list[LabelledBox]


@dataclass(frozen=True)
class Scenario:
    """A scripted tracking scenario: world, target paths and the camera's motion."""

    name: str
    description: str
    world: World
    camera: Callable[[float], CameraPose]
    duration_s: float


def _person(target_id: int, rgba, points, speed: float, phase: float = 0.0) -> Target:
    return Target(target_id, 'person', Path2D(points, speed, phase), tuple(rgba))


def _still(x: float, y: float, z: float, yaw: float = 0.0) -> Callable[[float], CameraPose]:
    return lambda t: CameraPose((x, y, z), yaw, math.radians(5))


def _pan(x: float, y: float, z: float, amplitude: float,
         period: float) -> Callable[[float], CameraPose]:
    return lambda t: CameraPose((x, y, z), amplitude * math.sin(2 * math.pi * t / period),
                                math.radians(5))


def scenarios(base_room: World, base_yard: World) -> dict[str, Scenario]:
    """The tracking scenarios: crossings, an occluding pillar, exit and re-entry, a busy yard.

    The detector benchmark scores trackers on these; tune trackers on `validation_scenarios`.
    """
    red, blue = (0.85, 0.1, 0.1, 1), (0.1, 0.3, 0.9, 1)
    yellow, green = (0.9, 0.8, 0.1, 1), (0.1, 0.7, 0.2, 1)
    room = replace(base_room, obstacles=[])
    crossing = replace(room, targets=[
        _person(1, red, [(2.5, 2.6), (2.5, -2.6)], 0.9),
        _person(2, blue, [(3.2, -2.6), (3.2, 2.6)], 0.9),
        _person(3, yellow, [(4.5, 1.8), (4.5, -1.8)], 0.6, 1.5)])
    pillar = Obstacle((2.6, 0.0, 1.0), (0.6, 0.6, 2.0), (0.5, 0.5, 0.55, 1.0), 'dots')
    occlusion = replace(room, obstacles=[pillar], targets=[
        _person(1, green, [(3.8, 2.5), (3.8, -2.5)], 0.8),
        _person(2, red, [(1.2, -2.0), (1.2, 1.5)], 0.5)])
    wander = replace(room, targets=[
        _person(1, blue, [(3.0, -1.0), (3.0, 1.5), (4.5, 1.5), (4.5, -1.0)], 0.7),
        _person(2, yellow, [(2.0, 2.0), (5.0, -2.5)], 0.6)])
    yard = replace(base_yard, targets=[
        _person(1, yellow, [(6.0, -3.0), (6.0, 3.0)], 1.0),
        _person(2, green, [(8.0, 3.0), (8.0, -3.0)], 0.9),
        Target(3, 'vehicle', Path2D([(12.0, -6.0), (12.0, 6.0)], 2.0), (0.2, 0.2, 0.25, 1.0))])

    return {s.name: s for s in (
        Scenario('crossing', 'three people cross in front of the camera, one behind another',
                 crossing, _still(-2.0, 0.0, 1.4), 6.0),
        Scenario('occlusion', 'a person walks behind a pillar, another in front of it',
                 occlusion, _still(-1.5, 0.0, 1.3), 6.5),
        Scenario('exit_reentry',
                 'the camera pans away and back: both people leave the view and return',
                 wander, _pan(-1.5, 0.0, 1.5, math.radians(70), 6.0), 9.0),
        Scenario('yard', 'two people cross in the yard while a vehicle drives past',
                 yard, _still(1.5, 0.0, 2.0), 6.0))}


def validation_scenarios(base_room: World, base_yard: World) -> dict[str, Scenario]:
    """Scenarios of the same kinds as `scenarios`, with other people, colours, paths and poses.

    They are the data for choosing tracker parameters, so the benchmark's scenarios stay unseen.
    """
    orange, purple, cyan = (0.95, 0.5, 0.1, 1), (0.5, 0.15, 0.6, 1), (0.1, 0.75, 0.8, 1)
    white, magenta, olive = (0.9, 0.9, 0.88, 1), (0.85, 0.2, 0.6, 1), (0.45, 0.45, 0.1, 1)
    room = replace(base_room, obstacles=[])
    overtaking = replace(room, targets=[
        _person(1, orange, [(2.8, -2.4), (2.8, 2.4)], 0.7),
        _person(2, cyan, [(3.6, -2.4), (3.6, 2.4)], 1.1, 0.4),
        _person(3, purple, [(5.0, 1.6), (5.0, -1.6)], 0.5, 1.0)])
    diagonal = replace(room, targets=[
        _person(1, white, [(2.2, -2.0), (4.6, 2.0)], 0.8),
        _person(2, magenta, [(4.6, -2.0), (2.2, 2.0)], 0.8),
        _person(3, olive, [(3.4, 2.2), (3.4, -2.2)], 0.6, 2.0)])
    crate = Obstacle((3.0, 0.6, 0.75), (1.0, 0.5, 1.5), (0.55, 0.35, 0.2, 1.0), 'wood')
    hiding = replace(room, obstacles=[crate], targets=[
        _person(1, cyan, [(4.2, -2.2), (4.2, 2.4)], 0.7),
        _person(2, orange, [(1.8, 2.0), (1.8, -1.8)], 0.6),
        _person(3, magenta, [(5.2, 1.5), (5.2, -1.5)], 0.4, 3.0)])
    strolling = replace(room, targets=[
        _person(1, olive, [(2.5, 1.5), (4.0, -1.5), (5.0, 1.0)], 0.6),
        _person(2, cyan, [(3.5, -2.0), (3.5, 2.0)], 0.5, 1.0)])
    yard = replace(base_yard, targets=[
        _person(1, purple, [(7.0, 3.5), (7.0, -3.5)], 1.1),
        _person(2, white, [(5.0, -2.5), (9.0, 2.5)], 0.8),
        _person(3, orange, [(10.0, 2.0), (10.0, -2.0)], 0.5),
        Target(4, 'vehicle', Path2D([(14.0, 7.0), (14.0, -7.0)], 2.5), (0.75, 0.75, 0.78, 1.0))])
    return {s.name: s for s in (
        Scenario('overtaking', 'a fast person overtakes a slow one; a third walks behind both',
                 overtaking, _still(-1.8, 0.3, 1.5), 6.0),
        Scenario('diagonal',
                 'two people cross diagonally at the same depth, a third passes between',
                 diagonal, _pan(-1.6, 0.0, 1.4, math.radians(15), 8.0), 7.0),
        Scenario('hiding', 'a person walks behind a crate, one in front of it, one far away',
                 hiding, _still(-1.5, -0.2, 1.3, math.radians(5)), 7.0),
        Scenario('look_away',
                 'the camera turns away and back twice: both people leave the view and return',
                 strolling, _pan(-1.8, 0.2, 1.6, math.radians(65), 4.5), 9.0),
        Scenario('yard_walk',
                 'three people and a light vehicle in the yard, the camera turns slowly',
                 yard, _pan(1.0, 0.0, 2.2, math.radians(20), 10.0), 7.0))}


def render_sequence(scenario: Scenario, vehicle: VehicleModel, rate_hz: float = 10.0,
                    width: int = 320, height: int = 240, seed: int = 0) -> Iterator[SequenceFrame]:
    """Render `scenario` at `rate_hz` with per-frame ground truth (camera noise from `seed`)."""
    rng = np.random.default_rng(seed)
    sim = Simulator(scenario.world, vehicle, seed=seed, camera_aspect=height / width)
    renderer = LabelledRenderer(sim, width, height)
    try:
        for frame in range(int(round(scenario.duration_s * rate_hz))):
            t = frame / rate_hz
            place_targets(sim, t)
            renderer.place_camera(scenario.camera(t))
            image, boxes = renderer.render()
            yield SequenceFrame(t, degrade(image, rng, strength=0.3), boxes)
    finally:
        renderer.close()
        sim.close()
