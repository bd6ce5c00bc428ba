"""The ``dashboard_sessions`` table: signed-in dashboard sessions, by token hash."""

from __future__ import annotations

from ..db import Tx

__all__ = ["insert_session", "revoke_session", "session_merchant"]


def insert_session(tx: Tx, token_hash: str, merchant_id: str, *, expires_at: int, now: int) -> None:
    """Keep a new session (and forget the sessions that ended a day ago or more)."""
    tx.execute(
        "DELETE FROM dashboard_sessions WHERE expires_at <= ? OR revoked_at <= ?",
        (now - 86_400, now - 86_400),
    )
    tx.send(
        "INSERT INTO dashboard_sessions (token_hash, merchant_id, created, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (token_hash, merchant_id, now, expires_at),
    )


def session_merchant(tx: Tx, token_hash: str, now: int) -> str | None:
    """The merchant of a session neither revoked nor expired by *now*."""
    merchant_id = tx.scalar(
        "SELECT merchant_id FROM dashboard_sessions WHERE token_hash = ? AND expires_at > ?"
        " AND revoked_at IS NULL",
        (token_hash, now),
    )
    return None if merchant_id is None else str(merchant_id)


def revoke_session(tx: Tx, token_hash: str, now: int) -> bool:
    """End a session; whether it was still open."""
    return (
        tx.execute(
            "UPDATE dashboard_sessions SET revoked_at = ? WHERE token_hash = ?"
            " AND revoked_at IS NULL",
            (now, token_hash),
        )
        == 1
    )
