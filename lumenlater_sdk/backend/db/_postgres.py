"""PostgreSQL backend on psycopg 3 with a connection pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ._base import Database, Row, Tx


@lru_cache(maxsize=1024)
def _paramstyle(sql: str) -> str:
    # SQL is written with sqlite's "?"; psycopg wants "%s" and a literal "%" doubled.
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresTx(Tx):
    """The statements of one transaction, with as few round trips as they allow.

    Each round trip costs ~0.1 ms, and a bill's POST makes most of them while it
    holds the chain ledger's row lock, which every POST needs: fewer trips, more
    POSTs per second. So in a write transaction BEGIN and every :meth:`send` wait
    in a queue and leave together with the next statement whose result is read
    (one simple-protocol message, parameters bound client-side), or with the
    COMMIT. Statements sent alone are prepared by psycopg once they ran 5 times.
    """

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Row], queued: list[str]) -> None:
        self._conn = conn
        self._binder = psycopg.ClientCursor(conn)
        self._queued = queued

    def _run(self, sql: str, params: Sequence[Any]) -> psycopg.Cursor[Row]:
        if not self._queued:
            return self._conn.execute(_paramstyle(sql), params)
        self._queued.append(self._bind(sql, params))
        batch, self._queued = "; ".join(self._queued), []
        cur = self._conn.execute(batch, prepare=False)
        while cur.nextset():  # the last result is the caller's statement
            pass
        return cur

    def _bind(self, sql: str, params: Sequence[Any]) -> str:
        return self._binder.mogrify(_paramstyle(sql), params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._run(sql, params).rowcount

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._queued.append(self._bind(sql, params))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._run(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        if not self._in_block():  # a cursor lives in a transaction block
            if self._queued[:1] != ["BEGIN"]:
                self._queued.insert(0, "BEGIN")
            self.execute("SELECT 1")
        # A named (server-side) cursor streams rows instead of buffering the result.
        with self._conn.cursor(name="stream", row_factory=dict_row) as cur:
            cur.itersize = batch
            cur.execute(_paramstyle(sql), params)
            yield from cur

    def _in_block(self) -> bool:
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def commit(self) -> None:
        """Send what is queued and COMMIT, in one round trip (none if nothing ran)."""
        queued, self._queued = self._queued, []
        if queued == ["BEGIN"]:
            return
        if queued[:1] == ["BEGIN"] or self._in_block():
            queued.append("COMMIT")
        if queued:
            self._conn.execute("; ".join(queued), prepare=False)

    def rollback(self) -> None:
        """Forget what is queued and roll back what ran (a failed batch may have begun)."""
        self._queued = []
        if self._in_block():
            self._conn.execute("ROLLBACK", prepare=False)


class PostgresDatabase(Database):
    """A PostgreSQL database reached by a ``postgresql://`` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 16) -> None:
        self.url = url
        # Autocommit, because transactions are begun and ended by _PostgresTx, inside
        # the messages of other statements.
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": True},
            open=True,
        )
        self._pool.wait(timeout=30)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        with self._pool.connection() as conn:
            if write:
                queued = ["BEGIN"]
            else:
                # A read sends its own BEGIN, so that its statements can stay prepared:
                # that saves the server more than batching BEGIN saves the client.
                conn.execute("BEGIN", prepare=False)
                queued = []
            with self._run(_PostgresTx(conn, queued)) as tx:
                yield tx

    @contextmanager
    def reads(self) -> Iterator[Tx]:
        # No BEGIN, no COMMIT: each statement commits on its own (autocommit).
        with self._pool.connection() as conn, self._run(_PostgresTx(conn, [])) as tx:
            yield tx

    @contextmanager
    def _run(self, tx: _PostgresTx) -> Iterator[Tx]:
        try:
            yield tx
            tx.commit()
        except BaseException:
            tx.rollback()
            raise

    def close(self) -> None:
        self._pool.close()
