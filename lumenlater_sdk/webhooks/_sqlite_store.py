"""An event store in a SQLite file, safe to share between processes."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ._store import DEFAULT_LEASE, Claim, ClaimStatus

__all__ = ["SQLiteEventStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lumenlater_webhook_events (
    event_id    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- 'processing' or 'done'
    token       TEXT,
    lease_until REAL,
    updated_at  REAL NOT NULL
)
"""

# One statement, so SQLite's write lock makes it atomic across connections and
# processes: insert a fresh claim, or take over a claim whose lease has run out.
_CLAIM = """
INSERT INTO lumenlater_webhook_events (event_id, state, token, lease_until, updated_at)
VALUES (?1, 'processing', ?2, ?3, ?4)
ON CONFLICT (event_id) DO UPDATE SET
    token = excluded.token, lease_until = excluded.lease_until, updated_at = excluded.updated_at
WHERE lumenlater_webhook_events.state = 'processing'
  AND lumenlater_webhook_events.lease_until <= ?4
"""

_COMPLETE = """
INSERT INTO lumenlater_webhook_events (event_id, state, token, lease_until, updated_at)
VALUES (?1, 'done', NULL, NULL, ?2)
ON CONFLICT (event_id) DO UPDATE SET
    state = 'done', token = NULL, lease_until = NULL, updated_at = excluded.updated_at
"""

_RELEASE = """
DELETE FROM lumenlater_webhook_events
WHERE event_id = ? AND state = 'processing' AND token = ?
"""


class SQLiteEventStore:
    """Remembers handled event ids in a SQLite database file.

    Several threads and processes may share the file: claims are single atomic
    statements, and a claim's lease (``lease`` seconds, wall clock) lets another
    process take over an event whose claimer died. Each thread uses its own
    connection (WAL mode, waiting up to ``busy_timeout`` seconds for the lock).
    """

    blocking = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = DEFAULT_LEASE,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.lease = lease
        self.busy_timeout = busy_timeout
        self._clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: every statement commits on its own, holding the
        # write lock no longer than the statement.
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # A connection must not cross a fork; a child process opens its own.
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self._connect()
            self._local.conn = conn
            self._local.pid = os.getpid()
            with self._all_lock:
                self._all.append(conn)
        return conn

    def claim(self, event_id: str) -> Claim:
        """Take the event unless it is done or held under an unexpired lease."""
        conn = self._conn()
        while True:
            now = self._clock()
            token = secrets.token_hex(8)
            if conn.execute(_CLAIM, (event_id, token, now + self.lease, now)).rowcount == 1:
                return Claim(ClaimStatus.CLAIMED, token)
            row = conn.execute(
                "SELECT state FROM lumenlater_webhook_events WHERE event_id = ?", (event_id,)
            ).fetchone()
            if row is None:
                continue  # released between our two statements: try again
            return Claim(ClaimStatus.DONE if row[0] == "done" else ClaimStatus.BUSY)

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled."""
        self._conn().execute(_COMPLETE, (event_id, self._clock()))

    def release(self, event_id: str, token: str) -> None:
        """Delete our claim (only if the lease is still ours) so a retry can run again."""
        self._conn().execute(_RELEASE, (event_id, token))

    def prune(self, older_than: float) -> int:
        """Forget handled events last touched more than ``older_than`` seconds ago."""
        cur = self._conn().execute(
            "DELETE FROM lumenlater_webhook_events WHERE state = 'done' AND updated_at < ?",
            (self._clock() - older_than,),
        )
        return cur.rowcount

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
