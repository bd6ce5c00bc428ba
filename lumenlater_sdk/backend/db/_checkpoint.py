"""Moving SQLite's WAL checkpoints off the request path."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

__all__ = ["AUTOCHECKPOINT_PAGES", "WalCheckpointer"]

# SQLite's own checkpoint runs inside whichever COMMIT pushes the WAL past this many
# pages, fsyncs included: with the default 1000 that was ~40 % of a bill's POST and
# a 10-80 ms stall for the unlucky request. The checkpointer keeps the WAL well
# below this; the limit stays as a backstop should it fall behind.
AUTOCHECKPOINT_PAGES = 10_000


class WalCheckpointer:
    """A daemon thread that copies committed WAL frames into the database file.

    It runs a PASSIVE checkpoint (which never blocks readers or writers) after
    every *every* commits of this process, or *interval* seconds after the first
    commit since the last one, whichever comes first. A bill's POST writes ~65 pages
    of 1 KiB (~48 of 4 KiB in a file made before those), so 64 commits keep the WAL
    at a few thousand pages even at full load.
    """

    def __init__(self, path: str, *, every: int = 64, interval: float = 1.0) -> None:
        self._path = path
        self._every = every
        self._interval = interval
        self._pending = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Note a write commit (cheap: called after every one)."""
        self._pending += 1  # racy increments only shift the next wake-up a little
        if self._pending >= self._every:
            self._wake.set()

    def close(self) -> None:
        """Stop the thread after one last checkpoint."""
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                if self._pending:
                    self._pending = 0
                    # Busy or closing: the next round catches up.
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if self._stop:
                    return
        finally:
            conn.close()
