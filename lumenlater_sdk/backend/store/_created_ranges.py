"""Created ranges of the lists (``GET /v1/bills``, ``/v1/events``,
``/v1/checkout/sessions``), read without sorting every row they match.

Pages are in ``id`` order (the wall-clock time a row's id was minted); ``created`` is
ledger time. The two rise together only roughly: on scale-out several processes mint
ids on their own clocks, a bill awaiting its merchant's authorization gets its
``created`` when it is authorized (up to a bill's life later), and the sandbox's ledger
clock runs apart from the wall clock. So the database cannot read a range in id order
along the ``(merchant_id, created, id)`` index; it would sort every match (at 100k
bills of ``bench/history.py``, a wide created range of events took a second). A page
is read one of two ways instead, each exact:

* **few matches** (at most :data:`PROBE` rows in the range, whatever the cursor and the
  other filters): they are counted, then their ids read, off the created index alone
  (index only, at most ``PROBE + 1`` entries), sorted here, and the page's rows read
  by id with the other filters, a chunk at a time
  (:func:`~._pagination.fetch_listed_page`);
* **many**: in id order along the list's own index (``bills_merchant``, or the status,
  customer, type or order index), ``created`` a filter, between the first and the last
  id of the rows of the hours and days the range covers (the table's spans table,
  :attr:`Ranged.spans`, widened by :func:`touched` at each COMMIT that writes a row):
  a range far in the past starts at its own newest row, not at the merchant's. The
  overdue sweep's backlog (bills.py) is read along its own index, which the range
  narrows.

Cost, whatever the history: the probe; then either at most ``limit + 1`` reads by id
(no other filter) or at most :data:`PROBE` (filters rejecting them), or the range's
spans (a few dozen rows: :data:`WIDTHS`) and a walk that passes, besides the page's rows,
the rows of the other statuses or types filtered out (as a list without a range
does), and rows whose ids lie between the range's first and last id while their
``created`` lies outside it: those created in the range's first and last hour outside
it, and rows minted out of ledger order (another process's clock; a bill authorized
after it was issued, within a bill's life). That last is the worst case: a bill of the
range authorized a day after it was issued widens the walk by the bills issued that
day, once the page reaches it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..db import ID_ARRAY, Tx, marks
from ..paging import Page, PageRequest
from ._pagination import Branch, fetch_ids, fetch_listed_page, fetch_page, fetch_union_page

__all__ = [
    "BILLS",
    "EVENTS",
    "PROBE",
    "SESSIONS",
    "WIDTHS",
    "Ranged",
    "created_page",
    "spans_backfill",
    "spans_table",
    "touched",
]


@dataclass(frozen=True)
class Ranged:
    """A table whose lists take a created range (it has an index on ``(merchant_id,
    created, id)``): its name and its spans table's."""

    table: str
    spans: str


BILLS = Ranged("bills", "bill_created_spans")
EVENTS = Ranged("events", "event_created_spans")
SESSIONS = Ranged("checkout_sessions", "session_created_spans")

PROBE = 500
"""A range holding at most this many rows is read by id off the created index."""

_HOUR, _DAY = 3_600, 86_400
WIDTHS = (_HOUR, _DAY, 32 * _DAY)
"""Span widths in seconds, each a multiple of the one before: a range is covered by
hours at its ends, days next to them and 32-day spans between, so a few dozen rows
at most (a day's hours, a span's days, one row a month between)."""
_CHUNK = 500  # rows per flush statement (each id is bound once per width)


def _spans_of(ranged: Ranged, where: str, widths: Sequence[int] = WIDTHS) -> str:
    """Each width's spans (merchant, width, start, first and last id) of the rows
    matching *where*: the bucket is ``created / width * width``, as in the table."""
    return " UNION ALL ".join(
        f"SELECT merchant_id, {w} AS width, created / {w} * {w} AS start,"
        f" min(id) AS first_id, max(id) AS last_id FROM {ranged.table} WHERE {where}"
        f" GROUP BY merchant_id, created / {w} * {w}"
        for w in widths
    )


def spans_table(ranged: Ranged) -> str:
    """The DDL of *ranged*'s spans table: per merchant, span width in seconds and start,
    the first and the last id of the rows created in it."""
    return (
        f"CREATE TABLE {ranged.spans} ("
        " merchant_id TEXT NOT NULL, width BIGINT NOT NULL, start BIGINT NOT NULL,"
        " first_id TEXT NOT NULL, last_id TEXT NOT NULL,"
        " PRIMARY KEY (merchant_id, width, start))"
    )


def spans_backfill(ranged: Ranged, widths: Sequence[int] = WIDTHS) -> str:
    """The spans of *widths* of every row of *ranged* already written (migrations)."""
    return (
        f"INSERT INTO {ranged.spans} (merchant_id, width, start, first_id, last_id) "
        + _spans_of(ranged, "true", widths)
    )


class _Pending:
    """Rows a transaction inserted, or whose ``created`` it set: their spans are widened
    at COMMIT from the rows as they are then (a row a savepoint undid is gone, and a
    span only ever widens: a stale first or last id costs a longer walk, never a row)."""

    def __init__(self, ranged: Ranged) -> None:
        self.ranged = ranged
        self.ids: set[str] = set()

    def flush(self, tx: Tx) -> None:
        """Widen the spans, in (merchant, width, start) order: two transactions lock
        the rows they share in the same order."""
        ids, self.ids = sorted(self.ids), set()
        if tx.dialect == "postgresql" and ids:
            # One statement of one text whatever the count: the ids one array, bound
            # once per width (a parameter per id was rewritten by psycopg in Python
            # and parsed and planned anew for each count).
            tx.send(_widen_sql(self.ranged, tx.dialect, 0), [ids] * len(WIDTHS))
            return
        for n in range(0, len(ids), _CHUNK):
            chunk = ids[n : n + _CHUNK]
            tx.send(_widen_sql(self.ranged, tx.dialect, len(chunk)), chunk * len(WIDTHS))


@functools.lru_cache(maxsize=64)
def _widen_sql(ranged: Ranged, dialect: str, n: int) -> str:
    """The statement widening the spans of *n* rows (0: of one id array per width):
    built once per count (a POST's is one row) rather than on every commit."""
    least, greatest = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")
    t = ranged.spans
    where = f"id = {ID_ARRAY}" if n == 0 else f"id IN ({marks(n)})"
    return (
        f"INSERT INTO {t} (merchant_id, width, start, first_id, last_id)"
        f" SELECT * FROM ({_spans_of(ranged, where)}) s WHERE true"
        " ORDER BY merchant_id, width, start"
        " ON CONFLICT (merchant_id, width, start) DO UPDATE SET"
        f" first_id = {least}({t}.first_id, excluded.first_id),"
        f" last_id = {greatest}({t}.last_id, excluded.last_id)"
    )


def touched(tx: Tx, ranged: Ranged, row_id: str) -> None:
    """Row *row_id* of *ranged* was inserted in *tx*, or is having ``created`` or
    ``merchant_id`` set: its spans take it in at commit."""
    tx.deferred(ranged.spans, functools.partial(_Pending, ranged)).ids.add(row_id)


def _start(t: int, width: int) -> int:
    """The start of *t*'s span of *width* (``created / width * width`` in SQL: ledger
    times are positive)."""
    return t // width * width


def _cover(lo: int, hi: int, widths: Sequence[int]) -> list[tuple[int, int, int]]:
    """Spans ``(width, first start, last start)`` covering ``[lo, hi]``: the finest
    width up to the next width's boundaries, the coarser ones between."""
    fine = widths[0]
    if len(widths) == 1:
        return [(fine, _start(lo, fine), _start(hi, fine))]
    coarse = widths[1]
    first, last = _start(lo, coarse), _start(hi, coarse)
    if first == last:
        return [(fine, _start(lo, fine), _start(hi, fine))]
    out = [(fine, _start(lo, fine), first + coarse - fine)]
    if first + coarse < last:
        out += _cover(first + coarse, last - 1, widths[1:])
    out.append((fine, last, _start(hi, fine)))
    return out


def _id_bounds(
    tx: Tx, ranged: Ranged, merchant_id: str, gte: int | None, lte: int | None
) -> tuple[str | None, str | None]:
    """The first id of the merchant's rows created at *gte* or later, and the last of
    those created at *lte* or earlier, each over the rows created in ``[gte, lte]``
    or a wider range (:func:`_cover`); ``None`` for an
    open end (no bound needed there) or when no span is found."""
    lo_t = 0 if gte is None else max(gte, 0)
    hi_t = 2**62 if lte is None else min(max(lte, 0), 2**62)
    ranges = _cover(lo_t, hi_t, WIDTHS)
    parts: list[str] = []
    params: list[Any] = []
    for width, start, end in ranges:
        if start <= end:
            parts.append(
                f"SELECT first_id, last_id FROM {ranged.spans}"
                " WHERE merchant_id = ? AND width = ? AND start >= ? AND start <= ?"
            )
            params += [merchant_id, width, start, end]
    row = tx.fetchone(
        "SELECT min(first_id) AS lo, max(last_id) AS hi FROM (" + " UNION ALL ".join(parts) + ") s",
        params,
    )
    if row is None:
        return None, None
    lo = None if gte is None else row["lo"]
    hi = None if lte is None else row["hi"]
    return lo, hi


def created_page(
    tx: Tx,
    ranged: Ranged,
    where: Sequence[str],
    params: Sequence[Any],
    branches: Sequence[Branch],
    unordered: Branch | None,
    page: PageRequest,
    gte: int | None,
    lte: int | None,
    *,
    columns: str = "*",
) -> Page:
    """A page of *ranged*'s rows (*columns* of them, ``id`` among them) matching *where*
    (which begins ``merchant_id = ?``) and any of *branches* (none: no further
    condition) or *unordered* (read by :func:`~._pagination.fetch_ids`), created in
    ``[gte, lte]`` (``None``: unbounded), newest first."""
    table = ranged.table
    merchant_id = params[0]
    rng: list[str] = []
    rng_args: list[Any] = []
    if gte is not None:
        rng.append("created >= ?")
        rng_args.append(gte)
    if lte is not None:
        rng.append("created <= ?")
        rng_args.append(lte)
    # Counted first (no row leaves the database), then the ids read when few.
    in_range = f"SELECT id FROM {table} WHERE " + " AND ".join(["merchant_id = ?", *rng])
    in_range += " ORDER BY created, id LIMIT ?"
    probe = [merchant_id, *rng_args, PROBE + 1]
    if int(tx.scalar(f"SELECT count(*) FROM ({in_range}) p", probe)) <= PROBE:
        ids = [str(r["id"]) for r in tx.fetchall(in_range, probe)]
        ored = [*branches, *([unordered] if unordered else [])]
        return fetch_listed_page(tx, table, ids, where, params, ored, page, columns=columns)
    lo, hi = _id_bounds(tx, ranged, merchant_id, gte, lte)
    # The walk's two ends: on each side the cursor where it lies inside the bound,
    # else the bound (given two bounds on one side, the database may seek by the
    # looser one and pass every row between).
    ascending = page.ending_before is not None
    ends: list[str] = []
    end_args: list[Any] = []
    after, before = page.starting_after, page.ending_before
    if after is not None and (hi is None or after <= hi):
        ends.append("id < ?")
        end_args.append(after)
    elif hi is not None:
        ends.append("id <= ?")
        end_args.append(hi)
    if before is not None and (lo is None or before >= lo):
        ends.append("id > ?")
        end_args.append(before)
    elif lo is not None:
        ends.append("id >= ?")
        end_args.append(lo)
    if tx.dialect == "sqlite":
        # The unary ``+`` keeps SQLite (no statistics) from reading the range along
        # the created index and sorting all of it.
        walked, walked_args = [*(f"+{c}" for c in rng), *ends], [*rng_args, *end_args]
    else:
        # PostgreSQL weighs the range by its statistics, which it applies to the bare
        # column and to values it can see: a parameter would be unknown to the plan it
        # reuses once the statement is prepared (after five runs), where any range
        # looks narrow and is read along the created index and sorted. The bounds
        # are integers, written into the statement.
        walked = [c.replace("?", str(int(v))) for c, v in zip(rng, rng_args, strict=True)]
        walked, walked_args = [*walked, *ends], end_args
    read = [([*c, *walked], [*a, *walked_args]) for c, a in branches or [([], [])]]
    walk = PageRequest(page.limit)
    if unordered is not None:
        # Read along its own index (by created), which the range narrows.
        clauses, args = unordered
        listed = fetch_ids(tx, table, [*where, *clauses, *rng], [*params, *args, *rng_args], page)
        return fetch_union_page(
            tx,
            table,
            where,
            params,
            read,
            walk,
            ascending=ascending,
            listed=listed,
            columns=columns,
        )
    if len(read) > 1:
        return fetch_union_page(
            tx, table, where, params, read, walk, ascending=ascending, columns=columns
        )
    return fetch_page(
        tx,
        table,
        [*where, *read[0][0]],
        [*params, *read[0][1]],
        walk,
        ascending=ascending,
        columns=columns,
    )
