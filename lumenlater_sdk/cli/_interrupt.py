"""Ctrl-C and SIGTERM for the CLI's long-running commands (``logs tail``, ``listen``).

A ``KeyboardInterrupt`` raised wherever the main thread happens to be can land inside
httpx's connection pool between a lock's acquire and the block that releases it (CPython
runs a signal handler between any two bytecodes, ``with`` statements included), and the
client's close then waits on that lock for ever: the command hangs instead of stopping.
So the handler here only records the request, taking no lock (a lock taken in a handler
can be the very one the interrupted code holds, as ``threading.Event.set`` would), and the
command's loop stops at its next pause, after the step in flight has finished.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any

__all__ = ["StopOnSignal"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    """While entered, SIGINT and SIGTERM ask the loop to stop instead of raising.

    ``pause(seconds)`` sleeps in short naps and returns ``False`` as soon as a stop was
    asked. A second signal raises ``KeyboardInterrupt`` at once, for a step that hangs.
    Outside the main thread (where handlers cannot be installed) signals keep their
    handlers and only :attr:`requested` set by hand stops the loop.
    """

    def __init__(self, nap: float = 0.05) -> None:
        self.requested = False
        self._nap = nap
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def pause(self, seconds: float) -> bool:
        """Sleep up to *seconds*; ``True`` if the loop should go on, ``False`` once a stop
        was asked (within one nap of the signal)."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, self._nap))
        return False
