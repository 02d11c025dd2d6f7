"""Frames in, gestures and command requests out: detector, classifiers, hold filter and mapping.

Per frame: find the hands; more than `max_hands` (e.g. two people's hands) -> the frame is ignored.
The nearest hand (largest on screen) commands. Its shape is classified; while it points, its index
fingertip's path is classified too, and a confident path gesture other than `stop` (circle, swipe,
move) wins over the shape, so drawing a circle never counts as holding `pointing`. The hold filter
then decides when the gesture counts, and the mapping what it asks for.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from mmchat_ros.control.commands import CommandRequest
from mmchat_ros.gestures import static_gestures
from mmchat_ros.gestures.dynamic_gestures import STILL, DynamicGestureClassifier, PointHistory
from mmchat_ros.gestures.features import mirror_points, pointing_direction
from mmchat_ros.gestures.hand import INDEX_TIP, Hand
from mmchat_ros.gestures.hysteresis import Candidate, HoldFilter
from mmchat_ros.gestures.mapping import GestureMapping
from mmchat_ros.gestures.mlp import Prediction
from mmchat_ros.gestures.static_gestures import StaticGestureClassifier

STATIC, DYNAMIC = 'static', 'dynamic'


class Detector(Protocol):
    """Anything that finds hands in a BGR frame (HandDetector, or a stand-in in tests)."""

    def detect(self, bgr: np.ndarray) -> list[Hand]: ...


@dataclass(frozen=True)
class PipelineSettings:
    """Thresholds and timing; see the gesture node's parameters."""

    max_hands: int = 1
    static_min_confidence: float = 0.8
    dynamic_min_confidence: float = 0.8
    static_hold_s: float = 0.5
    dynamic_hold_s: float = 0.2
    max_gap_s: float = 0.15
    path_window_s: float = 0.5
    image_mirrored: bool = False

    def problem(self) -> str | None:
        """Why these settings cannot work, or None."""
        if self.max_hands < 1:
            return f'max_hands must be at least 1, got {self.max_hands}'
        for name in ('static_min_confidence', 'dynamic_min_confidence'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                return f'{name} must be in [0, 1], got {getattr(self, name)}'
        for name in ('static_hold_s', 'dynamic_hold_s', 'max_gap_s'):
            if not getattr(self, name) >= 0.0:
                return f'{name} cannot be negative, got {getattr(self, name)}'
        if not self.path_window_s > 0.0:
            return f'path_window_s must be positive, got {self.path_window_s}'
        return None


@dataclass(frozen=True)
class HandGesture:
    """One hand and what it shows. `label` is None when nothing is shown confidently."""

    hand: Hand
    shape: Prediction
    label: str | None
    kind: str
    confidence: float
    held_s: float = 0.0
    triggered: bool = False
    commanding: bool = False


@dataclass(frozen=True)
class FrameResult:
    """What one frame gave.

    Hands, a command request when a gesture just counted (and that gesture's label), a problem.
    """

    hands: tuple[HandGesture, ...] = ()
    request: CommandRequest | None = None
    problem: str | None = None
    request_gesture: str = ''    # the gesture that made `request`


class GesturePipeline:
    """Stateful per-camera gesture recogniser; call process() with frames in time order."""

    def __init__(self, detector: Detector, shapes: StaticGestureClassifier,
                 paths: DynamicGestureClassifier, mapping: GestureMapping,
                 settings: PipelineSettings) -> None:
        problem = settings.problem()
        if problem:
            raise ValueError(problem)
        self.detector = detector
        self.mapping = mapping
        self.settings = settings
        self._shapes = shapes
        self._paths = paths
        self._filter = HoldFilter(
            lambda kind: settings.dynamic_hold_s if kind == DYNAMIC else settings.static_hold_s,
            settings.max_gap_s)
        self._history = PointHistory(settings.path_window_s, settings.max_gap_s)
        self._last_t: float | None = None

    def reset(self) -> None:
        """Forget the current hold and fingertip path."""
        self._filter.reset()
        self._history.clear()

    def process(self, bgr: np.ndarray, t: float) -> FrameResult:
        """Detect and interpret the hands of a BGR frame captured at time `t` (seconds)."""
        return self.process_hands(self.detector.detect(bgr), t)

    def process_hands(self, hands: list[Hand], t: float) -> FrameResult:
        """Interpret detected hands seen at time `t` (seconds)."""
        if self._last_t is not None and t < self._last_t:
            self.reset()
        self._last_t = t
        if len(hands) > self.settings.max_hands:
            self._nothing(t)
            return FrameResult(problem=f'{len(hands)} hands in view, max_hands is '
                                       f'{self.settings.max_hands}: frame ignored')
        if not hands:
            self._nothing(t)
            return FrameResult()
        commander = max(hands, key=Hand.box_area)
        results = []
        for hand in hands:
            if hand is commander:
                results.append(self._command_hand(hand, t))
            else:
                shape = self._shapes.classify(hand.pixels())
                label = shape.label if self._shape_counts(shape) else None
                results.append(HandGesture(hand, shape, label, STATIC, shape.confidence))
        index = next(i for i, r in enumerate(results) if r.commanding)
        shown = results[index]
        hold = self._filter.update(t, Candidate(shown.label, shown.kind, shown.confidence)
                                   if shown.label else None)
        request = None
        if hold.fired:
            request = self.mapping.request(hold.label, self._pointing(commander))
        if shown.label:
            results[index] = replace(shown, held_s=hold.held_s, triggered=hold.triggered)
        return FrameResult(tuple(results), request, request_gesture=hold.label if request else '')

    def _nothing(self, t: float) -> None:
        self._history.clear()
        self._filter.update(t, None)

    def _shape_counts(self, shape: Prediction) -> bool:
        return (shape.label != static_gestures.OTHER
                and shape.confidence >= self.settings.static_min_confidence)

    def _command_hand(self, hand: Hand, t: float) -> HandGesture:
        """The commanding hand's gesture: its path gesture while it points and moves, else shape."""
        shape = self._shapes.classify(hand.pixels())
        confident = self._shape_counts(shape)
        if shape.label != 'pointing' and (confident or not self._history.active):
            self._history.clear()
            return HandGesture(hand, shape, shape.label if confident else None, STATIC,
                               shape.confidence, commanding=True)
        # Pointing, or unsure while a path is being drawn (motion blur): follow the fingertip.
        tip = hand.landmarks[INDEX_TIP, :2]
        self._history.add(t, tip if self.settings.image_mirrored else mirror_points(tip))
        motion = self._paths.classify(self._history.path())
        if motion.confidence < self.settings.dynamic_min_confidence:
            return HandGesture(hand, shape, None, DYNAMIC, motion.confidence, commanding=True)
        if motion.label != STILL:
            return HandGesture(hand, shape, motion.label, DYNAMIC, motion.confidence,
                               commanding=True)
        return HandGesture(hand, shape, shape.label if confident else None, STATIC,
                           shape.confidence, commanding=True)

    def _pointing(self, hand: Hand) -> np.ndarray | None:
        """The index finger's direction in raw camera image axes, or None."""
        direction = pointing_direction(hand.pixels())
        if direction is not None and self.settings.image_mirrored:
            direction = mirror_points(direction)
        return direction
