"""The ``dashboard_links`` table: one-time dashboard sign-in links, by token hash."""

from __future__ import annotations

from ..db import Tx

__all__ = ["insert_link", "take_link"]


def insert_link(tx: Tx, token_hash: str, merchant_id: str, expires_at: int, now: int) -> None:
    """Keep a new link (and forget every link that has expired by *now*)."""
    tx.execute("DELETE FROM dashboard_links WHERE expires_at <= ?", (now,))
    tx.send(
        "INSERT INTO dashboard_links (token_hash, merchant_id, expires_at, created)"
        " VALUES (?, ?, ?, ?)",
        (token_hash, merchant_id, expires_at, now),
    )


def take_link(tx: Tx, token_hash: str, now: int) -> str | None:
    """Delete the link and return its merchant if it exists and has not expired; a link
    is taken once (of two takers at once, the one whose DELETE removed the row wins)."""
    merchant_id = tx.scalar(
        "SELECT merchant_id FROM dashboard_links WHERE token_hash = ? AND expires_at > ?",
        (token_hash, now),
    )
    if merchant_id is None:
        return None
    if tx.execute("DELETE FROM dashboard_links WHERE token_hash = ?", (token_hash,)) != 1:
        return None
    return str(merchant_id)
