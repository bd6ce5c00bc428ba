"""Keyset pagination over time-ordered ids (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..db import Row, Tx

__all__ = ["Page", "PageRequest", "fetch_page"]


@dataclass(frozen=True)
class PageRequest:
    """``limit`` (1–100) and at most one of ``starting_after`` / ``ending_before``."""

    limit: int = 10
    starting_after: str | None = None
    ending_before: str | None = None


@dataclass(frozen=True)
class Page:
    """Rows newest first, and whether more lie beyond them in the paging direction."""

    rows: list[Row]
    has_more: bool


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
