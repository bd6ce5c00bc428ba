"""PostgreSQL backend on psycopg 3 with a connection pool."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import anyio
import psycopg
from anyio.abc import TaskStatus
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ._base import Database, Row, Tx
from ._pg_direct import direct
from ._pg_watch import watch
from ._placeholders import to_psycopg

# A statement waiting to be sent: (query, params). Transaction control has no
# params, which also keeps it out of psycopg's prepared statements.
_Queued = tuple[str, Sequence[Any] | None]
_BEGIN: _Queued = ("BEGIN", None)
_IDLE = psycopg.pq.TransactionStatus.IDLE
_ABORTED = psycopg.pq.PipelineStatus.ABORTED


class _PostgresTx(Tx):
    """The statements of one transaction, with as few round trips as they allow.

    Each round trip costs ~0.1 ms, and a bill's POST makes most of them while it
    holds the chain ledger's row lock, which every POST needs: fewer trips, more
    POSTs per second. So in a transaction BEGIN and every :meth:`send` wait in a
    queue and leave together with the next statement whose result is read, or
    with the COMMIT: in psycopg's pipeline mode, one Sync for all of them.
    Parameters are bound by the server (extended protocol), and psycopg prepares
    a statement once it ran 5 times on the connection, pipelined or not.

    ``batching=False`` (:meth:`PostgresDatabase.reads`) runs each statement on its
    own in autocommit: no BEGIN, no COMMIT, no pipeline to leave, and no cursor
    either (:mod:`._pg_direct`, a third of the client's CPU per statement).
    """

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Row], *, batching: bool) -> None:
        self._conn = conn
        self._cursor_made: psycopg.Cursor[Row] | None = None
        self._batching = batching
        self._queued: list[_Queued] = [_BEGIN] if batching else []
        self._pipeline: psycopg.Pipeline | None = None
        self._stack = ExitStack()
        self._streams = 0
        self._done = False

    @property
    def _cursor(self) -> psycopg.Cursor[Row]:
        # Made when first needed: the autocommit reads never need one.
        if self._cursor_made is None:
            self._cursor_made = self._conn.cursor()
        return self._cursor_made

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        if not self._batching:
            return direct(self._conn).run(to_psycopg(sql), params)[1]
        return self._run(sql, params).rowcount

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._batching:
            self._queued.append((to_psycopg(sql), params))
        else:
            self.execute(sql, params)

    def send_counted(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        self.send(sql, params)
        return None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if not self._batching:
            return direct(self._conn).run(to_psycopg(sql), params)[0]
        return self._run(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        if not self._batching:  # a cursor lives in a transaction block
            self._batching = True
            self._queued.append(_BEGIN)
        # A named cursor streams rows instead of buffering the result. psycopg's
        # server-side cursors refuse pipeline mode, so it is declared and fetched
        # here; the DECLARE leaves with the first FETCH.
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

    def _run(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[Row]:
        """Run *sql* and whatever waits before it; return the cursor holding its result."""
        self._queued.append((to_psycopg(sql), params))
        self._flush(sync=True)
        return self._cursor

    def _flush(self, *, sync: bool) -> None:
        """Send the queue through the pipeline; with *sync*, wait for every result.

        Results land on the one cursor in order, so the last statement's stays.
        On an error the pipeline is read up to its Sync before raising, so that
        the transaction takes further statements (a ROLLBACK TO SAVEPOINT, say).
        """
        queued, self._queued = self._queued, []
        if self._pipeline is None:
            self._pipeline = self._stack.enter_context(self._conn.pipeline())
        try:
            for query, params in queued:
                self._cursor.execute(query, params, prepare=False if params is None else None)
            if sync:
                self._pipeline.sync()
        except psycopg.Error:
            # A result read early (the server reports an error at once) can leave
            # later ones unread, which the next Sync would match with the wrong
            # statements; psycopg keeps the pending ones in result_queue. And when
            # the error arrived while statements were still being sent, none of them
            # had a Sync yet: the pipeline stays aborted until one is answered. A
            # connection the server closed answers nothing, ever: the loop would spin.
            while not self._conn.broken and (
                self._pipeline.result_queue or self._conn.pgconn.pipeline_status == _ABORTED
            ):
                with suppress(psycopg.Error):
                    self._pipeline.sync()
            raise

    def commit(self) -> None:
        """Send what is queued and COMMIT, in one round trip (none if nothing ran)."""
        if self._done:
            return
        self._done = True
        if not self._batching or (self._pipeline is None and self._queued == [_BEGIN]):
            return
        self._queued.append(("COMMIT", None))
        try:
            self._flush(sync=False)
            self._close_pipeline()
        finally:
            self._leave()

    def rollback(self) -> None:
        """Forget what is queued (it never left) and roll back what ran."""
        if self._done:
            return
        self._done = True
        self._queued = []
        self._leave()

    def _close_pipeline(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            self._stack.close()  # leaving pipeline mode is a Sync: one round trip

    def _leave(self) -> None:
        """Leave pipeline mode and the transaction block, whichever is still open.

        A statement that failed before the COMMIT made the server skip that too,
        leaving the block open and aborted; the pool wants it closed. Errors here
        would hide the one being raised, and the pool discards a connection it
        cannot reset.
        """
        if self._pipeline is not None and self._conn.info.transaction_status != _IDLE:
            # Everything sent was read, so this ROLLBACK is not skipped as part of
            # a failed batch: it leaves with the Sync below.
            with suppress(psycopg.Error):
                self._cursor.execute("ROLLBACK", prepare=False)
        with suppress(psycopg.Error):
            self._close_pipeline()
        if not self._conn.closed and self._conn.info.transaction_status != _IDLE:
            with suppress(psycopg.Error):
                self._conn.execute("ROLLBACK", prepare=False)


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
