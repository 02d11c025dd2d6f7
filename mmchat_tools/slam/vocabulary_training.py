"""Training DBoW2 vocabularies of ORB descriptors, written in ORB-SLAM3's text format (ROS-free).

A vocabulary is a tree of k-medians clusters of binary ORB descriptors, L levels deep (hierarchical
k-means with k-means++ seeds and bit-majority centres, as DBoW2 builds it); its leaves are the
words, weighted by inverse document frequency (TF-IDF weighting, L1 scoring). The format and the
checks before ORB-SLAM3 loads a file are in mmchat_ros.slam.vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass
import gzip
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from mmchat_ros.slam.vocabulary import (DESCRIPTOR_BYTES, L1_NORM, ORB_SLAM3_LEVELS_UP, TF_IDF,
                                        VocabularyError)

DEFAULT_K = 10
DEFAULT_L = ORB_SLAM3_LEVELS_UP + 2


@dataclass
class Vocabulary:
    """A vocabulary tree.

    Node 0 is the root; every node's parent has a smaller index (as DBoW2 needs).
    """

    k: int
    levels: int
    parents: np.ndarray          # (n,) int64, parents[0] = -1
    descriptors: np.ndarray      # (n, 32) uint8, row 0 unused (the root has none)
    weights: np.ndarray          # (n,) float64: idf for leaves, 0 for inner nodes
    is_leaf: np.ndarray          # (n,) bool

    @property
    def words(self) -> int:
        """Number of leaves."""
        return int(self.is_leaf.sum())

    def write_text(self, path: str | Path) -> None:
        """Write ORB-SLAM3's text format; gzip-compressed when the name ends in .gz.

        No newline after the last node: DBoW2 would read an empty line as one more node.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f'{self.k} {self.levels} {L1_NORM} {TF_IDF}'
        opener = gzip.open if path.suffix == '.gz' else open
        tmp = path.with_name(path.name + '.part')
        with opener(tmp, 'wt', encoding='ascii') as f:
            f.write(header)
            for chunk in _node_lines(self, 20000):
                f.write('\n')
                f.write('\n'.join(chunk))
        tmp.replace(path)


def _node_lines(vocab: Vocabulary, chunk: int) -> Iterator[list[str]]:
    for start in range(1, len(vocab.parents), chunk):
        stop = min(start + chunk, len(vocab.parents))
        lines = []
        for i in range(start, stop):
            d = ' '.join(map(str, vocab.descriptors[i].tolist()))
            lines.append(f'{vocab.parents[i]} {int(vocab.is_leaf[i])} {d} {vocab.weights[i]:.6g}')
        yield lines


def hamming_to(bits: np.ndarray, centres_bits: np.ndarray) -> np.ndarray:
    """Hamming distances (n, m) between unpacked bit rows (n, 256) and (m, 256), as float32."""
    a = bits.astype(np.float32, copy=False)
    c = centres_bits.astype(np.float32, copy=False)
    return a.sum(1, keepdims=True) + c.sum(1)[None, :] - 2.0 * (a @ c.T)


def _kmeans(bits: np.ndarray, k: int, rng: np.random.Generator, max_iterations: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """k-medians of binary vectors (float32 0/1 rows): k-means++ seeds, bit-majority centres.

    Returns (centres as uint8 0/1 rows, labels).
    """
    n = len(bits)
    centres = [bits[rng.integers(n)]]
    closest = hamming_to(bits, centres[0][None])[:, 0]
    while len(centres) < k:
        weights = closest.astype(np.float64) ** 2
        total = weights.sum()
        if total <= 0:                     # fewer distinct descriptors than k
            break
        pick = bits[rng.choice(n, p=weights / total)]
        centres.append(pick)
        closest = np.minimum(closest, hamming_to(bits, pick[None])[:, 0])
    centres_arr = np.array(centres, dtype=np.float32)
    labels = np.full(n, -1)
    for _ in range(max_iterations):
        new_labels = hamming_to(bits, centres_arr).argmin(1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        one_hot = np.zeros((n, len(centres_arr)), np.float32)
        one_hot[np.arange(n), labels] = 1.0
        counts = one_hot.sum(0)
        keep = counts > 0
        sums = one_hot.T @ bits                       # bits set per cluster (exact in float32)
        centres_arr = (2 * sums[keep] > counts[keep, None]).astype(np.float32)
        if not keep.all():
            labels = np.cumsum(keep)[labels] - 1
    return centres_arr.astype(np.uint8), labels


def train(descriptors: np.ndarray, image_ids: np.ndarray, k: int = DEFAULT_K,
          levels: int = DEFAULT_L, seed: int = 0, max_iterations: int = 10,
          progress: Callable[[int], None] | None = None) -> Vocabulary:
    """Build a vocabulary from ORB descriptors (n, 32) uint8 and the training image of each.

    `progress(n)` is called with the number of descriptors that reached their leaf.
    """
    if not 2 <= k <= 20 or not 1 <= levels <= 10:
        raise VocabularyError(f'k must be 2..20 and L 1..10 (DBoW2 limits), got k={k} L={levels}')
    descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
    if descriptors.ndim != 2 or descriptors.shape[1] != DESCRIPTOR_BYTES or len(descriptors) < k:
        raise VocabularyError(f'need at least k={k} ORB descriptors of {DESCRIPTOR_BYTES} bytes, '
                              f'got an array of shape {descriptors.shape}')
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(descriptors, axis=1).astype(np.float32)
    parents, node_bits = [-1], [np.zeros(bits.shape[1], np.uint8)]
    leaf_of = np.zeros(len(bits), np.int64)
    # depth first, so descriptors reach their leaves (and the progress bar moves) steadily
    stack: list[tuple[int, np.ndarray, int]] = [(0, np.arange(len(bits)), 1)]
    while stack:
        node, members, level = stack.pop()
        if len(members) <= k:              # DBoW2: one cluster per descriptor
            centres, labels = bits[members], np.arange(len(members))
        else:
            centres, labels = _kmeans(bits[members], k, rng, max_iterations)
        for c in range(len(centres)):
            child = len(parents)
            parents.append(node)
            node_bits.append(centres[c])
            child_members = members[labels == c]
            leaf_of[child_members] = child
            if level < levels and len(child_members) > 1:
                stack.append((child, child_members, level + 1))
            elif progress is not None:
                progress(len(child_members))
    parents_arr = np.array(parents, dtype=np.int64)
    is_leaf = np.ones(len(parents_arr), bool)
    is_leaf[parents_arr[1:]] = False
    weights = _idf(leaf_of, np.asarray(image_ids), len(parents_arr))
    return Vocabulary(k=k, levels=levels, parents=parents_arr,
                      descriptors=np.packbits(np.array(node_bits, dtype=np.uint8), axis=1),
                      weights=np.where(is_leaf, weights, 0.0), is_leaf=is_leaf)


def _idf(leaf_of: np.ndarray, image_ids: np.ndarray, n_nodes: int) -> np.ndarray:
    """log(N / n_i): N training images, n_i of them with word i (DBoW2's TF-IDF word weight)."""
    images = len(np.unique(image_ids))
    pairs = np.unique(np.stack([leaf_of, image_ids]), axis=1)
    documents = np.bincount(pairs[0], minlength=n_nodes)
    with np.errstate(divide='ignore'):
        return np.where(documents > 0, np.log(images / np.maximum(documents, 1)), 0.0)


def orb_descriptors(images: Iterable[np.ndarray], n_features: int = 1000, scale_factor: float = 1.2,
                    n_levels: int = 8, fast_threshold: int = 20
                    ) -> tuple[np.ndarray, np.ndarray]:
    """ORB descriptors of each image, and the image id of each.

    OpenCV's ORB computes them: the rBRIEF pattern ORB-SLAM3 uses.
    """
    import cv2

    orb = cv2.ORB_create(nfeatures=n_features, scaleFactor=scale_factor, nlevels=n_levels,
                         edgeThreshold=19, patchSize=31, fastThreshold=fast_threshold)
    found, ids = [], []
    for index, image in enumerate(images):
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        _, desc = orb.detectAndCompute(grey, None)
        if desc is not None and len(desc):
            found.append(desc)
            ids.append(np.full(len(desc), index))
    if not found:
        raise VocabularyError('no ORB features in the training images (blank or tiny images?)')
    return np.concatenate(found), np.concatenate(ids)
