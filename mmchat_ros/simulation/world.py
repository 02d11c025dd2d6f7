"""World descriptions for the built-in simulator: room or yard, obstacles, moving targets.

ROS-free. A world file (sim/worlds/*.yaml) names the arena, static obstacles and targets ("person"
figures with a shirt colour, "vehicle" boxes) that follow scripted paths.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from pathlib import Path

import numpy as np
import yaml

TARGET_KINDS = ('person', 'vehicle')


class WorldError(ValueError):
    """A world file that is missing or malformed."""


@dataclass(frozen=True)
class Obstacle:
    """A static box (position = centre, size = full extents, metres)."""

    position_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    rgba: tuple[float, float, float, float] = (0.6, 0.6, 0.6, 1.0)
    texture: str = ''


class Path2D:
    """A closed path on the ground travelled at constant speed: waypoints (looped) or a circle."""

    def __init__(self, points: list[tuple[float, float]], speed_mps: float, phase_s: float = 0.0):
        if len(points) < 2 or speed_mps < 0:
            raise WorldError('a path needs at least two points and a non-negative speed')
        closed = np.array(points + [points[0]], dtype=float)
        segments = np.diff(closed, axis=0)
        self._points = closed
        self._lengths = np.hypot(segments[:, 0], segments[:, 1])
        self._cumulative = np.concatenate([[0.0], np.cumsum(self._lengths)])
        self.speed_mps = speed_mps
        self.phase_s = phase_s

    @classmethod
    def circle(cls, centre: tuple[float, float], radius_m: float, speed_mps: float,
               clockwise: bool = False, phase_s: float = 0.0, segments: int = 72) -> 'Path2D':
        """A circle approximated by `segments` straight pieces."""
        sign = -1.0 if clockwise else 1.0
        points = [(centre[0] + radius_m * math.cos(sign * 2 * math.pi * i / segments),
                   centre[1] + radius_m * math.sin(sign * 2 * math.pi * i / segments))
                  for i in range(segments)]
        return cls(points, speed_mps, phase_s)

    def pose(self, time_s: float) -> tuple[np.ndarray, float, np.ndarray]:
        """(x, y) position, heading (rad, REP-103) and (vx, vy) velocity at `time_s`."""
        total = self._cumulative[-1]
        s = (self.speed_mps * (time_s + self.phase_s)) % total if total > 0 else 0.0
        i = int(np.searchsorted(self._cumulative, s, side='right') - 1)
        i = min(i, len(self._lengths) - 1)
        direction = (self._points[i + 1] - self._points[i]) / max(self._lengths[i], 1e-9)
        position = self._points[i] + direction * (s - self._cumulative[i])
        return position, math.atan2(direction[1], direction[0]), direction * self.speed_mps


@dataclass(frozen=True)
class Target:
    """A moving figure the perception stack should find and track."""

    target_id: int
    kind: str
    path: Path2D
    rgba: tuple[float, float, float, float]


@dataclass
class World:
    """The arena, obstacles and targets of one world file."""

    name: str
    kind: str                                  # "room" (walls and ceiling) or "yard" (open)
    size_m: tuple[float, float, float]         # x, y extents and height (walls)
    obstacles: list[Obstacle] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    home_m: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def from_yaml(cls, path: str | Path) -> 'World':
        """Read a world file (see sim/worlds/)."""
        try:
            doc = yaml.safe_load(Path(path).read_text())
            world = cls(name=str(doc['name']), kind=str(doc.get('kind', 'room')),
                        size_m=tuple(float(v) for v in doc['size_m']),
                        obstacles=[_obstacle(o) for o in doc.get('obstacles') or []],
                        targets=[_target(t) for t in doc.get('targets') or []],
                        home_m=tuple(float(v) for v in doc.get('home_m', (0.0, 0.0, 0.0))))
        except OSError as exc:
            raise WorldError(f'cannot read world file {path}: {exc.strerror}') from exc
        except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
            raise WorldError(f'world file {path} is malformed: {exc!r}') from exc
        if world.kind not in ('room', 'yard'):
            raise WorldError(f"world kind must be 'room' or 'yard', got '{world.kind}'")
        return world


def _obstacle(doc: dict) -> Obstacle:
    return Obstacle(position_m=tuple(float(v) for v in doc['position_m']),
                    size_m=tuple(float(v) for v in doc['size_m']),
                    rgba=tuple(float(v) for v in doc.get('rgba', (0.6, 0.6, 0.6, 1.0))),
                    texture=str(doc.get('texture', '')))


def _target(doc: dict) -> Target:
    kind = str(doc['kind'])
    if kind not in TARGET_KINDS:
        raise WorldError(f"target kind must be one of {TARGET_KINDS}, got '{kind}'")
    path = doc['path']
    speed = float(path['speed_mps'])
    phase = float(path.get('phase_s', 0.0))
    if 'radius_m' in path:
        route = Path2D.circle(tuple(path['centre']), float(path['radius_m']), speed,
                              bool(path.get('clockwise', False)), phase)
    else:
        route = Path2D([tuple(p) for p in path['points']], speed, phase)
    return Target(target_id=int(doc['id']), kind=kind, path=route,
                  rgba=tuple(float(v) for v in doc.get('rgba', (0.8, 0.2, 0.2, 1.0))))
