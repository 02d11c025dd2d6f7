"""The real training and evaluation data: keypoint.csv, point_history.csv and the hand photos.

Training (models/gesture/train.py) and the benchmark use the same deterministic, stratified split,
so the benchmark's held-out rows were never seen in training.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: CSV class names (keypoint_labels.csv, point_history_labels.csv) -> gesture labels.
CSV_NAMES = {'Open': 'open_palm', 'Close': 'fist', 'Pointer': 'pointing', 'Stop': 'stop',
             'Clockwise': 'clockwise', 'Counter Clockwise': 'counter_clockwise', 'Move': 'move'}
#: Labels swapped by a left-right mirror (the others keep theirs).
MIRRORED_LABELS = {'clockwise': 'counter_clockwise', 'counter_clockwise': 'clockwise',
                   'swipe_left': 'swipe_right', 'swipe_right': 'swipe_left'}
#: A fingertip step longer than this (image widths/heights) is a recorder dropout, not motion: the
#: recorder wrote (0, 0) for a missing fingertip, which shows up as a jump to -first point.
DROPOUT_STEP = 0.3
TEST_FRACTION = 0.2
SPLIT_SEED = 0


class DatasetError(ValueError):
    """A data file that is missing or not in the expected format."""


@dataclass(frozen=True)
class Labelled:
    """Samples (N, ...) with their labels (N,)."""

    samples: np.ndarray
    labels: np.ndarray

    def subset(self, index: np.ndarray) -> 'Labelled':
        """The samples at `index`."""
        return Labelled(self.samples[index], self.labels[index])

    def __len__(self) -> int:
        return len(self.labels)


def _read_rows(csv_path: Path, labels_path: Path, width: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        names = [line.strip() for line in labels_path.read_text().splitlines() if line.strip()]
        table = np.loadtxt(csv_path, delimiter=',', ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f'cannot read {csv_path} / {labels_path}: {exc}') from exc
    if table.shape[1] != width + 1:
        raise DatasetError(f'{csv_path}: expected {width + 1} columns, found {table.shape[1]}')
    unknown = [n for n in names if n not in CSV_NAMES]
    if unknown:
        raise DatasetError(f'{labels_path}: unknown class names {unknown}')
    ids = table[:, 0].astype(int)
    if ids.min() < 0 or ids.max() >= len(names):
        raise DatasetError(f'{csv_path}: class ids outside 0..{len(names) - 1}')
    return table[:, 1:], np.array([CSV_NAMES[names[i]] for i in ids])


def load_keypoints(folder: Path) -> Labelled:
    """keypoint.csv: (N, 21, 2) wrist-relative, max-normalised landmarks and their labels."""
    values, labels = _read_rows(folder / 'keypoint.csv', folder / 'keypoint_labels.csv', 42)
    return Labelled(values.reshape(-1, 21, 2), labels)


def load_point_history(folder: Path, drop_dropouts: bool = True) -> Labelled:
    """point_history.csv: (N, 16, 2) fingertip paths.

    Without the rows that hold recorder dropouts, unless `drop_dropouts` is false.
    """
    values, labels = _read_rows(folder / 'point_history.csv',
                                folder / 'point_history_labels.csv', 32)
    data = Labelled(values.reshape(-1, 16, 2), labels)
    return data.subset(~has_dropout(data.samples)) if drop_dropouts else data


def has_dropout(paths: np.ndarray) -> np.ndarray:
    """(N,) bool: paths with a step longer than DROPOUT_STEP."""
    return np.linalg.norm(np.diff(paths, axis=1), axis=2).max(axis=1) > DROPOUT_STEP


def split(data: Labelled, test_fraction: float = TEST_FRACTION,
          seed: int = SPLIT_SEED) -> tuple[Labelled, Labelled]:
    """Stratified (train, test) split: the same rows for the same data, fraction and seed."""
    rng = np.random.default_rng(seed)
    test = []
    for label in sorted(set(data.labels)):
        rows = np.flatnonzero(data.labels == label)
        test.extend(rng.permutation(rows)[:round(len(rows) * test_fraction)])
    is_test = np.zeros(len(data), bool)
    is_test[test] = True
    return data.subset(~is_test), data.subset(is_test)


def mirrored(data: Labelled) -> Labelled:
    """Left-right mirrored copies (x -> -x) with labels swapped where the mirror swaps them."""
    samples = data.samples.copy()
    samples[..., 0] = -samples[..., 0]
    return Labelled(samples, np.array([MIRRORED_LABELS.get(str(label), str(label))
                                       for label in data.labels]))


def concatenate(*parts: Labelled) -> Labelled:
    """One dataset from several."""
    return Labelled(np.concatenate([p.samples for p in parts]),
                    np.concatenate([p.labels for p in parts]))


@dataclass(frozen=True)
class HandPhoto:
    """One row of hands/labels.csv."""

    path: Path
    open_fingers: int
    box: tuple[int, int, int, int]    # xmin, ymin, xmax, ymax in pixels


#: Open-finger count of the photos -> the gesture they show (3 and 4 fingers are none of ours).
PHOTO_GESTURES = {0: 'fist', 1: 'pointing', 2: 'v_sign', 5: 'open_palm'}


def load_hand_photos(folder: Path) -> list[HandPhoto]:
    """The photos of hands/ with their open-finger counts."""
    try:
        with open(folder / 'labels.csv', newline='') as f:
            rows = list(csv.DictReader(f))
        return [HandPhoto(folder / r['filename'], int(r['open_fingers']),
                          (int(r['xmin']), int(r['ymin']), int(r['xmax']), int(r['ymax'])))
                for r in rows]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f'cannot read {folder / "labels.csv"}: {exc}') from exc
