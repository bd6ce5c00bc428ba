"""The ``request_logs`` table: one row per authenticated API request, per merchant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import Tx
from ..paging import Page, PageRequest
from ._pagination import fetch_page

__all__ = ["COLUMNS", "insert_many", "list_page", "prune"]

COLUMNS = (
    "id",
    "merchant_id",
    "method",
    "path",
    "route",
    "status",
    "request_id",
    "idempotency_key",
    "latency_ms",
    "livemode",
    "created",
)

# Rows per INSERT statement: few enough to stay under SQLite's bound-parameter limit
# (32766 since 3.32; 11 columns × 200 rows = 2200), many enough that a batch is a few
# round trips.
_ROWS_PER_STATEMENT = 200


def insert_many(tx: Tx, rows: Sequence[Sequence[Any]]) -> None:
    """Insert *rows* (tuples in :data:`COLUMNS` order) with multi-row statements."""
    marks = "(" + ", ".join("?" for _ in COLUMNS) + ")"
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        params = [value for row in chunk for value in row]
        tx.send(
            f"INSERT INTO request_logs ({', '.join(COLUMNS)}) VALUES "
            + ", ".join(marks for _ in chunk),
            params,
        )


def list_page(tx: Tx, merchant_id: str, page: PageRequest) -> Page:
    """The merchant's logged requests, newest first."""
    return fetch_page(tx, "request_logs", ["merchant_id = ?"], [merchant_id], page)


def prune(tx: Tx, merchant_id: str, keep: int) -> int:
    """Delete all but the merchant's newest *keep* rows; return how many went."""
    cutoff = tx.scalar(
        "SELECT id FROM request_logs WHERE merchant_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        (merchant_id, keep - 1),
    )
    if cutoff is None:
        return 0
    return tx.execute(
        "DELETE FROM request_logs WHERE merchant_id = ? AND id < ?", (merchant_id, cutoff)
    )
