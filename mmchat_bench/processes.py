"""Child processes that are always stopped: on success, error and Ctrl-C alike."""
from __future__ import annotations

from contextlib import contextmanager
import signal
import subprocess
from typing import Iterator


def stop(proc: subprocess.Popen, grace_s: float = 5.0) -> int | None:
    """SIGINT (a clean ROS shutdown), then SIGTERM, then SIGKILL, each after `grace_s`."""
    for send in (lambda: proc.send_signal(signal.SIGINT), proc.terminate, proc.kill):
        if proc.poll() is not None:
            break
        send()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


@contextmanager
def child(args: list[str], grace_s: float = 5.0, **popen_kwargs) -> Iterator[subprocess.Popen]:
    """Start `args` (Popen keyword arguments pass through); `stop` it when the block ends."""
    proc = subprocess.Popen(args, **popen_kwargs)
    try:
        yield proc
    finally:
        stop(proc, grace_s)
