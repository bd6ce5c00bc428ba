"""Health: whether this process can write to its database."""

from __future__ import annotations

import logging
import threading
import time

from ..store import health as health_store
from .context import ServiceContext

__all__ = ["WriteProbe", "check_database"]

log = logging.getLogger("lumenlater.backend")


def check_database(ctx: ServiceContext) -> None:
    """Write one row and commit: raises if the database cannot be written."""
    with ctx.db.transaction() as tx:
        health_store.touch(tx, time.time())


class WriteProbe:
    """:func:`check_database` for a health endpoint: bounded, shared and cached.

    A write that waits (a lock held elsewhere, a database gone quiet) is abandoned
    after *timeout* seconds and reported, while it runs on in its own thread; callers
    meanwhile share that one write rather than piling more on it, and a result stays
    good for *fresh_for* seconds, so polling costs at most one write a second.
    """

    def __init__(self, *, timeout: float = 2.0, fresh_for: float = 1.0) -> None:
        self.timeout = timeout
        self.fresh_for = fresh_for
        self._lock = threading.Lock()
        self._running: threading.Event | None = None
        self._result: str | None = None
        self._checked = -float("inf")

    def check(self, ctx: ServiceContext) -> str | None:
        """``None`` when the database took a write, else what went wrong (one line)."""
        with self._lock:
            if time.monotonic() - self._checked < self.fresh_for:
                return self._result
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(
                    target=self._write, args=(ctx, done), name="healthz-write", daemon=True
                ).start()
        if not done.wait(self.timeout):
            return f"the database did not take a write within {self.timeout:g} s"
        return self._result

    def _write(self, ctx: ServiceContext, done: threading.Event) -> None:
        try:
            check_database(ctx)
            result = None
        except Exception as exc:  # reported, not raised: the endpoint answers 503
            log.warning("health check: database write failed", exc_info=True)
            result = f"the database cannot be written ({type(exc).__name__})"
        with self._lock:
            self._result, self._checked, self._running = result, time.monotonic(), None
        done.set()
