"""Shared matplotlib helpers (Agg backend, files only)."""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.axes import Axes  # noqa: E402
import numpy as np  # noqa: E402


def latency_cdf(ax: Axes, samples_ms: Sequence[float], label: str, color: str) -> None:
    """Plot the empirical CDF of `samples_ms` on a log x axis with its p50 and p99 marked."""
    values = np.sort(np.asarray(samples_ms, dtype=float))
    if not values.size:
        return
    fraction = np.arange(1, values.size + 1) / values.size
    ax.step(values, fraction, where='post', color=color, label=label)
    for q, marker in ((50, 'o'), (99, 's')):
        x = float(np.percentile(values, q))
        ax.plot([x], [q / 100], marker=marker, color=color, markersize=7, markeredgecolor='black')
        ax.annotate(f'p{q} {x:.1f}', (x, q / 100), textcoords='offset points', xytext=(6, -12),
                    fontsize=8, color=color)
    ax.set_xscale('log')


def new_figure(width_in: float = 10.0, height_in: float = 6.0):
    """A figure and one axes."""
    return plt.subplots(figsize=(width_in, height_in))


def save(fig, path) -> None:
    """Save `fig` as PNG and release it."""
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
