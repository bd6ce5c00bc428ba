"""An event store in a SQLite file, safe to share between processes."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ._fork import generation
from ._store import DEFAULT_LEASE, Claim, ClaimStatus

__all__ = ["SQLiteEventStore"]

_EVENTS = """
CREATE TABLE IF NOT EXISTS lumenlater_webhook_events (
    event_id    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- 'processing' or 'done'
    token       TEXT,
    lease_until REAL,
    updated_at  REAL NOT NULL
)
"""

# Version 1: the handlers that finished for events not yet done, so that a retry
# after a failure runs only the others. Files of version 0 (events table only)
# are migrated when opened.
_HANDLERS = """
CREATE TABLE IF NOT EXISTS lumenlater_webhook_handlers (
    event_id TEXT NOT NULL,
    handler  TEXT NOT NULL,
    done_at  REAL NOT NULL,
    PRIMARY KEY (event_id, handler)
) WITHOUT ROWID
"""

SCHEMA_VERSION = 1

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

_EXTEND = """
UPDATE lumenlater_webhook_events SET lease_until = ?1, updated_at = ?2
WHERE event_id = ?3 AND state = 'processing' AND token = ?4
"""

# Nothing to remember once the event is done (a late finisher after completion).
_HANDLER_DONE = """
INSERT OR IGNORE INTO lumenlater_webhook_handlers (event_id, handler, done_at)
SELECT ?1, ?2, ?3
WHERE NOT EXISTS (
    SELECT 1 FROM lumenlater_webhook_events WHERE event_id = ?1 AND state = 'done'
)
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
    A file written by an earlier version is upgraded when opened (the schema
    version is SQLite's ``user_version``).
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
        conn = self._connect()
        try:
            _migrate(conn)
        finally:
            conn.close()

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
        if conn is None or self._local.fork != generation[0]:
            conn = self._connect()
            self._local.conn = conn
            self._local.fork = generation[0]
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
                finished = conn.execute(
                    "SELECT handler FROM lumenlater_webhook_handlers WHERE event_id = ?",
                    (event_id,),
                ).fetchall()
                return Claim(ClaimStatus.CLAIMED, token, frozenset(r[0] for r in finished))
            row = conn.execute(
                "SELECT state FROM lumenlater_webhook_events WHERE event_id = ?", (event_id,)
            ).fetchone()
            if row is None:
                continue  # released between our two statements: try again
            return Claim(ClaimStatus.DONE if row[0] == "done" else ClaimStatus.BUSY)

    def handler_done(self, event_id: str, token: str, handler: str) -> None:
        """Remember that ``handler`` finished for the event, so a retry skips it."""
        self._conn().execute(_HANDLER_DONE, (event_id, handler, self._clock()))

    def extend(self, event_id: str, token: str) -> bool:
        """Renew our lease for another ``lease`` seconds; ``False`` if it is not ours."""
        now = self._clock()
        cur = self._conn().execute(_EXTEND, (now + self.lease, now, event_id, token))
        return cur.rowcount == 1

    def complete(self, event_id: str, token: str) -> None:
        """Record the event as handled."""
        conn = self._conn()
        conn.execute(_COMPLETE, (event_id, self._clock()))
        # A crash before this line leaves rows that prune() removes later.
        conn.execute("DELETE FROM lumenlater_webhook_handlers WHERE event_id = ?", (event_id,))

    def release(self, event_id: str, token: str) -> None:
        """Delete our claim (only if the lease is still ours) so a retry can run again."""
        self._conn().execute(_RELEASE, (event_id, token))

    def prune(self, older_than: float) -> int:
        """Forget handled events last touched more than ``older_than`` seconds ago.

        Also forgets which handlers finished for events that were never completed
        (the sender gave up) if they finished that long ago. Returns the number of
        events forgotten.
        """
        conn = self._conn()
        cutoff = self._clock() - older_than
        conn.execute("DELETE FROM lumenlater_webhook_handlers WHERE done_at < ?", (cutoff,))
        cur = conn.execute(
            "DELETE FROM lumenlater_webhook_events WHERE state = 'done' AND updated_at < ?",
            (cutoff,),
        )
        return cur.rowcount

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a new or older file to :data:`SCHEMA_VERSION` (``PRAGMA user_version``)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    # IMMEDIATE: two processes opening an old file at once migrate it one after the other.
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            conn.execute(_EVENTS)
            conn.execute(_HANDLERS)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
