"""A diagnostic: a transaction that records every statement sent through it.

Not used by the backend itself. The query-plan tests and ``bench/history.py explain``
run a store or service call through it, then explain exactly the SQL and parameters it
sent (what is explained is what runs). It lives in the package, not beside the tests,
because tests and benches both import the package and neither can import the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ._base import Row, Tx

__all__ = ["RecordingTx"]


class RecordingTx(Tx):
    """*inner* with every statement recorded, in order, in :attr:`statements`.

    Reads run on *inner*. Writes run too unless ``run_writes=False``: then they are
    recorded only (``execute`` answers 0 rows changed), so a call's writes can be
    explained without changing the data the next call is explained against.

    Collectors deferred on it (:meth:`Tx.deferred`) are its own: the database flushes
    *inner*'s at COMMIT, so call :meth:`flush_deferred` on this one to send (and record)
    what they write.
    """

    def __init__(self, inner: Tx, *, run_writes: bool = True) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.run_writes = run_writes
        self.statements: list[tuple[str, list[Any]]] = []
        """Each statement sent, with its parameters, oldest first."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.statements.append((sql, list(params)))
        return self.inner.execute(sql, params) if self.run_writes else 0

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements.append((sql, list(params)))
        return self.inner.fetchall(sql, params)

    def iterate(self, sql: str, params: Sequence[Any] = (), *, batch: int = 500) -> Iterator[Row]:
        self.statements.append((sql, list(params)))
        return self.inner.iterate(sql, params, batch=batch)
