"""Idempotency keys: claimed with an INSERT before the request runs, then completed."""

from __future__ import annotations

from ..db import Row, Tx

__all__ = ["claim", "complete", "get", "release"]


def claim(tx: Tx, merchant_id: str, key: str, fingerprint: str, now: float) -> bool:
    """Try to take *key*; True if this request now owns it (the row did not exist)."""
    return (
        tx.execute(
            "INSERT INTO idempotency_keys (merchant_id, idem_key, fingerprint, state, created)"
            " VALUES (?, ?, ?, 'running', ?) ON CONFLICT DO NOTHING",
            (merchant_id, key, fingerprint, now),
        )
        == 1
    )


def get(tx: Tx, merchant_id: str, key: str) -> Row | None:
    """The stored claim or response for *key*."""
    return tx.fetchone(
        "SELECT * FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ?" + tx.for_update,
        (merchant_id, key),
    )


def complete(tx: Tx, merchant_id: str, key: str, status_code: int, response: str) -> None:
    """Store the final response of the request that owns *key*."""
    tx.execute(
        "UPDATE idempotency_keys SET state = 'done', status_code = ?, response = ?"
        " WHERE merchant_id = ? AND idem_key = ?",
        (status_code, response, merchant_id, key),
    )


def release(tx: Tx, merchant_id: str, key: str) -> None:
    """Forget *key* (its request failed before changing anything, or it expired)."""
    tx.execute(
        "DELETE FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ?", (merchant_id, key)
    )
