"""PostgreSQL backend on psycopg 3 with a connection pool."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import anyio
import psycopg
from anyio.abc import TaskStatus
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ._base import Database, Row, Tx
from ._pg_direct import Statement, direct
from ._pg_watch import watch
from ._placeholders import to_psycopg

# Transaction control has no params, which also keeps it out of the prepared statements.
_BEGIN: Statement = ("BEGIN", None)
_IDLE = psycopg.pq.TransactionStatus.IDLE


class _PostgresTx(Tx):
    """The statements of one transaction, with as few round trips as they allow.

    Each round trip costs ~0.1 ms, and a bill's POST makes most of them while it
    holds the chain ledger's row lock, which every POST needs: fewer trips, more
    POSTs per second. So in a transaction BEGIN and every :meth:`send` wait in a
    queue and leave together with the next statement whose result is read, or
    with the COMMIT: in libpq's pipeline mode, one Sync for all of them
    (:meth:`._pg_direct.Direct.batch`, not psycopg's cursor, which costs twice the
    CPU per statement). Parameters are bound by the server (extended protocol), and
    a statement is prepared once it ran 5 times on the connection.

    ``batching=False`` (:meth:`PostgresDatabase.reads`) runs each statement on its
    own in autocommit: no BEGIN, no COMMIT; but a query sent ahead
    (:meth:`fetch_ahead`) leaves with the next one, in a pipeline whose one Sync makes
    them a transaction of their own.
    """

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Row], *, batching: bool) -> None:
        self._conn = conn
        self._direct = direct(conn)
        self._batching = batching
        self._queued: list[Statement] = [_BEGIN] if batching else []
        # Queued queries sent ahead: index in _queued -> where their rows go.
        self._ahead: dict[int, list[list[Row]]] = {}
        self._began = False  # a batch reached the server
        self._streams = 0
        self._done = False
        self._notified: set[str] = set()

    def notify(self, channel: str) -> None:
        # PostgreSQL delivers a transaction's identical notifications once, at COMMIT:
        # a second pg_notify of a channel only costs a statement (the history fill sent
        # one per event, 2.75 a bill, 12 % of its statements).
        if channel not in self._notified:
            self._notified.add(channel)
            super().notify(channel)

    def rollback_to(self, name: str) -> None:
        # A notification sent since the savepoint is undone with it: the next must be sent.
        self._notified.clear()
        super().rollback_to(name)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._run(sql, params)[1]

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._batching:
            self._queued.append((to_psycopg(sql), params))
        else:
            self._run(sql, params)

    def send_counted(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        self.send(sql, params)
        return None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._run(sql, params)[0]

    def fetch_ahead(self, sql: str, params: Sequence[Any] = ()) -> Callable[[], list[Row]]:
        slot: list[list[Row]] = []
        self._ahead[len(self._queued)] = slot
        self._queued.append((to_psycopg(sql), params))

        def rows() -> list[Row]:
            if not slot:
                if not any(s is slot for s in self._ahead.values()):
                    # Its batch failed (and raised) or was rolled back: no rows came.
                    raise RuntimeError("the query sent ahead was never answered")
                self._flush()
            return slot[0]

        return rows

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        if not self._batching:  # a cursor lives in a transaction block
            self._batching = True
            # Before any query sent ahead, so the block holds it too.
            self._queued.insert(0, _BEGIN)
            self._ahead = {i + 1: slot for i, slot in self._ahead.items()}
        # A named cursor streams rows instead of buffering the result; the DECLARE
        # leaves with the first FETCH.
        name = f"stream_{self._streams}"
        self._streams += 1
        self.send(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params)
        while True:
            rows = self.fetchall(f"FETCH FORWARD {int(batch)} FROM {name}")
            yield from rows
            if len(rows) < batch:
                break
        # Queued, so free. A generator abandoned early leaves its cursor to the end
        # of the transaction: it may be closed by the garbage collector, any time.
        self.send(f"CLOSE {name}")

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[list[Row], int]:
        """Run *sql* and whatever waits before it: its rows and count."""
        if not self._batching and not self._queued:  # autocommit, nothing sent ahead
            return self._direct.run(to_psycopg(sql), params)
        self._queued.append((to_psycopg(sql), params))
        return self._flush()

    def _flush(self) -> tuple[list[Row], int]:
        """Send the queue with one Sync and read every result (the last one's kept).

        On an error every result up to the Sync was read before it is raised, so
        the transaction takes further statements (a ROLLBACK TO SAVEPOINT, say).
        """
        queued, self._queued = self._queued, []
        ahead, self._ahead = self._ahead, {}
        self._began = True
        answers = self._direct.batch(queued, also=ahead)
        for slot, (rows, _) in zip(ahead.values(), answers[:-1], strict=True):
            slot.append(rows)
        return answers[-1]

    def commit(self) -> None:
        """Send what is queued and COMMIT, in one round trip (none if nothing ran)."""
        if self._done:
            return
        self._done = True
        if not self._batching or (not self._began and self._queued == [_BEGIN]):
            return
        self._queued.append(("COMMIT", None))
        try:
            self._flush()
        finally:
            self._leave()

    def rollback(self) -> None:
        """Forget what is queued (it never left) and roll back what ran."""
        if self._done:
            return
        self._done = True
        self._queued = []
        self._ahead = {}
        self._leave()

    def _leave(self) -> None:
        """Close the transaction block if it is still open.

        A statement that failed before the COMMIT made the server skip that too,
        leaving the block open and aborted; the pool wants it closed. Errors here
        would hide the one being raised, and the pool discards a connection it
        cannot reset.
        """
        if not self._conn.closed and self._conn.info.transaction_status != _IDLE:
            with suppress(psycopg.Error):
                self._direct.batch([("ROLLBACK", None)])


class DatabaseUnavailable(ConnectionError):
    """The database did not accept a connection at start (the message names where)."""


def wait_for_server(url: str, timeout: float) -> None:
    """Return once the server at *url* accepts a connection; after *timeout* seconds of
    refusals, :class:`DatabaseUnavailable` naming ``host:port`` and the last refusal
    (never the password). A server that is still starting up gets retried."""
    info = conninfo_to_dict(url)
    where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            # connect_timeout counts whole seconds (libpq): at least 1
            psycopg.connect(url, connect_timeout=max(1, math.ceil(left)), autocommit=True).close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() + 0.25 >= deadline:
                # libpq's first line ends with the reason ("... port 5432 failed: X").
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise DatabaseUnavailable(
                    f"PostgreSQL at {where} did not accept a connection within "
                    f"{timeout:g} s: {first.rsplit(' failed: ', 1)[-1].strip()}"
                ) from None
        time.sleep(0.25)


class PostgresDatabase(Database):
    """A PostgreSQL database reached by a ``postgresql://`` URL."""

    dialect = "postgresql"

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 16, connect_timeout: float = 5.0
    ) -> None:
        self.url = url
        wait_for_server(url, connect_timeout)
        # Autocommit, because transactions are begun and ended by _PostgresTx, in
        # the pipeline with other statements.
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": True},
            open=True,
        )
        try:
            self._pool.wait(timeout=max(connect_timeout, 1.0))
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        # Reads batch too: their BEGIN leaves with the first query, which stays
        # prepared in pipeline mode.
        with self._pool.connection() as conn, self._run(_PostgresTx(conn, batching=True)) as tx:
            yield tx

    @contextmanager
    def reads(self) -> Iterator[Tx]:
        # No BEGIN, no COMMIT: each statement commits on its own (autocommit).
        with self._pool.connection() as conn, self._run(_PostgresTx(conn, batching=False)) as tx:
            yield tx

    @contextmanager
    def _run(self, tx: _PostgresTx) -> Iterator[Tx]:
        try:
            yield tx
            tx.flush_deferred()  # queued: its statements leave with the COMMIT
        except BaseException:
            tx.rollback()
            raise
        tx.commit()

    async def watch(
        self,
        channel: str,
        callback: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        await watch(self.url, channel, callback, task_status=task_status)

    def close(self) -> None:
        self._pool.close()
