"""Insert and update one row from a dict of columns.

Table and column names come from the store's own code, never from a request, so
they are safe to format into the statement; every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..db import Tx

__all__ = ["insert_row", "update_row"]


def insert_row(tx: Tx, table: str, row: Mapping[str, Any]) -> None:
    """``INSERT INTO table (cols…) VALUES (?…)``; the result is not read (pipelined)."""
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    tx.send(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def update_row(tx: Tx, table: str, row_id: str, changes: Mapping[str, Any]) -> None:
    """Set *changes* on the row whose ``id`` is *row_id*; nothing to set is a no-op."""
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.send(f"UPDATE {table} SET {sets} WHERE id = ?", [*changes.values(), row_id])
