"""The ``events`` table: the exact event JSON the API returns, per merchant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...types.event import EVENT_TYPES
from ..db import Row, Tx
from ..paging import Page, PageRequest
from ._created_ranges import EVENTS, created_page, touched
from ._pagination import Branch, fetch_page, fetch_union_page

__all__ = [
    "get_event",
    "get_event_type",
    "get_state",
    "insert_event",
    "list_events",
    "mark_chain_event_seen",
    "mark_new_chain_events_seen",
    "seen_chain_events",
    "set_state",
]


def insert_event(
    tx: Tx,
    *,
    event_id: str,
    merchant_id: str,
    event_type: str,
    created: int,
    livemode: bool,
    payload: str,
    object_id: str | None,
) -> None:
    """Insert one event row."""
    tx.send(
        "INSERT INTO events (id, merchant_id, type, created, livemode, payload, object_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event_id, merchant_id, event_type, created, int(livemode), payload, object_id),
    )
    touched(tx, EVENTS, event_id)


def get_event(tx: Tx, merchant_id: str, event_id: str) -> Row | None:
    """One of the merchant's events."""
    return tx.fetchone(
        "SELECT payload FROM events WHERE id = ? AND merchant_id = ?", (event_id, merchant_id)
    )


def get_event_type(tx: Tx, merchant_id: str, event_id: str) -> str | None:
    """The type of one of the merchant's events, or ``None`` if it has no such event."""
    value = tx.scalar(
        "SELECT type FROM events WHERE id = ? AND merchant_id = ?", (event_id, merchant_id)
    )
    return None if value is None else str(value)


def list_events(
    tx: Tx,
    merchant_id: str,
    page: PageRequest,
    *,
    event_type: str | None = None,
    object_id: str | None = None,
    created_gte: int | None = None,
    created_lte: int | None = None,
) -> Page:
    """The merchant's events, newest first; a created range as :mod:`._created_ranges`
    reads it.

    ``bill.*`` names every type of the catalogue (:data:`EVENT_TYPES`, the only types
    the backend writes) that starts with ``bill.``: each is read along
    ``events_merchant_type`` in ``id`` order and the pages merged, where a ``LIKE``
    would sort every matching event of the merchant's history.
    """
    where: list[str] = ["merchant_id = ?"]
    params: list[Any] = [merchant_id]
    if object_id:
        where.append("object_id = ?")
        params.append(object_id)
    branches: list[Branch] = []
    if event_type and event_type.endswith(".*"):
        prefix = event_type[:-1]
        branches = [(["type = ?"], [t]) for t in EVENT_TYPES if t.startswith(prefix)]
        if not branches:
            return Page([], False)
    elif event_type:
        branches = [(["type = ?"], [event_type])]
    columns = "id, payload"
    if created_gte is not None or created_lte is not None:
        return created_page(
            tx,
            EVENTS,
            where,
            params,
            branches,
            None,
            page,
            created_gte,
            created_lte,
            columns=columns,
        )
    if len(branches) > 1:
        return fetch_union_page(tx, "events", where, params, branches, page, columns=columns)
    for clauses, args in branches:
        where += clauses
        params += args
    return fetch_page(tx, "events", where, params, page, columns=columns)


def mark_chain_event_seen(tx: Tx, cursor: int) -> bool:
    """Record that the contract event *cursor* was turned into API events; False if it was."""
    return (
        tx.execute(
            "INSERT INTO chain_events_seen (cursor) VALUES (?) ON CONFLICT DO NOTHING", (cursor,)
        )
        == 1
    )


def mark_new_chain_events_seen(tx: Tx, cursors: Sequence[int]) -> None:
    """Record that the contract events *cursors*, made in *tx*, were turned into API
    events: one statement, sent with what follows (none can have been seen before)."""
    if cursors:
        tx.send(
            "INSERT INTO chain_events_seen (cursor) VALUES " + ", ".join(["(?)"] * len(cursors)),
            list(cursors),
        )


def seen_run_end(tx: Tx, after: int, *, span: int) -> int:
    """The last cursor of the run of contract events turned into API events that starts
    right after *after* (*after* itself when the next one was not), looking at most
    *span* cursors ahead: the sweep need not read those events back."""
    if tx.scalar("SELECT 1 FROM chain_events_seen WHERE cursor = ?", (after + 1,)) is None:
        return after
    # The first of them whose successor is not marked ends the run: from after + 1 on
    # each cursor up to it is marked, or that earlier one would have been first.
    # Both sides bounded: PostgreSQL may answer NOT EXISTS with an anti-join over all it
    # is given, and the table holds every marked event of the last two days.
    end = tx.scalar(
        "SELECT min(s.cursor) FROM chain_events_seen s WHERE s.cursor > ? AND s.cursor <= ?"
        " AND NOT EXISTS (SELECT 1 FROM chain_events_seen n"
        " WHERE n.cursor = s.cursor + 1 AND n.cursor > ? AND n.cursor <= ?)",
        (after, after + span, after + 1, after + span + 1),
    )
    return after + span if end is None else int(end)


def seen_chain_events(tx: Tx, first: int, last: int) -> set[int]:
    """Which contract events from *first* to *last* (inclusive) were already turned into
    API events."""
    rows = tx.fetchall(
        "SELECT cursor FROM chain_events_seen WHERE cursor >= ? AND cursor <= ?", (first, last)
    )
    return {int(r["cursor"]) for r in rows}


def get_state(tx: Tx, key: str, *, lock: bool = False) -> str | None:
    """A small persisted value (e.g. the chain event cursor)."""
    value = tx.scalar(
        "SELECT v FROM backend_state WHERE k = ?" + (tx.for_update if lock else ""), (key,)
    )
    return None if value is None else str(value)


def set_state(tx: Tx, key: str, value: str) -> None:
    """Upsert a persisted value."""
    tx.send(
        "INSERT INTO backend_state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = ?",
        (key, value, value),
    )
