"""Shared pieces of benchmark reports: machine description, latency summaries, goals, JSON files."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
import json
import os
from pathlib import Path
import platform
from typing import Any, Callable, Sequence

import numpy as np


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.partition(':')[2].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def machine_info() -> dict[str, Any]:
    """Where and when a benchmark ran: CPU, load, OS, Python, ROS client library and middleware."""
    import psutil
    from rclpy.utilities import get_rmw_implementation_identifier

    return {
        'date': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        'host': platform.node(),
        'cpu_model': _cpu_model(),
        'cpu_count_logical': os.cpu_count(),
        'cpu_count_physical': psutil.cpu_count(logical=False),
        'load_average_1_5_15': [round(x, 2) for x in os.getloadavg()],
        'memory_gb': round(psutil.virtual_memory().total / 2**30, 1),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'rclpy': _version('rclpy'),
        'rmw_implementation': get_rmw_implementation_identifier(),
        'fastdds': _version('ros-fastdds'),
    }


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float | int | None]:
    """Count, mean, p50, p99 and max of latencies in milliseconds (None when there are none)."""
    if not len(samples_ms):
        return {'count': 0, 'mean_ms': None, 'p50_ms': None, 'p99_ms': None, 'max_ms': None}
    values = np.asarray(samples_ms, dtype=float)
    p50, p99 = np.percentile(values, [50, 99])
    return {'count': int(values.size), 'mean_ms': round(float(values.mean()), 3),
            'p50_ms': round(float(p50), 3), 'p99_ms': round(float(p99), 3),
            'max_ms': round(float(values.max()), 3)}


@dataclass(frozen=True)
class Goal:
    """An upper bound on one number of a result, e.g. Goal('p50_ms', 2.0)."""

    key: str
    limit: float

    def check(self, numbers: dict[str, Any]) -> dict[str, Any]:
        """{key, limit, value, met}; a missing value does not meet the goal."""
        value = numbers.get(self.key)
        return {'key': self.key, 'limit': self.limit, 'value': value,
                'met': value is not None and value <= self.limit}


def goal_text(goal: dict[str, Any]) -> str:
    """'p50_ms 1.31 <= 2 PASS' for a checked goal."""
    value = 'n/a' if goal['value'] is None else f"{goal['value']:.2f}"
    return f"{goal['key']} {value} <= {goal['limit']:g} {'PASS' if goal['met'] else 'MISS'}"


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write `document` as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + '\n')


def write_report(out: Path, name: str, report: dict[str, Any], plot: Callable[[dict, Path], None],
                 summary: Callable[[dict], None]) -> None:
    """Write <name>.json and its <name>.png plot under `out`, then print the summary and paths."""
    write_json(out / f'{name}.json', report)
    plot(report, out / f'{name}.png')
    summary(report)
    print(f"wrote {out / f'{name}.json'} and {out / f'{name}.png'}")
