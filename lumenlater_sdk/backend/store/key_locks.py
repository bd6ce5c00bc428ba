"""Which idempotency keys a live request holds right now, across every backend process.

A key is held for as long as the request that uses it runs, and a killed process's
keys are free the moment it dies: no lease to wait out.

* PostgreSQL: a transaction-level advisory lock (:func:`try_lock_in`) taken in the
  request's own transaction. It ends with that transaction, and the server ends
  the transaction when the connection drops, which it does when the process dies.
* SQLite: every process that opens the file is on this host (WAL needs shared
  memory), so a byte-range lock on a file beside the database (``<db>-idempotency``)
  does the same: the kernel drops it when its process exits, however it exits.
  POSIX record locks belong to the process, so a set of the keys this process
  holds tells its own threads apart.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator

from ..db import Database, Tx

__all__ = ["held", "lock_condition", "slot", "try_lock_in"]


def slot(merchant_id: str, key: str) -> int:
    """A 62-bit number for the key: a lock offset on SQLite, an advisory lock id on
    PostgreSQL. Two keys that share one only make each other answer 409 while both run."""
    digest = hashlib.sha256(f"idempotency\0{merchant_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def try_lock_in(tx: Tx, merchant_id: str, key: str) -> bool:
    """On PostgreSQL take the key for the rest of *tx*, or say another transaction has it.
    True on SQLite, where :func:`held` did that before the transaction began."""
    if tx.dialect != "postgresql":
        return True
    return bool(tx.scalar("SELECT pg_try_advisory_xact_lock(?)", (slot(merchant_id, key),)))


def lock_condition(tx: Tx, merchant_id: str, key: str) -> tuple[str, tuple[int, ...]]:
    """:func:`try_lock_in` as an SQL condition and its parameters, to fold into the
    statement that claims the key (one round trip for both on PostgreSQL)."""
    if tx.dialect != "postgresql":
        return "1 = 1", ()
    return "pg_try_advisory_xact_lock(?)", (slot(merchant_id, key),)


class _FileLocks:
    """This process's locks on one SQLite database's lock file."""

    def __init__(self, path: str | None) -> None:
        self._path = path  # None: an in-memory database, which no other process sees
        self._mutex = threading.Lock()
        self._held: set[int] = set()
        self._fd: int | None = None
        self._pid = 0

    def _file(self, database: str) -> int | None:
        if self._pid != os.getpid():
            # A forked child inherits the descriptor but none of the parent's locks.
            self._fd, self._pid, self._held = None, os.getpid(), set()
        if self._fd is None and self._path is not None:
            # Readable and writable by whoever may write the database itself.
            mode = os.stat(database).st_mode & 0o666
            # One descriptor for the process's lifetime: closing any descriptor of
            # the file would drop every POSIX lock this process holds on it.
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        return self._fd

    def acquire(self, database: str, at: int) -> bool:
        with self._mutex:
            fd = self._file(database)
            if at in self._held:
                return False
            try:
                if fd is not None:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, at)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return False
                raise
            self._held.add(at)
            return True

    def release(self, at: int) -> None:
        with self._mutex:
            if at in self._held and self._pid == os.getpid():
                self._held.discard(at)
                if self._fd is not None:
                    fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, at)


_files: dict[str, _FileLocks] = {}
_files_mutex = threading.Lock()


_by_name: dict[str, _FileLocks] = {}  # as the URL names the file: skips realpath's syscalls


def _locks_for(database: str) -> _FileLocks:
    found = _by_name.get(database)
    if found is not None:
        return found
    memory = database == ":memory:"
    path = database if memory else os.path.realpath(database) + "-idempotency"
    with _files_mutex:
        if path not in _files:
            _files[path] = _FileLocks(None if memory else path)
        _by_name[database] = _files[path]
        return _files[path]


@contextlib.contextmanager
def held(db: Database, merchant_id: str, key: str) -> Iterator[bool]:
    """Hold *key* for the block on SQLite; yields False (holding nothing) when a live
    request of any process has it. On PostgreSQL yields True: :func:`try_lock_in` decides."""
    if db.dialect != "sqlite":
        yield True
        return
    database = db.url.removeprefix("sqlite:///")
    locks = _locks_for(database)
    at = slot(merchant_id, key)
    if not locks.acquire(database, at):
        yield False
        return
    try:
        yield True
    finally:
        locks.release(at)
