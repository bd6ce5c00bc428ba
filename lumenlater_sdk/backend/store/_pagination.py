"""Keyset pagination over time-ordered ids (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import Tx
from ..paging import Page, PageRequest

__all__ = ["fetch_page"]


def fetch_page(
    tx: Tx,
    table: str,
    where: Sequence[str],
    params: Sequence[Any],
    page: PageRequest,
    *,
    columns: str = "*",
) -> Page:
    """One page of *table* rows matching *where* (ANDed SQL fragments with ``?``)."""
    clauses = list(where)
    args = list(params)
    ascending = False
    if page.starting_after:
        clauses.append("id < ?")
        args.append(page.starting_after)
    elif page.ending_before:
        clauses.append("id > ?")
        args.append(page.ending_before)
        ascending = True
    sql = f"SELECT {columns} FROM {table}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += f" ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?"
    rows = tx.fetchall(sql, [*args, page.limit + 1])
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    if ascending:
        rows.reverse()
    return Page(rows, has_more)
