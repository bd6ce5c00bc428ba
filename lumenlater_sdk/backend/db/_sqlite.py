"""SQLite backend: one connection per thread, WAL journal, serialised writers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskStatus

from ._base import Database, Row, Tx
from ._checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer

PAGE_SIZE = 1024
"""The page size a new database file gets, in bytes (SQLite's default is 4096).

Each commit writes every page it changed to the WAL, whole: a bill's POST changes a
page or so of each of some 40 tables and indexes, a few rows' worth in each, so
smaller pages are fewer bytes written and checksummed per commit (measured with
``bench/sqlite_post_cost.py``). Reads cost the same within a few microseconds.
A file keeps the page size it was made with: only ``VACUUM`` (with the journal out
of WAL mode meanwhile) changes an existing one."""


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=False)}


class _SQLiteTx(Tx):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, db: SQLiteDatabase) -> None:
        self._conn = conn
        self._db = db

    def notify(self, channel: str) -> None:
        for callback in self._db.listeners(channel):
            callback()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        cur = self._conn.execute(sql, params)
        while rows := cur.fetchmany(batch):
            yield from rows


class SQLiteDatabase(Database):
    """A SQLite file (or ``:memory:``-like temp file) opened in WAL mode."""

    dialect = "sqlite"
    # WAL readers see a snapshot without taking locks, and the file is local.
    inline_reads = True

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Replaced whole under the lock, so notify() reads it without taking the lock.
        self._listeners: dict[str, tuple[Callable[[], None], ...]] = {}
        # SQLite admits one writer at a time; a writer that finds the lock taken sleeps
        # in the busy handler (1, 2, 5 ... 100 ms steps) and wakes late. Queueing this
        # process's writers on a mutex hands the lock over as soon as it is free.
        self._writer = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None
        # WAL is a property of the file: set it once, before any reader opens it. The
        # page size too, which only a file that is still empty takes.
        with self._connection() as conn:
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode=WAL")

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = _dict_row
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        yield conn

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        with self._connection() as conn:
            if conn.in_transaction:
                raise RuntimeError("nested transaction on one thread")
            if not write:
                with self._run(conn, "BEGIN") as tx:
                    yield tx
                return
            with self._writer, self._run(conn, "BEGIN IMMEDIATE") as tx:
                yield tx
            self._committed()

    def _committed(self) -> None:
        # Started on the first write, so processes that only read never run the thread.
        if self._checkpointer is None and self.path != ":memory:":
            with self._lock:
                if self._checkpointer is None:
                    self._checkpointer = WalCheckpointer(self.path)
        if self._checkpointer is not None:
            self._checkpointer.committed()

    @contextmanager
    def _run(self, conn: sqlite3.Connection, begin: str) -> Iterator[Tx]:
        conn.execute(begin)
        try:
            tx = _SQLiteTx(conn, self)
            yield tx
            tx.flush_deferred()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    async def watch(
        self,
        channel: str,
        callback: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        with self._lock:
            self._listeners = {**self._listeners, channel: (*self.listeners(channel), callback)}
        try:
            task_status.started()
            await anyio.sleep_forever()
        finally:
            with self._lock:
                rest = tuple(c for c in self.listeners(channel) if c is not callback)
                self._listeners = {**self._listeners, channel: rest}

    def listeners(self, channel: str) -> tuple[Callable[[], None], ...]:
        """The callbacks watching *channel* in this process."""
        return self._listeners.get(channel, ())

    def close(self) -> None:
        with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.close()
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
