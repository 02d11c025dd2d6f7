"""Draw what the gesture pipeline saw on a frame copy: hands, labels, hold progress, commands."""
from __future__ import annotations

import cv2
import numpy as np

from mmchat_ros.gestures.hand import CONNECTIONS
from mmchat_ros.gestures.pipeline import DYNAMIC, FrameResult, HandGesture, PipelineSettings

_COMMANDING = (0, 220, 0)
_OTHER_HAND = (200, 160, 0)
_TEXT = (255, 255, 255)
_ALERT = (0, 0, 255)


def _hand(image: np.ndarray, gesture: HandGesture, settings: PipelineSettings) -> None:
    points = gesture.hand.pixels().astype(int)
    colour = _COMMANDING if gesture.commanding else _OTHER_HAND
    for a, b in CONNECTIONS:
        cv2.line(image, tuple(points[a]), tuple(points[b]), colour, 2, cv2.LINE_AA)
    for point in points:
        cv2.circle(image, tuple(point), 3, _TEXT, -1, cv2.LINE_AA)
    label = gesture.label or '?'
    text = f'{label} {gesture.confidence:.2f} {gesture.hand.handedness}'.strip()
    x, y = points[:, 0].min(), max(points[:, 1].min() - 10, 15)
    cv2.putText(image, text, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2,
                cv2.LINE_AA)
    hold_s = settings.dynamic_hold_s if gesture.kind == DYNAMIC else settings.static_hold_s
    if gesture.commanding and gesture.label and hold_s > 0:
        progress = min(gesture.held_s / hold_s, 1.0)
        cv2.rectangle(image, (int(x), int(y) + 4), (int(x) + int(100 * progress), int(y) + 9),
                      _ALERT if gesture.triggered else colour, -1)


def annotate(bgr: np.ndarray, result: FrameResult, settings: PipelineSettings,
             command_text: str | None = None) -> np.ndarray:
    """A copy of `bgr` with the hands of `result`, its problem and `command_text` drawn on it."""
    image = np.ascontiguousarray(bgr).copy()
    for gesture in result.hands:
        _hand(image, gesture, settings)
    lines = [(result.problem, _ALERT)] if result.problem else []
    if command_text:
        lines.append((command_text, _ALERT))
    for i, (text, colour) in enumerate(lines):
        cv2.putText(image, text, (10, 25 + 25 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2,
                    cv2.LINE_AA)
    return image
