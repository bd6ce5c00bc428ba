"""The interface every database backend implements."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypeVar, cast

import anyio
from anyio.abc import TaskStatus

Dialect = Literal["sqlite", "postgresql"]
Row = dict[str, Any]


class Deferred(Protocol):
    """Writes a transaction collects and makes just before it commits."""

    def flush(self, tx: Tx) -> None:
        """Send the collected writes on *tx*."""


D = TypeVar("D", bound=Deferred)


class Tx(abc.ABC):
    """An open transaction. Every statement inside commits or rolls back together."""

    dialect: Dialect
    _deferred: dict[str, Deferred] | None = None

    def deferred(self, key: str, make: Callable[[], D]) -> D:
        """This transaction's collector *key* (made by *make* on first use), whose
        ``flush(tx)`` the database runs just before COMMIT, never on a rollback.

        For writes to rows many transactions share (a rollup's counters): made last,
        they hold those rows' locks only while committing, after every other lock the
        transaction takes, so they add no wait to its work and no lock-order cycle.
        """
        if self._deferred is None:
            self._deferred = {}
        found = self._deferred.get(key)
        if found is None:
            found = self._deferred[key] = make()
        return cast(D, found)

    def flush_deferred(self) -> None:
        """Run the collectors' flushes, by key (the databases call it before COMMIT)."""
        while self._deferred:
            pending, self._deferred = self._deferred, None
            for key in sorted(pending):
                pending[key].flush(self)

    # A collector that keeps writes in memory (the local ledger's calls) must know where
    # a savepoint falls among them: these tell the collectors that define ``savepoint``
    # (it may first send what it kept), ``rolled_back`` and ``released``. Set and end
    # savepoints through them, not in SQL, when a collector may be open.
    def savepoint(self, name: str) -> None:
        """``SAVEPOINT name`` (sent with what follows)."""
        for collector in list((self._deferred or {}).values()):
            hook = getattr(collector, "savepoint", None)
            if hook is not None:
                hook(self, name)
        self.send(f"SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        """``ROLLBACK TO SAVEPOINT name``: what was written since is undone, kept too."""
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")
        for collector in list((self._deferred or {}).values()):
            hook = getattr(collector, "rolled_back", None)
            if hook is not None:
                hook(name)

    def release(self, name: str, *, now: bool = False) -> None:
        """``RELEASE SAVEPOINT name`` (sent with what follows, unless *now*)."""
        (self.execute if now else self.send)(f"RELEASE SAVEPOINT {name}")
        for collector in list((self._deferred or {}).values()):
            hook = getattr(collector, "released", None)
            if hook is not None:
                hook(name)

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement whose result nobody reads; it may reach the server later.

        PostgreSQL sends it along with the next statement or the COMMIT, saving a
        round trip; an error it causes is raised there instead.
        """
        self.execute(sql, params)

    def send_counted(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """:meth:`send`, returning the rows changed where knowing costs nothing (SQLite
        runs each statement at once); ``None`` where it would cost a round trip."""
        return self.execute(sql, params)

    @abc.abstractmethod
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query and return every row."""

    def fetch_ahead(self, sql: str, params: Sequence[Any] = ()) -> Callable[[], list[Row]]:
        """Run a query whose rows are wanted later: calling what this returns gives them.

        PostgreSQL sends it with the next statement whose result is read, in one round
        trip (a bill and the ledger clock its status derives from, say), or alone when
        its rows are asked for first; an error it causes is raised there. SQLite runs it
        at once.
        """
        rows = self.fetchall(sql, params)
        return lambda: rows

    @abc.abstractmethod
    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        """Run a query and yield rows in batches, without loading them all."""

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a query and return its first row, or ``None``."""
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or ``None``."""
        row = self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))

    def notify(self, channel: str) -> None:
        """Tell *channel*'s listeners that this transaction wrote something for them.

        PostgreSQL sends ``NOTIFY`` when the transaction commits, to the watchers
        (:meth:`Database.watch`) of every process. SQLite has no such thing; it calls
        this process's watchers at once (a woken writer waits for this transaction's
        write lock, so it sees what committed).
        """
        self.send("SELECT pg_notify(?, '')", (channel,))

    @property
    def for_update(self) -> str:
        """Row-lock suffix for a SELECT (empty on SQLite, whose write lock is database-wide)."""
        return " FOR UPDATE" if self.dialect == "postgresql" else ""

    @property
    def skip_locked(self) -> str:
        """``FOR UPDATE SKIP LOCKED`` on PostgreSQL; empty on SQLite."""
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""


class Database(abc.ABC):
    """A connection pool. Thread-safe; each transaction uses one connection."""

    dialect: Dialect
    url: str
    inline_reads = False
    """True when a short read transaction never waits (on a lock, a pool or the
    network), so running one on the event loop costs less than a thread hop."""

    @abc.abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractContextManager[Tx]:
        """Open a transaction; commit on normal exit, roll back on an exception.

        ``write=True`` takes the write lock up front on SQLite (``BEGIN IMMEDIATE``)
        so two writers never deadlock upgrading a read lock.
        """

    def reads(self) -> AbstractContextManager[Tx]:
        """Like ``transaction(write=False)`` for reads that need not share one snapshot
        (a point lookup and the ledger clock, say): each statement may see its own.
        PostgreSQL then sends no BEGIN and no COMMIT, two round trips fewer."""
        return self.transaction(write=False)

    @abc.abstractmethod
    async def watch(
        self,
        channel: str,
        callback: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Call *callback* each time a transaction notifies *channel* (:meth:`Tx.notify`),
        until cancelled; started once it listens. Run it as a task on an event loop."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close every connection."""

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
