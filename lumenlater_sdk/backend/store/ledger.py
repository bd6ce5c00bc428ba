"""Merchant-side ledger lines (``txn_…``) and analytics' aggregates over raw rows.

The ``*_raw`` aggregates read every row of the window: the reference the hourly
rollups (``rollups.py``) must equal, and what ``metrics.py`` reads for the parts of a
window that are not whole hours.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..db import Database, Row, Tx
from ..paging import Page, PageRequest
from . import rollups
from ._pagination import fetch_page
from ._rows import insert_row

__all__ = [
    "bill_counts_raw",
    "insert_line",
    "iterate_lines",
    "line_totals_raw",
    "list_lines",
    "series_raw",
    "session_counts_raw",
]


def insert_line(tx: Tx, row: Row) -> None:
    """Insert a ledger line."""
    insert_row(tx, "ledger_lines", row)
    if row["type"] == "payment":
        rollups.inserted(tx, "ledger_lines", row["id"])


def _filters(
    merchant_id: str,
    *,
    line_type: str | None,
    start: int | None,
    end: int | None,
    bill: str | None,
) -> tuple[list[str], list[Any]]:
    where: list[str] = ["merchant_id = ?"]
    params: list[Any] = [merchant_id]
    for cond, value in (
        ("type = ?", line_type),
        ("created >= ?", start),
        ("created < ?", end),
        ("bill_id = ?", bill),
    ):
        if value is not None:
            where.append(cond)
            params.append(value)
    return where, params


def list_lines(
    tx: Tx,
    merchant_id: str,
    page: PageRequest,
    *,
    line_type: str | None = None,
    start: int | None = None,
    end: int | None = None,
    bill: str | None = None,
) -> Page:
    """The merchant's lines, newest first."""
    where, params = _filters(merchant_id, line_type=line_type, start=start, end=end, bill=bill)
    return fetch_page(tx, "ledger_lines", where, params, page)


def iterate_lines(
    db: Database, merchant_id: str, *, start: int | None, end: int | None, batch: int = 2000
) -> Iterator[Row]:
    """Every matching line, oldest first, one short transaction per batch of *batch*.

    No transaction stays open while the caller (a streaming response) waits on
    the network, and at most *batch* rows are in memory. Each batch is one keyset
    read along ``ledger_lines_merchant`` (``id > last``, ``LIMIT``), fetched whole:
    a server-side cursor would only add round trips to a read already bounded.
    Rows hold the columns a line object shows (``merchant_id`` is the caller's).
    """
    where, params = _filters(merchant_id, line_type=None, start=start, end=end, bill=None)
    sql = (
        "SELECT id, type, bill_id, amount, fee, net, created, tx_hash FROM ledger_lines WHERE "
        + " AND ".join([*where, "id > ?"])
        + " ORDER BY id LIMIT ?"
    )
    after = ""
    while True:
        with db.reads() as tx:  # one statement: no BEGIN/COMMIT round trips
            rows = tx.fetchall(sql, [*params, after, batch])
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1]["id"]


def line_totals_raw(tx: Tx, merchant_id: str, start: int, end: int) -> Row:
    """Σ amount / fee / net of payment lines in ``[start, end)``."""
    row = tx.fetchone(
        "SELECT COALESCE(SUM(amount), 0) AS volume, COALESCE(SUM(fee), 0) AS fees,"
        " COALESCE(SUM(net), 0) AS net_volume FROM ledger_lines"
        " WHERE merchant_id = ? AND type = 'payment' AND created >= ? AND created < ?",
        (merchant_id, start, end),
    )
    assert row is not None
    return {k: int(v) for k, v in row.items()}


def bill_counts_raw(
    tx: Tx, merchant_id: str, start: int, end: int, now: int, grace_period: int
) -> Row:
    """Bills created in the window, and the fate of the bills paid in it (overdue: still
    paid more than *grace_period* seconds after creation, at *now*)."""
    row = tx.fetchone(
        "SELECT"
        " (SELECT COUNT(*) FROM bills WHERE merchant_id = ? AND created >= ? AND created < ?)"
        "   AS bills_created,"
        " COUNT(*) AS bills_paid,"
        " COALESCE(SUM(CASE WHEN status = 'repaid' THEN 1 ELSE 0 END), 0) AS repaid_count,"
        " COALESCE(SUM(CASE WHEN status = 'liquidated' THEN 1 ELSE 0 END), 0)"
        "   AS liquidated_count,"
        " COALESCE(SUM(CASE WHEN status = 'paid' AND created + ? < ? THEN 1 ELSE 0 END), 0)"
        "   AS overdue_count"
        " FROM bills WHERE merchant_id = ? AND paid_at >= ? AND paid_at < ?",
        (merchant_id, start, end, grace_period, now, merchant_id, start, end),
    )
    assert row is not None
    return {k: int(v) for k, v in row.items()}


def session_counts_raw(tx: Tx, merchant_id: str, start: int, end: int) -> Row:
    """Sessions created in the window, and how many of those completed."""
    row = tx.fetchone(
        "SELECT COUNT(*) AS sessions_created,"
        " COALESCE(SUM(CASE WHEN status = 'complete' THEN 1 ELSE 0 END), 0)"
        "   AS sessions_completed"
        " FROM checkout_sessions WHERE merchant_id = ? AND created >= ? AND created < ?",
        (merchant_id, start, end),
    )
    assert row is not None
    return {k: int(v) for k, v in row.items()}


def series_raw(tx: Tx, merchant_id: str, bounds: Sequence[int]) -> list[Row]:
    """Payment volume and count per bucket ``[bounds[i], bounds[i+1])``, in SQL."""
    cases = " ".join(f"WHEN created < ? THEN {i}" for i in range(len(bounds) - 1))
    rows = tx.fetchall(
        f"SELECT b, COALESCE(SUM(amount), 0) AS volume, COUNT(*) AS n FROM ("
        f" SELECT CASE {cases} END AS b, amount FROM ledger_lines"
        f" WHERE merchant_id = ? AND type = 'payment' AND created >= ? AND created < ?) q"
        f" GROUP BY b",
        [*bounds[1:], merchant_id, bounds[0], bounds[-1]],
    )
    by_bucket = {int(r["b"]): r for r in rows}
    return [
        {
            "start": bounds[i],
            "volume": int(by_bucket[i]["volume"]) if i in by_bucket else 0,
            "bills_paid": int(by_bucket[i]["n"]) if i in by_bucket else 0,
        }
        for i in range(len(bounds) - 1)
    ]
