"""Keyset pagination over time-ordered ids (newest first).

A page is one index scan in ``id`` order that stops after ``limit + 1`` rows, as long
as an index leads with the equality columns of *where* and ends in ``id``. A filter
that is a union of such conditions (``status=expired``: stored ``expired``, or unpaid
past its life) would make the database sort every match; :func:`fetch_union_page`
runs each branch as its own ordered, limited scan and merges them instead. When an
index narrower than the list's names every row that can match (a few hundred ids),
:func:`fetch_listed_page` reads the page's rows by id instead of walking the list.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest

__all__ = ["Branch", "fetch_ids", "fetch_listed_page", "fetch_page", "fetch_union_page"]

Branch = tuple[Sequence[str], Sequence[Any]]
"""ANDed SQL fragments (with ``?``) and their parameters."""


def _past_cursor(clauses: list[str], args: list[Any], page: PageRequest) -> bool:
    """Add *page*'s cursor condition to *clauses*; whether the page is read ascending
    (paging back, before ``ending_before``)."""
    if page.starting_after:
        clauses.append("id < ?")
        args.append(page.starting_after)
    elif page.ending_before:
        clauses.append("id > ?")
        args.append(page.ending_before)
        return True
    return False


def _rows(
    tx: Tx,
    table: str,
    where: Sequence[str],
    params: Sequence[Any],
    page: PageRequest,
    columns: str,
    ascending: bool | None = None,
) -> tuple[list[Row], bool]:
    """Up to ``limit + 1`` rows in scan order (newest first, or oldest first when paging
    back); whether the scan was ascending. An explicit *ascending* leaves the cursor to
    *where* (the caller bounds the ids itself)."""
    clauses = list(where)
    args = list(params)
    if ascending is None:
        ascending = _past_cursor(clauses, args, page)
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
    ascending: bool | None = None,
) -> Page:
    """One page of *table* rows matching *where* (ANDed SQL fragments with ``?``).

    *ascending* given: *where* holds the page's bounds on ``id`` (the cursor is not
    applied), and the scan runs oldest first (``True``: a page back) or newest first.
    """
    rows, ascending = _rows(tx, table, where, params, page, columns, ascending)
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
    ascending: bool | None = None,
    listed: Sequence[str] = (),
) -> Page:
    """:func:`fetch_page` of the rows matching *where* and any one of *branches*, or
    whose id is *listed* (and matching *where*).

    Each branch is read as its own page (at most ``limit + 1`` rows along an index),
    and the pages are merged by ``id``: the same rows as one query with the branches
    ORed, without a sort of every match. *listed* holds the matches of a condition
    whose index reads them in another order (:func:`fetch_ids`: a few rows): they are
    read by id, in page order, and merged too. *columns* must include ``id``.
    """
    direction = ascending
    ascending = page.ending_before is not None if direction is None else direction
    scans: list[list[Row]] = []
    for clauses, args in branches:
        rows, ascending = _rows(
            tx, table, [*where, *clauses], [*params, *args], page, columns, direction
        )
        scans.append(rows)
    if listed:
        ids = sorted(_beyond(listed, page), reverse=not ascending)
        scans.append(_by_id(tx, table, ids, where, params, page.limit, ascending, columns))
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


def _beyond(ids: Sequence[str], page: PageRequest) -> list[str]:
    """The *ids* past the page's cursor."""
    if page.starting_after:
        return [i for i in ids if i < page.starting_after]
    if page.ending_before:
        return [i for i in ids if i > page.ending_before]
    return list(ids)


def _by_id(
    tx: Tx,
    table: str,
    ids: Sequence[str],
    where: Sequence[str],
    params: Sequence[Any],
    limit: int,
    ascending: bool,
    columns: str,
) -> list[Row]:
    """Up to ``limit + 1`` rows matching *where* among *ids* (in scan order), read by
    id a chunk at a time: ``limit + 1`` ids, then four times as many each time."""
    found: list[Row] = []
    start, size = 0, limit + 1
    while start < len(ids) and len(found) <= limit:
        chunk = ids[start : start + size]
        start, size = start + size, size * 4
        marks = ", ".join("?" for _ in chunk)
        rows = tx.fetchall(
            f"SELECT {columns} FROM {table} WHERE " + " AND ".join([f"id IN ({marks})", *where]),
            [*chunk, *params],
        )
        found += sorted(rows, key=lambda r: str(r["id"]), reverse=not ascending)
    return found[: limit + 1]


def fetch_ids(
    tx: Tx, table: str, where: Sequence[str], params: Sequence[Any], page: PageRequest
) -> list[str]:
    """The ids of every row matching *where* past *page*'s cursor, in no order: for a
    condition read along an index in another order than ``id`` (it must match few
    rows), whose rows :func:`fetch_union_page` then reads by id."""
    clauses, args = list(where), list(params)
    _past_cursor(clauses, args, page)
    sql = f"SELECT id FROM {table} WHERE " + " AND ".join(clauses)
    return [str(r["id"]) for r in tx.fetchall(sql, args)]


def fetch_listed_page(
    tx: Tx,
    table: str,
    ids: Sequence[str],
    where: Sequence[str],
    params: Sequence[Any],
    branches: Sequence[Branch],
    page: PageRequest,
    *,
    columns: str = "*",
) -> Page:
    """:func:`fetch_union_page` (or :func:`fetch_page`, no *branches*) when *ids* holds
    every row that can match, in any order: the rows are read by id, in page order, a
    chunk at a time, so at most ``limit + 1`` reads when every id matches and
    ``len(ids)`` when none does. *columns* must include ``id``."""
    ascending = page.ending_before is not None
    ids = sorted(_beyond(ids, page), reverse=not ascending)
    clauses, args = list(where), list(params)
    if branches and all(b for b, _ in branches):
        clauses.append("(" + " OR ".join(f"({' AND '.join(b)})" for b, _ in branches) + ")")
        args += [a for _, branch_args in branches for a in branch_args]
    return _page(
        _by_id(tx, table, ids, clauses, args, page.limit, ascending, columns), ascending, page
    )
