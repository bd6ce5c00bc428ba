"""One statement on its own, straight through libpq: the autocommit reads' path.

psycopg's cursor spends ~75 us of Python per statement around libpq's ~35 us (query
conversion, its prepare bookkeeping, generators driving the wait, result selection,
a row factory built per execute). Here a statement is one blocking
``PQexecPrepared`` (libpq releases the interpreter while it waits) with parameters
dumped and rows loaded by psycopg's own C ``Transformer``: the same adapters, so the
same Python values both ways. Statements that leave together (a transaction's, or a
``GET /v1/bills/{id}``'s bill and ledger clock, sent ahead) take :meth:`Direct.batch`:
libpq's pipeline mode, one Sync.

As psycopg does, a statement is prepared on its connection once it ran there
:data:`PREPARE_AFTER` times (before, the unnamed statement: parsed on every run, but
no round trip of its own; preparing costs one, once), under a name of ours that
psycopg's own ``_pg3_*`` names never take. A connection keeps at most
:data:`MAX_PREPARED`; past that a statement runs unprepared.
"""

from __future__ import annotations

import re
import select
import weakref
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

from ._base import Row

__all__ = ["MAX_PREPARED", "PREPARE_AFTER", "Direct", "Statement", "direct"]

MAX_PREPARED = 256
"""Statements one connection keeps prepared on this path."""
PREPARE_AFTER = 5
"""Runs of a statement on a connection before it is prepared there (psycopg's
``prepare_threshold``)."""

_TUPLES_OK = pq.ExecStatus.TUPLES_OK
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_SYNC = pq.ExecStatus.PIPELINE_SYNC

Statement = tuple[str, Sequence[Any] | None]
"""psycopg's query text and its parameters (``None``: transaction control, unprepared)."""
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
        self._ready: set[bytes] = set()  # names the server has parsed
        self._fd = self._pgconn.socket
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)
        self._names: dict[bytes, list[str]] = {}

    def run(self, query: str, params: Sequence[Any]) -> tuple[list[Row], int]:
        """Run *query* (psycopg's placeholders) with *params*: its rows (dicts, as
        ``dict_row`` makes them) and the number of rows it changed or returned."""
        text, values, types, formats = self._bind(query, params)
        name = self._name(text, types)
        if name is None:
            result = self._pgconn.exec_params(text, values, types, formats)
        else:
            if name not in self._ready:
                self._check(self._pgconn.prepare(name, text, types))
                self._ready.add(name)
            result = self._pgconn.exec_prepared(name, values, formats)
        self._check(result)
        return self._rows(result, name)

    def batch(
        self, statements: Sequence[Statement], *, also: Collection[int] = ()
    ) -> list[tuple[list[Row], int]]:
        """Send *statements* in pipeline mode with one Sync: one round trip. The rows
        and count of the statements at the indexes in *also*, in order, then the last
        one's; the first error, once every result up to the Sync was read (the server
        skipped what followed it; the session takes statements again). A statement
        without parameters (``None``) is never prepared."""
        # Bound first: a refusal here (a parameter count) leaves the connection as it was.
        bound = [
            (query.encode(self._encoding), None, (), (), None)
            if params is None
            else (*self._bind(query, params), b"")
            for query, params in statements
        ]
        pg = self._pgconn
        # What each result answers: a statement (its name, or None) or a Parse.
        slots: list[tuple[bool, bytes | None]] = []
        pg.enter_pipeline_mode()
        try:
            for text, values, types, formats, named in bound:
                name = None if named is None else self._name(text, types)
                if name is None:
                    pg.send_query_params(text, values or None, types or None, formats or None)
                else:
                    if name not in self._ready and (True, name) not in slots:
                        pg.send_prepare(name, text, types)
                        slots.append((True, name))
                    pg.send_query_prepared(name, values, formats)
                slots.append((False, name))
            pg.pipeline_sync()
            results = self._exchange()
            pg.exit_pipeline_mode()
        except BaseException:
            # Interrupted mid-exchange, or the connection failed: what it holds is
            # unknown, so the pool must not hand it out again.
            pg.finish()
            raise
        error: pq.abc.PGresult | None = None
        answers: list[tuple[pq.abc.PGresult, bytes | None]] = []
        for (parse, name), result in zip(slots, results, strict=True):
            status = result.status
            if parse:
                if status == _COMMAND_OK and name is not None:
                    self._ready.add(name)
            elif status == _FATAL_ERROR:
                error = error or result
            elif status != _ABORTED:
                answers.append((result, name))
        if error is not None:
            self._check(error)
        # No error: every statement answered, in order.
        return [self._rows(*answers[i]) for i in (*also, len(answers) - 1)]

    def _exchange(self) -> list[pq.abc.PGresult]:
        """Flush what was sent and read every result up to the Sync's."""
        pg = self._pgconn
        poll = self._poll
        while pg.flush():  # more to send: the server may first want to send to us
            poll.modify(self._fd, select.POLLIN | select.POLLOUT)
            if any(event & select.POLLIN for _, event in poll.poll()):
                pg.consume_input()
        poll.modify(self._fd, select.POLLIN)
        results: list[pq.abc.PGresult] = []
        while True:
            while pg.is_busy():
                poll.poll()  # the interpreter is free meanwhile
                pg.consume_input()  # raises if the connection failed
            result = pg.get_result()
            if result is None:  # the end of one statement's results
                if pg.status != pq.ConnStatus.OK:
                    raise errors.OperationalError("the connection to the server was lost")
                continue
            if result.status == _SYNC:
                return results
            results.append(result)

    def _bind(
        self, query: str, params: Sequence[Any]
    ) -> tuple[bytes, Sequence[bytes], tuple[int, ...], Sequence[pq.Format]]:
        """The query's text with ``$n`` and the parameters dumped, their types and formats."""
        text, count = to_numbered(query)
        if len(params) != count:
            raise psycopg.ProgrammingError(
                f"the query has {count} placeholders but {len(params)} parameters were passed"
            )
        if not count:
            return text, (), (), ()
        tx = self._tx
        # NULLs as None, which libpq takes (psycopg's cursor passes them so too,
        # though its stubs say otherwise).
        values = cast("Sequence[bytes]", tx.dump_sequence(params, [PyFormat.AUTO] * count))
        return text, values, tx.types or (), tx.formats or ()

    def _name(self, text: bytes, types: tuple[int, ...]) -> bytes | None:
        """The statement's prepared name once it ran often enough (it may still need
        its Parse: not in ``_ready``), or ``None``: run it unnamed."""
        key = (text, types)
        name = self._prepared.get(key)
        if name is None and len(self._prepared) < MAX_PREPARED:
            runs = self._runs[key] = self._runs.get(key, 0) + 1
            if runs >= PREPARE_AFTER:
                name = self._prepared[key] = b"ll_%d" % len(self._prepared)
                del self._runs[key]
            elif len(self._runs) > 4 * MAX_PREPARED:  # texts that never repeat
                self._runs.clear()
        return name

    def _rows(self, result: pq.abc.PGresult, name: bytes | None) -> tuple[list[Row], int]:
        if result.status != _TUPLES_OK:
            return [], result.command_tuples or 0
        names = self._names.get(name) if name is not None else None
        if names is None:
            names = [(result.fname(i) or b"").decode(self._encoding) for i in range(result.nfields)]
            if name is not None:
                self._names[name] = names
        ntuples = result.ntuples
        if not ntuples:
            return [], 0
        tx = self._tx
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
