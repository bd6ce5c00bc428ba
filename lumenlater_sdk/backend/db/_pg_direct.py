"""One statement on its own, straight through libpq: the autocommit reads' path.

psycopg's cursor spends ~75 us of Python per statement around libpq's ~35 us (query
conversion, its prepare bookkeeping, generators driving the wait, result selection,
a row factory built per execute); a ``GET /v1/bills/{id}`` is two such statements.
Here a statement is one blocking ``PQexecPrepared`` (libpq releases the interpreter
while it waits) with parameters dumped and rows loaded by psycopg's own C
``Transformer``: the same adapters, so the same Python values both ways.

As psycopg does, a statement is prepared on its connection once it ran there
:data:`PREPARE_AFTER` times (before, the unnamed statement: parsed on every run, but
no round trip of its own; preparing costs one, once), under a name of ours that
psycopg's own ``_pg3_*`` names never take. A connection keeps at most
:data:`MAX_PREPARED`; past that a statement runs unprepared.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

from ._base import Row

__all__ = ["MAX_PREPARED", "PREPARE_AFTER", "Direct", "direct"]

MAX_PREPARED = 256
"""Statements one connection keeps prepared on this path."""
PREPARE_AFTER = 5
"""Runs of a statement on a connection before it is prepared there (psycopg's
``prepare_threshold``)."""

_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_PLACEHOLDER = re.compile(r"%[s%]")


@lru_cache(maxsize=4096)
def to_numbered(query: str) -> tuple[bytes, int]:
    """psycopg's ``%s`` query text (``%%`` a literal ``%``) with PostgreSQL's ``$1,
    $2…``, encoded; and the number of placeholders."""
    count = 0

    def number(found: re.Match[str]) -> str:
        nonlocal count
        if found.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, query).encode(), count


class Direct:
    """The direct path of one connection: its transformer and prepared statements."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._pgconn = conn.pgconn
        self._encoding = conn.info.encoding
        self._tx = Transformer(conn)
        # (statement, parameter types) -> name, and each name's column names
        self._prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self._runs: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self._names: dict[bytes, list[str]] = {}

    def run(self, query: str, params: Sequence[Any]) -> tuple[list[Row], int]:
        """Run *query* (psycopg's placeholders) with *params*: its rows (dicts, as
        ``dict_row`` makes them) and the number of rows it changed or returned."""
        text, count = to_numbered(query)
        if len(params) != count:
            raise psycopg.ProgrammingError(
                f"the query has {count} placeholders but {len(params)} parameters were passed"
            )
        tx = self._tx
        # NULLs as None, which libpq takes (psycopg's cursor passes them so too,
        # though its stubs say otherwise).
        values = cast(
            "Sequence[bytes]", tx.dump_sequence(params, [PyFormat.AUTO] * count) if count else ()
        )
        types: tuple[int, ...] = (tx.types or ()) if count else ()
        formats = tx.formats if count else ()
        key = (text, types)
        name = self._prepared.get(key)
        if name is None and len(self._prepared) < MAX_PREPARED:
            runs = self._runs[key] = self._runs.get(key, 0) + 1
            if runs >= PREPARE_AFTER:
                name = b"ll_%d" % len(self._prepared)
                self._check(self._pgconn.prepare(name, text, types))
                self._prepared[key] = name
                del self._runs[key]
            elif len(self._runs) > 4 * MAX_PREPARED:  # texts that never repeat
                self._runs.clear()
        if name is None:
            result = self._pgconn.exec_params(text, values, types, formats)
        else:
            result = self._pgconn.exec_prepared(name, values, formats)
        status = self._check(result)
        if status != _TUPLES_OK:
            return [], result.command_tuples or 0
        names = self._names.get(name) if name is not None else None
        if names is None:
            names = [(result.fname(i) or b"").decode(self._encoding) for i in range(result.nfields)]
            if name is not None:
                self._names[name] = names
        ntuples = result.ntuples
        if not ntuples:
            return [], 0
        tx.set_pgresult(result)
        rows = tx.load_rows(0, ntuples, lambda values: dict(zip(names, values, strict=True)))
        return rows, ntuples

    def _check(self, result: pq.abc.PGresult) -> int:
        status = result.status
        if status in (_TUPLES_OK, _COMMAND_OK):
            return status
        if status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=self._encoding)
        raise errors.InternalError(f"unexpected result status: {pq.ExecStatus(status).name}")


_DIRECT: weakref.WeakKeyDictionary[psycopg.Connection[Row], Direct] = weakref.WeakKeyDictionary()


def direct(conn: psycopg.Connection[Row]) -> Direct:
    """*conn*'s direct path (made on first use, gone with the connection)."""
    found = _DIRECT.get(conn)
    if found is None:
        found = _DIRECT[conn] = Direct(conn)
    return found
