"""The ``checkout_sessions`` table."""

from __future__ import annotations

from typing import Any

from ..db import Row, Tx
from ..paging import Page, PageRequest
from . import rollups
from ._created_ranges import SESSIONS, created_page, touched
from ._pagination import fetch_page
from ._rows import insert_row, update_row

__all__ = [
    "due_for_expiry",
    "get_session",
    "get_session_any",
    "insert_session",
    "list_sessions",
    "postpone_others",
    "update_session",
]


def insert_session(tx: Tx, row: Row) -> None:
    """Insert a session row."""
    insert_row(tx, "checkout_sessions", row)
    rollups.inserted(tx, "checkout_sessions", row["id"])
    touched(tx, SESSIONS, row["id"])


def update_session(tx: Tx, session_id: str, **changes: Any) -> None:
    """Set some columns of one session."""
    rollups.changing(tx, "checkout_sessions", session_id, changes)
    if "created" in changes or "merchant_id" in changes:
        touched(tx, SESSIONS, session_id)
    update_row(tx, "checkout_sessions", session_id, changes)


def get_session(tx: Tx, merchant_id: str, session_id: str, *, lock: bool = False) -> Row | None:
    """One of the merchant's sessions."""
    return tx.fetchone(
        "SELECT * FROM checkout_sessions WHERE id = ? AND merchant_id = ?"
        + (tx.for_update if lock else ""),
        (session_id, merchant_id),
    )


def get_session_any(tx: Tx, session_id: str, *, lock: bool = False) -> Row | None:
    """A session by id alone (the hosted page is reached without an API key)."""
    return tx.fetchone(
        "SELECT * FROM checkout_sessions WHERE id = ?" + (tx.for_update if lock else ""),
        (session_id,),
    )


def list_sessions(
    tx: Tx,
    merchant_id: str,
    page: PageRequest,
    *,
    status: str | None = None,
    order_id: str | None = None,
    created_gte: int | None = None,
    created_lte: int | None = None,
) -> Page:
    """The merchant's sessions, newest first; a created range as
    :mod:`._created_ranges` reads it."""
    where: list[str] = ["merchant_id = ?"]
    params: list[Any] = [merchant_id]
    if status:
        where.append("status = ?")
        params.append(status)
    if order_id:
        where.append("order_id = ?")
        params.append(order_id)
    if created_gte is not None or created_lte is not None:
        return created_page(tx, SESSIONS, where, params, [], None, page, created_gte, created_lte)
    return fetch_page(tx, "checkout_sessions", where, params, page)


def postpone_others(tx: Tx, merchant_id: str, seconds: int) -> int:
    """Move every other merchant's open session's ``expires_at`` *seconds* later (the
    sandbox clock moved for *merchant_id* alone); how many."""
    return tx.execute(
        "UPDATE checkout_sessions SET expires_at = expires_at + ?"
        " WHERE status = 'open' AND merchant_id <> ?",
        (seconds, merchant_id),
    )


def due_for_expiry(tx: Tx, now: int, limit: int = 200) -> list[Row]:
    """Open sessions whose time is up."""
    return tx.fetchall(
        "SELECT * FROM checkout_sessions WHERE status = 'open' AND expires_at <= ?"
        # Along sessions_due: the first to expire first, without sorting all that have.
        " ORDER BY expires_at, id LIMIT ?" + tx.skip_locked,
        (now, limit),
    )
