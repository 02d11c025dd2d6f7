"""A small multilayer perceptron in numpy, stored as .npz without pickle.

The file holds the standardisation (`mean`, `scale`), the layers (`weight_0`, `bias_0`, ...; ReLU
between them, softmax at the end), the class `labels` and a `features` tag naming the feature
function the model was trained on, so a model given to the wrong classifier is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import zipfile

import numpy as np

from mmchat_ros.gestures.model_files import ModelFileError


@dataclass(frozen=True)
class Prediction:
    """The most probable class and its probability."""

    label: str
    confidence: float


@dataclass(frozen=True)
class Mlp:
    """Standardise, dense ReLU layers, softmax."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    mean: np.ndarray
    scale: np.ndarray
    labels: tuple[str, ...]
    features: str

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(N, classes) probabilities for feature rows x (N, features)."""
        h = (np.atleast_2d(x) - self.mean) / self.scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        h = np.exp(h - h.max(axis=1, keepdims=True))
        return h / h.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> Prediction:
        """The best class of one feature row."""
        p = self.probabilities(x)[0]
        best = int(np.argmax(p))
        return Prediction(self.labels[best], float(p[best]))

    def save(self, path: Path) -> None:
        """Write the model as .npz (arrays and strings only)."""
        layers = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            layers[f'weight_{i}'] = w.astype(np.float32)
            layers[f'bias_{i}'] = b.astype(np.float32)
        np.savez_compressed(path, mean=self.mean.astype(np.float32),
                            scale=self.scale.astype(np.float32), labels=np.array(self.labels),
                            features=np.array(self.features), **layers)

    @classmethod
    def load(cls, path: str | Path, features: str) -> 'Mlp':
        """Read a model trained on `features`; ModelFileError with the reason otherwise."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f'classifier file {path} does not exist')
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f'classifier file {path} is not a readable .npz: {exc}') from exc
        try:
            model = cls._from_arrays(arrays)
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f'classifier file {path} is malformed: {exc}') from exc
        if model.features != features:
            raise ModelFileError(f"classifier file {path} was trained on '{model.features}' "
                                 f"features, this classifier needs '{features}'")
        return model

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray]) -> 'Mlp':
        count = sum(1 for k in arrays if k.startswith('weight_'))
        if count == 0:
            raise ValueError('no layers')
        weights = tuple(arrays[f'weight_{i}'].astype(float) for i in range(count))
        biases = tuple(arrays[f'bias_{i}'].astype(float) for i in range(count))
        mean, scale = arrays['mean'].astype(float), arrays['scale'].astype(float)
        labels = tuple(str(label) for label in arrays['labels'])
        width = mean.shape[0]
        for w, b in zip(weights, biases):
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                raise ValueError(f'layer shapes do not chain: {w.shape} after width {width}')
            width = w.shape[1]
        if scale.shape != mean.shape or width != len(labels):
            raise ValueError(f'{len(labels)} labels for {width} outputs, or bad mean/scale')
        if not all(np.isfinite(a).all() for a in (*weights, *biases, mean, scale)) or \
                (scale <= 0).any():
            raise ValueError('non-finite weights or non-positive scales')
        return cls(weights, biases, mean, scale, labels, str(arrays['features']))
