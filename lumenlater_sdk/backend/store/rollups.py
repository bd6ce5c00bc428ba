"""Hourly rollups of what analytics counts (``analytics_hourly``), kept in step with the
rows they count, in the same transaction.

One row per (merchant, hour) holds the sums of the hour's facts: payment lines (by
their ``created``), bills created (by ``created``), bills paid and what became of them
(by ``paid_at``), checkout sessions created and completed (by the session's
``created``), refused payment attempts. A fact is counted in the hour its time column
falls in: ``hour = t / 3600 * 3600``.

What each row of a table contributes is written once, as SQL (:data:`_SOURCES`), and
serves three ends: migration 16 sums it over every row (:data:`BACKFILL`); a
transaction that changes a counted row reads that row's contribution *before* its first
change (a point read by primary key) and, just before COMMIT, subtracts it and adds the
contribution of the same rows *as they are then* (:class:`_Pending`, flushed through
:meth:`Tx.deferred`). Reading the "after" state at commit, not keeping it in Python,
makes a ``ROLLBACK TO SAVEPOINT`` (a refused keyed request, a refused chain call)
harmless: rows it undid contribute what they did before. The store functions that
insert or change a counted fact (``bills.insert_bill``/``update_bill``,
``sessions.insert_session``/``update_session``, ``ledger.insert_line``,
``payment_failures.insert``) call :func:`inserted` / :func:`changing`, so no service
can forget them; nothing else writes those columns.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from .._json_text import compact
from ..db import ID_ARRAY, Row, Tx, json_rows

__all__ = [
    "BACKFILL",
    "COUNTERS",
    "HOUR",
    "RECOUNT",
    "TABLE",
    "changing",
    "inserted",
    "payment_buckets",
    "sums",
]

TABLE = "analytics_hourly"
HOUR = 3600

COUNTERS = (
    "payment_volume",
    "payment_fees",
    "payment_net",
    "payments",
    "bills_created",
    "bills_paid",
    "bills_repaid",
    "bills_liquidated",
    "bills_still_paid",
    "sessions_created",
    "sessions_completed",
    "payment_failures",
)


def _when(status: str) -> str:
    return f"CASE WHEN status = '{status}' THEN 1 ELSE 0 END"


# (table, time column, condition, counter -> expression): what each row contributes
# to the hour its time column falls in.
_SOURCES: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    (
        "ledger_lines",
        "created",
        "type = 'payment'",
        {"payment_volume": "amount", "payment_fees": "fee", "payment_net": "net", "payments": "1"},
    ),
    ("bills", "created", "true", {"bills_created": "1"}),
    (
        "bills",
        "paid_at",
        "paid_at IS NOT NULL",
        {
            "bills_paid": "1",
            "bills_repaid": _when("repaid"),
            "bills_liquidated": _when("liquidated"),
            "bills_still_paid": _when("paid"),
        },
    ),
    (
        "checkout_sessions",
        "created",
        "true",
        {"sessions_created": "1", "sessions_completed": _when("complete")},
    ),
    ("payment_failures", "created", "true", {"payment_failures": "1"}),
)

# The columns whose change (after insert) moves a row's contribution, per table; the
# other tables' counted rows never change.
_COUNTED_COLUMNS = {
    "bills": frozenset({"merchant_id", "status", "created", "paid_at"}),
    "checkout_sessions": frozenset({"merchant_id", "status", "created"}),
}
_COLUMNS = ", ".join(COUNTERS)


def _select(source: tuple[str, str, str, dict[str, str]], ids: str | None) -> str:
    """*source*'s contributions of the rows whose id is in *ids* (``?, ?``, or
    :data:`ID_ARRAY`: one parameter), or of every row (``None``)."""
    table, column, condition, exprs = source
    values = ", ".join(f"{exprs.get(c, '0')} AS {c}" for c in COUNTERS)
    if ids is None:
        where = condition
    elif ids == ID_ARRAY:
        where = f"{condition} AND id = {ids}"
    else:
        where = f"{condition} AND id IN ({ids})"
    return (
        f"SELECT merchant_id, {column} / {HOUR} * {HOUR} AS hour, {values}"
        f" FROM {table} WHERE {where}"
    )


def _summed(union: str) -> str:
    sums_ = ", ".join(f"SUM({c}) AS {c}" for c in COUNTERS)
    return (
        f"SELECT merchant_id, hour, {sums_} FROM ({union}) d WHERE true GROUP BY merchant_id, hour"
    )


RECOUNT = _summed(" UNION ALL ".join(_select(s, None) for s in _SOURCES))
"""Every row's contribution, per merchant and hour, counted afresh: what the rollups
must hold (rows of zeros aside)."""

BACKFILL = f"INSERT INTO {TABLE} (merchant_id, hour, {_COLUMNS}) " + RECOUNT
"""Migration 16: what :func:`inserted` would have added had the rollups existed when
the existing rows were written."""

_UPSERT = " ON CONFLICT (merchant_id, hour) DO UPDATE SET " + ", ".join(
    f"{c} = {TABLE}.{c} + excluded.{c}" for c in COUNTERS
)
_NONZERO = " OR ".join(f"SUM({c}) <> 0" for c in COUNTERS)
# Bound parameters per flush statement, well under SQLite's and PostgreSQL's limits.
_CHUNK = 2000


class _Pending:
    """One transaction's counted rows (ids per table) and their contributions as they
    stood before the transaction first changed them (negated, per merchant and hour)."""

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = {}
        self.before: dict[tuple[str, int], list[int]] = {}

    def flush(self, tx: Tx) -> None:
        """Add (after - before) to each touched hour, in (merchant, hour) order: two
        transactions lock the rows they share in the same order."""
        items = [(t, i) for t, ids in sorted(self.ids.items()) for i in sorted(ids)]
        before = [[m, h, *v] for (m, h), v in sorted(self.before.items())]
        self.ids, self.before = {}, {}
        if tx.dialect == "postgresql":
            _add_bound(tx, items, before)
            return
        while items or before:
            chunk, items = items[:_CHUNK], items[_CHUNK:]
            rows, before = before[: _CHUNK // 16], before[_CHUNK // 16 :]
            _add(tx, chunk, rows)


def _add(tx: Tx, items: Sequence[tuple[str, str]], before: Sequence[Sequence[Any]]) -> None:
    params: list[Any] = []
    counts = []
    for source in _SOURCES:
        ids = [i for t, i in items if t == source[0]]
        counts.append(len(ids))
        params.extend(ids)
    params.extend(v for row in before for v in row)
    if params:
        tx.send(_add_sql(tuple(counts), len(before)), params)


def _add_bound(tx: Tx, items: Sequence[tuple[str, str]], before: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: :func:`_add` in one statement of one text whatever the counts, the ids
    of each source one array and the earlier contributions one jsonb parameter. With a
    parameter per id and row, a 1,000-bill transaction of the history fill bound
    thousands, rewritten by psycopg in Python and parsed and planned anew per count."""
    if items or before:
        ids = [[i for t, i in items if t == source[0]] for source in _SOURCES]
        tx.send(_ADD_BOUND, [*ids, compact(before)])


_ADD_BOUND = (
    f"INSERT INTO {TABLE} (merchant_id, hour, {_COLUMNS}) "
    + _summed(
        " UNION ALL ".join(
            [_select(s, ID_ARRAY) for s in _SOURCES]
            + [json_rows(("text", "bigint", *["bigint"] * len(COUNTERS)))]
        )
    )
    + f" HAVING {_NONZERO} ORDER BY merchant_id, hour"
    + _UPSERT
)


@functools.lru_cache(maxsize=256)
def _add_sql(counts: tuple[int, ...], before: int) -> str:
    """The flush statement for *counts* ids of each source and *before* earlier
    contributions: built once per shape (a POST's is always the same) instead of
    joining some forty fragments on every commit."""
    parts: list[str] = []
    for source, n in zip(_SOURCES, counts, strict=True):
        if n:
            parts.append(_select(source, ", ".join("?" * n)))
    if before:
        if not parts:
            # A VALUES list's columns are named column1...: the first part of the union
            # names them, so a chunk of only earlier contributions (a transaction that
            # changed rows of more merchant-hours than a chunk holds) leads with a
            # SELECT that finds nothing.
            parts.append(_select(_SOURCES[0], "NULL"))
        marks = ", ".join("?" * (2 + len(COUNTERS)))
        parts.append("VALUES " + ", ".join(f"({marks})" for _ in range(before)))
    return (
        f"INSERT INTO {TABLE} (merchant_id, hour, {_COLUMNS}) "
        + _summed(" UNION ALL ".join(parts))
        + f" HAVING {_NONZERO} ORDER BY merchant_id, hour"
        + _UPSERT
    )


def _pending(tx: Tx) -> _Pending:
    return tx.deferred("analytics_rollups", _Pending)


def inserted(tx: Tx, table: str, row_id: str) -> None:
    """Row *row_id* of *table* was inserted in *tx*: it is counted at commit."""
    _pending(tx).ids.setdefault(table, set()).add(row_id)


def changing(tx: Tx, table: str, row_id: str, columns: Iterable[str]) -> None:
    """Row *row_id* of *table* is about to have *columns* set: call before the UPDATE
    is sent. When they include a counted one, the first time in *tx*, the row's current
    contribution is read, to be taken back at commit (and the new one added)."""
    if _COUNTED_COLUMNS.get(table, frozenset()).isdisjoint(columns):
        return
    pending = _pending(tx)
    ids = pending.ids.setdefault(table, set())
    if row_id in ids:
        return  # its state before this transaction is already known
    ids.add(row_id)
    if tx.dialect == "postgresql":
        # Locked first (queued: no round trip of its own), so that the state read next
        # is the one this transaction's UPDATE changes, whoever committed a change
        # between: at commit, this row's "after" is read under the same lock.
        tx.send(f"SELECT id FROM {table} WHERE id = ?{tx.for_update}", [row_id])
    union = " UNION ALL ".join(_select(s, "?") for s in _SOURCES if s[0] == table)
    params = [row_id] * sum(1 for s in _SOURCES if s[0] == table)
    for row in tx.fetchall(f"SELECT * FROM ({union}) d", params):
        key = (str(row["merchant_id"]), int(row["hour"]))
        counts = pending.before.setdefault(key, [0] * len(COUNTERS))
        for n, c in enumerate(COUNTERS):
            counts[n] -= int(row[c])


def sums(tx: Tx, merchant_id: str, start: int, end: int) -> dict[str, int]:
    """Every counter summed over the whole hours ``[start, end)`` (both multiples of
    :data:`HOUR`), read along the primary key."""
    row = tx.fetchone(
        "SELECT "
        + ", ".join(f"COALESCE(SUM({c}), 0) AS {c}" for c in COUNTERS)
        + f" FROM {TABLE} WHERE merchant_id = ? AND hour >= ? AND hour < ?",
        (merchant_id, start, end),
    )
    assert row is not None
    return {c: int(row[c]) for c in COUNTERS}


def payment_buckets(tx: Tx, merchant_id: str, buckets: Sequence[tuple[int, int, int]]) -> list[Row]:
    """Payment volume and count (``b``, ``volume``, ``n``) per bucket ``(b, start, end)``
    of whole hours (multiples of :data:`HOUR`), in one statement. Each bucket's sums are
    subqueries correlated with its bounds, so each is a range read of the primary key
    whatever the planner thinks of the table's size (a join may read all the merchant's
    hours once and match them to every bucket). The bounds are integers, written into
    the statement (there can be hundreds)."""
    values = ", ".join(f"({int(b)}, {int(lo)}, {int(hi)})" for b, lo, hi in buckets)
    hours = f"FROM {TABLE} WHERE merchant_id = ? AND hour >= buckets.lo AND hour < buckets.hi"
    return tx.fetchall(
        f"WITH buckets (b, lo, hi) AS (VALUES {values}) SELECT b,"
        f" (SELECT COALESCE(SUM(payment_volume), 0) {hours}) AS volume,"
        f" (SELECT COALESCE(SUM(payments), 0) {hours}) AS n FROM buckets",
        (merchant_id, merchant_id),
    )
