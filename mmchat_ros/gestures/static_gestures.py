"""Hand shape classifier: landmarks -> open_palm, fist, pointing, v_sign, thumbs_up, thumbs_down.

`other` is a class of its own (hand shapes that are none of the six) and never counts as a gesture.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mmchat_ros.gestures.features import static_features
from mmchat_ros.gestures.mlp import Mlp, Prediction
from mmchat_ros.gestures.model_files import ModelFileError

GESTURES: tuple[str, ...] = ('open_palm', 'fist', 'pointing', 'v_sign', 'thumbs_up',
                             'thumbs_down')
OTHER = 'other'
LABELS: tuple[str, ...] = GESTURES + (OTHER,)
FEATURES = 'static-v1'      # features.static_features


class StaticGestureClassifier:
    """Classifies one hand's landmarks with a trained Mlp."""

    def __init__(self, model: Mlp) -> None:
        unknown = set(model.labels) - set(LABELS)
        if unknown:
            raise ModelFileError(f'static classifier has unknown labels {sorted(unknown)}')
        self.model = model

    @classmethod
    def from_file(cls, path: str | Path) -> 'StaticGestureClassifier':
        """Load a model file (ModelFileError when it is missing or not a static model)."""
        return cls(Mlp.load(path, FEATURES))

    def classify(self, points: np.ndarray) -> Prediction:
        """The hand shape of (21, 2) landmarks in an isotropic unit (pixels)."""
        return self.model.predict(static_features(points))

    def classify_many(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (N,) and probabilities (N, classes) of many hands (N, 21, 2)."""
        probabilities = self.model.probabilities(np.array([static_features(p) for p in points]))
        return np.array(self.model.labels)[probabilities.argmax(axis=1)], probabilities
