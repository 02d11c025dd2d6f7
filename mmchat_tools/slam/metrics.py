"""Trajectory evaluation (ROS-free): timestamp association, Sim(3)/SE(3) Umeyama alignment, ATE."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmchat_ros.slam.poses import Trajectory


def umeyama(source: np.ndarray, target: np.ndarray, with_scale: bool = True
            ) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) minimising sum |target - (s R source + t)|^2 over corresponding rows (n, 3)."""
    source, target = np.asarray(source, float), np.asarray(target, float)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 3 or len(source) < 3:
        raise ValueError(f'need two (n>=3, 3) point sets, got {source.shape} and {target.shape}')
    mu_s, mu_t = source.mean(0), target.mean(0)
    xs, xt = source - mu_s, target - mu_t
    covariance = xt.T @ xs / len(source)
    u, d, vt = np.linalg.svd(covariance)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    variance = (xs ** 2).sum() / len(source)
    scale = float(np.trace(np.diag(d) @ sign) / variance) if with_scale and variance > 0 else 1.0
    return scale, rotation, mu_t - scale * rotation @ mu_s


def associate(first: np.ndarray, second: np.ndarray, max_difference_s: float = 0.01
              ) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) pairing each time of `first` with the nearest of `second` within the limit."""
    second = np.asarray(second, float)
    if not len(first) or not len(second):
        return np.zeros(0, int), np.zeros(0, int)
    first = np.asarray(first, float)
    order = np.argsort(second)
    sorted_second = second[order]
    position = np.searchsorted(sorted_second, first)
    below = np.clip(position - 1, 0, len(second) - 1)
    above = np.clip(position, 0, len(second) - 1)
    nearest = np.where(np.abs(first - sorted_second[below]) <= np.abs(sorted_second[above] - first),
                       below, above)
    keep = np.abs(sorted_second[nearest] - first) <= max_difference_s
    return np.flatnonzero(keep), order[nearest[keep]]


@dataclass(frozen=True)
class AteResult:
    """Absolute trajectory error of an estimate after alignment to ground truth."""

    rmse_m: float
    mean_m: float
    max_m: float
    path_length_m: float          # of the ground truth over the matched poses
    scale: float                  # ground-truth metres per estimate unit (1 for SE(3))
    matched: int
    aligned: np.ndarray           # (matched, 3) estimate positions after alignment
    reference: np.ndarray         # (matched, 3) ground-truth positions

    @property
    def rmse_percent(self) -> float:
        """RMSE as a percentage of the path length."""
        return 100.0 * self.rmse_m / self.path_length_m if self.path_length_m > 0 else float('nan')


def ate(estimate: Trajectory, truth: Trajectory, with_scale: bool = True,
        max_difference_s: float = 0.01) -> AteResult:
    """ATE of `estimate` against `truth` after Sim(3) (or SE(3)) alignment of matched positions."""
    i, j = associate(estimate.times, truth.times, max_difference_s)
    if len(i) < 3:
        raise ValueError(f'only {len(i)} estimated poses match ground-truth times; need 3')
    est, ref = estimate.positions[i], truth.positions[j]
    scale, rotation, translation = umeyama(est, ref, with_scale)
    aligned = scale * est @ rotation.T + translation
    errors = np.linalg.norm(aligned - ref, axis=1)
    return AteResult(rmse_m=float(np.sqrt((errors ** 2).mean())), mean_m=float(errors.mean()),
                     max_m=float(errors.max()),
                     path_length_m=float(np.linalg.norm(np.diff(ref, axis=0), axis=1).sum()),
                     scale=scale, matched=len(i), aligned=aligned, reference=ref)
