"""Refused payment attempts (``payment_failures``): written once, counted by analytics."""

from __future__ import annotations

from ..db import Row, Tx
from . import rollups

__all__ = ["count", "insert"]

_COLUMNS = (
    "id",
    "merchant_id",
    "session_id",
    "bill_id",
    "customer",
    "amount",
    "code",
    "message",
    "created",
    "livemode",
)


def insert(tx: Tx, row: Row) -> None:
    """Record one refused attempt."""
    tx.execute(
        f"INSERT INTO payment_failures ({', '.join(_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in _COLUMNS)})",
        tuple(row[c] for c in _COLUMNS),
    )
    rollups.inserted(tx, "payment_failures", row["id"])


def count(tx: Tx, merchant_id: str, start: int, end: int) -> int:
    """Refused attempts on *merchant_id*'s checkouts in ``[start, end)``."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM payment_failures"
            " WHERE merchant_id = ? AND created >= ? AND created < ?",
            (merchant_id, start, end),
        )
    )
