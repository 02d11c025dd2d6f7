"""SIGINT and SIGTERM stop a process cleanly, whatever signal dispositions it inherited.

A job started in the background by a shell (CI scripts, `nohup`, cron, many robot start-up
scripts) inherits SIGINT as *ignored*, and systemd or a launch system escalating stops a process
with SIGTERM, whose default action kills it on the spot. A ROS process that kept what it inherited
would ignore `ros2 launch`'s SIGINT, or die without closing its recording or stepping its nodes
down.

`ShutdownSignals` installs its own handler for both signals for as long as it is active. The first
signal only sets `requested`: the spin loop sees it, stops, and the process shuts down in order
(nodes step down, recordings close) and exits 0. A second signal while that is under way ends the
process at once with 128 + the signal's number, as a shell reports a death by signal.
"""
from __future__ import annotations

import os
import signal
from types import FrameType, TracebackType
from typing import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

Handler = Callable[[int, FrameType | None], None] | int | None


class ShutdownSignals:
    """Owns SIGINT and SIGTERM while active: first one requests a clean stop, second one exits."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[int, Handler] = {}

    @property
    def requested(self) -> bool:
        """True once SIGINT or SIGTERM has arrived."""
        return self.received is not None

    def install(self) -> ShutdownSignals:
        """Handle both signals from now on, remembering what was installed before."""
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def restore(self) -> None:
        """Put back the handlers that were installed before `install()`."""
        for number, previous in self._previous.items():
            signal.signal(number, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if self.received is not None:
            os.write(2, f'[mmchat] second signal ({name}) during shutdown: exiting now\n'.encode())
            os._exit(128 + number)
        self.received = signal.Signals(number)
        os.write(2, f'[mmchat] {name} received: shutting down (send it again to exit at once)\n'
                 .encode())

    def __enter__(self) -> ShutdownSignals:
        return self.install()

    def __exit__(self, _type: type[BaseException] | None, _value: BaseException | None,
                 _traceback: TracebackType | None) -> None:
        self.restore()
