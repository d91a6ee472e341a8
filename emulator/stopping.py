"""Ctrl-C and SIGTERM for the emulator's long-running processes: `make serve` and the soak's worker
processes."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """SIGINT (Ctrl-C) and SIGTERM, caught from the moment this is made: `wait()` returns the first
    that comes.

    Linux hands a signal sent to a process to any of its threads, and Python runs the handler on the
    main thread only, once that thread runs Python code again. A main thread blocked in a wait with
    no timeout can sleep through it, and through every later signal: so `wait()` wakes ten times a
    second. Once a signal has come, the default handlers are back: a second Ctrl-C stops at once.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        for signum in SIGNALS:
            signal.signal(signum, self._receive)

    def _receive(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        for each in SIGNALS:
            signal.signal(each, signal.SIG_DFL)

    def wait(self, or_until: Callable[[], bool] = lambda: False) -> int | None:
        """The signal that came, or None if `or_until()` came true first."""
        while self.received is None and not or_until():
            time.sleep(0.1)
        return self.received
