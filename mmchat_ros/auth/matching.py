"""Matching faces against the enrolled operators, one frame at a time and over several frames.

Each operator's template is the mean of their enrolled embeddings (steadier than the nearest single
image: fewer false accepts at the same false-reject rate). A face matches the nearest template
within `threshold` (Euclidean distance of dlib embeddings).
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from mmchat_ros.auth.faces import Face


@dataclass(frozen=True)
class FrameMatch:
    """One frame's verdict: the operator recognised (or None), the distance and why."""

    operator: str | None
    distance: float | None
    reason: str


class FaceGallery:
    """The enrolled operators' face templates."""

    def __init__(self, embeddings: Mapping[str, np.ndarray], threshold: float) -> None:
        self.threshold = threshold
        self.names = sorted(embeddings)
        self.templates = (np.stack([np.asarray(embeddings[n], np.float32).reshape(-1, 128).mean(0)
                                    for n in self.names]) if self.names else np.zeros((0, 128)))

    def distances(self, embedding: np.ndarray) -> np.ndarray:
        """Distance of `embedding` to every template, in the order of `names`."""
        return np.linalg.norm(self.templates - np.asarray(embedding, np.float32), axis=1)

    def match_embedding(self, embedding: np.ndarray) -> FrameMatch:
        """The nearest operator within the threshold."""
        if not self.names:
            return FrameMatch(None, None, 'no operator enrolled (empty store)')
        distances = self.distances(embedding)
        best = int(np.argmin(distances))
        distance = float(distances[best])
        if distance > self.threshold:
            return FrameMatch(None, distance, f'unknown face (nearest {self.names[best]} at '
                              f'{distance:.3f} > {self.threshold:.3f})')
        return FrameMatch(self.names[best], distance, f'{self.names[best]} at {distance:.3f}')

    def match_faces(self, faces: list[Face]) -> FrameMatch:
        """A frame's faces: exactly one face is needed to decide."""
        if not faces:
            return FrameMatch(None, None, 'no face found')
        if len(faces) > 1:
            return FrameMatch(None, None, f'{len(faces)} faces in view (one operator at a time)')
        return self.match_embedding(faces[0].embedding)


class FrameVoter:
    """The decision over the last `window` frames.

    An operator is recognised when at least `required` of them matched that operator and none
    matched anyone else.
    """

    def __init__(self, window: int = 5, required: int = 3) -> None:
        if not 1 <= required <= window:
            raise ValueError('need 1 <= required <= window')
        self.required = required
        self._frames: deque[FrameMatch] = deque(maxlen=window)

    def add(self, match: FrameMatch) -> FrameMatch:
        """Add a frame; returns the current decision (operator None until it is clear)."""
        self._frames.append(match)
        votes = Counter(m.operator for m in self._frames if m.operator is not None)
        if len(votes) > 1:
            return FrameMatch(None, None, 'different operators in recent frames: '
                              + ', '.join(sorted(votes)))
        if votes:
            operator, count = votes.most_common(1)[0]
            distances = [m.distance for m in self._frames if m.operator == operator]
            if count >= self.required:
                return FrameMatch(operator, float(np.median(distances)),
                                  f'{operator} in {count} of the last {len(self._frames)} frames')
            return FrameMatch(None, None, f'{operator} in only {count} of {self.required} '
                              'frames needed')
        return FrameMatch(None, None, match.reason)

    def reset(self) -> None:
        """Forget the frames seen so far."""
        self._frames.clear()
