"""Shared matplotlib helpers (Agg backend, files only)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use('Agg')
from matplotlib.axes import Axes  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: Marker of each percentile latency_cdf marks.
PERCENTILE_MARKERS = {50: 'o', 99: 's'}


def latency_cdf(ax: Axes, samples_ms: Sequence[float], label: str, color: str) -> None:
    """Plot the empirical CDF of `samples_ms`, its p50 (circle) and p99 (square) marked."""
    values = np.sort(np.asarray(samples_ms, dtype=float))
    if not values.size:
        return
    fraction = np.arange(1, values.size + 1) / values.size
    ax.step(values, fraction, where='post', color=color, label=label)
    for q, marker in PERCENTILE_MARKERS.items():
        ax.plot([np.percentile(values, q)], [q / 100], marker=marker, color=color, markersize=7,
                markeredgecolor='black', linestyle='none')


def log_ms_axis(ax: Axes) -> None:
    """A log x axis with plain-number ticks at 1-2-5 steps (milliseconds)."""
    ax.set_xscale('log')
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f'{value:g}'))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ''))


def new_figure(width_in: float = 10.0, height_in: float = 6.0) -> tuple[Figure, Axes]:
    """A figure and one axes."""
    return plt.subplots(figsize=(width_in, height_in))


def save(fig: Figure, path: Path) -> None:
    """Save `fig` as PNG and release it."""
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
