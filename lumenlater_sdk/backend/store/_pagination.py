"""Keyset pagination over time-ordered ids (newest first).

A page is one index scan in ``id`` order that stops after ``limit + 1`` rows, as long
as an index leads with the equality columns of *where* and ends in ``id``. A filter
that is a union of such conditions (``status=expired``: stored ``expired``, or unpaid
past its life) would make the database sort every match; :func:`fetch_union_page`
runs each branch as its own ordered, limited scan and merges them instead.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest

__all__ = ["Branch", "fetch_page", "fetch_union_page"]

Branch = tuple[Sequence[str], Sequence[Any]]
"""ANDed SQL fragments (with ``?``) and their parameters."""


def _rows(
    tx: Tx, table: str, where: Sequence[str], params: Sequence[Any], page: PageRequest, columns: str
) -> tuple[list[Row], bool]:
    """Up to ``limit + 1`` rows in scan order (newest first, or oldest first when paging
    back); whether the scan was ascending."""
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
    return tx.fetchall(sql, [*args, page.limit + 1]), ascending


def _page(rows: list[Row], ascending: bool, page: PageRequest) -> Page:
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    if ascending:
        rows.reverse()
    return Page(rows, has_more)


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
    rows, ascending = _rows(tx, table, where, params, page, columns)
    return _page(rows, ascending, page)


def fetch_union_page(
    tx: Tx,
    table: str,
    where: Sequence[str],
    params: Sequence[Any],
    branches: Sequence[Branch],
    page: PageRequest,
    *,
    columns: str = "*",
) -> Page:
    """:func:`fetch_page` of the rows matching *where* and any one of *branches*.

    Each branch is read as its own page (at most ``limit + 1`` rows along an index),
    and the pages are merged by ``id``: the same rows as one query with the branches
    ORed, without a sort of every match. *columns* must include ``id``.
    """
    ascending = False
    scans: list[list[Row]] = []
    for clauses, args in branches:
        rows, ascending = _rows(tx, table, [*where, *clauses], [*params, *args], page, columns)
        scans.append(rows)
    merged: list[Row] = []
    seen: set[str] = set()
    # Ids of one table share their prefix and length and are otherwise [0-9a-z], so
    # Python's order is the database's (byte order, and any PostgreSQL collation).
    for row in heapq.merge(*scans, key=lambda r: str(r["id"]), reverse=not ascending):
        if row["id"] not in seen:  # branches may overlap: a row is listed once
            seen.add(row["id"])
            merged.append(row)
        if len(merged) > page.limit:
            break
    return _page(merged, ascending, page)
