"""Keeping a claim's lease alive while its handlers run.

One daemon thread per receiver renews the lease of every delivery in flight every
third of the lease, through the store's ``extend``. A thread rather than a task
because it serves the ASGI app and the Flask and Django views alike, and keeps
renewing even while a handler blocks the event loop (the handler is still running,
so the event is still taken). A delivery that ends before its first renewal costs a
dict insert and a dict pop, and never wakes the thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from ._fork import generation

__all__ = ["Heartbeat"]

logger = logging.getLogger("lumenlater.webhooks")

Extend = Callable[[str, str], bool]


class Heartbeat:
    """Renews ``extend(event_id, token)`` every ``interval`` seconds for each held lease."""

    def __init__(self, extend: Extend, interval: float) -> None:
        self.extend = extend
        self.interval = interval
        self._ids = itertools.count()
        self._start()

    def _start(self) -> None:
        self._fork = generation[0]
        # hold() and drop() take the bare lock (acquire/release, cheaper than `with`),
        # where the Condition's own __enter__ is a Python call per delivery.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        # Ordered by next renewal: every entry is (re)inserted ``interval`` from now.
        self._due: dict[int, tuple[float, str, str]] = {}
        self._thread: threading.Thread | None = None

    def hold(self, event_id: str, token: str) -> int:
        """Start renewing this lease; pass the returned handle to :meth:`drop`."""
        if self._fork != generation[0]:
            self._start()  # forked: the parent's thread and lock do not exist here
        handle = next(self._ids)
        lock = self._lock
        lock.acquire()  # not `with`: half the cost per delivery on CPython 3.11
        try:
            self._due[handle] = (time.monotonic() + self.interval, event_id, token)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lumenlater-webhook-lease", daemon=True
                )
                self._thread.start()
        finally:
            lock.release()
        # No notify: the thread never sleeps longer than ``interval`` and every other
        # lease is due before this one. Waking it per delivery would cost a GIL
        # hand-over each time, several times the price of the delivery itself.
        return handle

    def drop(self, handle: int) -> None:
        """Stop renewing (the delivery completed or released its claim)."""
        lock = self._lock
        lock.acquire()
        try:
            self._due.pop(handle, None)
        finally:
            lock.release()

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                idle = False
                while True:
                    first = next(iter(self._due.items()), None)
                    if first is None:
                        if idle:  # a whole interval without leases: stop; hold() restarts
                            self._thread = None
                            return
                        idle = True
                        cond.wait(self.interval)
                        continue
                    handle, (due, event_id, token) = first
                    delay = due - time.monotonic()
                    if delay <= 0:
                        # Re-inserted at the end, due ``interval`` from now like a new
                        # hold: the dict stays ordered by due time.
                        del self._due[handle]
                        self._due[handle] = (time.monotonic() + self.interval, event_id, token)
                        break
                    cond.wait(delay)
            self._renew(handle, event_id, token)

    def _renew(self, handle: int, event_id: str, token: str) -> None:
        try:
            kept = self.extend(event_id, token)
        except Exception:
            # Try again next interval; the lease may still outlast a short outage.
            logger.exception("Could not extend the lease on webhook event %s", event_id)
            return
        if kept:
            return
        with self._cond:
            held = self._due.pop(handle, None) is not None
        if held:  # not merely a delivery that finished while we renewed it
            logger.warning(
                "The lease on webhook event %s ran out before its handlers finished; "
                "another delivery may be running them too (raise the store's lease)",
                event_id,
            )
