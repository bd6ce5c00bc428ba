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
    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_paramstyle(sql), params, prepare=False)
        return cur.rowcount

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(_paramstyle(sql), params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        # A named (server-side) cursor streams rows instead of buffering the result.
        with self._conn.cursor(name="stream", row_factory=dict_row) as cur:
            cur.itersize = batch
            cur.execute(_paramstyle(sql), params)
            yield from cur


class PostgresDatabase(Database):
    """A PostgreSQL database reached by a ``postgresql://`` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 16) -> None:
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            open=True,
        )
        self._pool.wait(timeout=30)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn)

    def close(self) -> None:
        self._pool.close()
