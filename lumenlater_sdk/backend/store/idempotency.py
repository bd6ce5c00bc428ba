"""Idempotency keys: claimed with an INSERT in the request's own transaction, then
completed in it, so a request that never commits leaves no row behind.

Each claim carries an ``owner`` token. Completing or releasing a key only touches
the row while that owner still holds it, so a request whose claim was taken over
(a claim an older release committed on its own, whose process looked dead) can
never store its answer over the new owner's. Who may run a key right now is
decided by :mod:`.key_locks`, not by these rows.
"""

from __future__ import annotations

from typing import Any

from ..db import Row, Tx

__all__ = ["claim", "complete", "get", "release"]


def claim(
    tx: Tx,
    merchant_id: str,
    key: str,
    fingerprint: str,
    owner: str,
    now: float,
    *,
    guard: tuple[str, tuple[Any, ...]] = ("1 = 1", ()),
) -> bool:
    """Try to take *key* for *owner*; True if this request now owns it (the row did not
    exist, and the SQL condition *guard*, with its parameters, held)."""
    condition, args = guard
    return (
        tx.execute(
            "INSERT INTO idempotency_keys"
            " (merchant_id, idem_key, fingerprint, state, owner, created)"
            f" SELECT ?, ?, ?, 'running', ?, ? WHERE {condition} ON CONFLICT DO NOTHING",
            (merchant_id, key, fingerprint, owner, now, *args),
        )
        == 1
    )


def get(tx: Tx, merchant_id: str, key: str, *, lock: bool = True) -> Row | None:
    """The stored claim or response for *key* (row-locked on PostgreSQL with *lock*)."""
    return tx.fetchone(
        "SELECT * FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ?"
        + (tx.for_update if lock else ""),
        (merchant_id, key),
    )


def complete(
    tx: Tx, merchant_id: str, key: str, owner: str, status_code: int, response: str
) -> None:
    """Store the final response of *owner*'s request, whose claim *tx* itself made (so no
    one else can have touched the row: the statement is sent with the COMMIT)."""
    tx.send(
        "UPDATE idempotency_keys SET state = 'done', status_code = ?, response = ?"
        " WHERE merchant_id = ? AND idem_key = ? AND state = 'running' AND owner = ?",
        (status_code, response, merchant_id, key, owner),
    )


def release(tx: Tx, merchant_id: str, key: str, owner: str | None) -> bool:
    """Forget *key* if *owner*'s claim or answer is still the one stored (it expired, or
    its owner's process died); False if someone else replaced it meanwhile. Rows from
    before claims had owners have none."""
    same_owner = "owner IS NULL" if owner is None else "owner = ?"
    return (
        tx.execute(
            "DELETE FROM idempotency_keys WHERE merchant_id = ? AND idem_key = ? AND " + same_owner,
            (merchant_id, key) if owner is None else (merchant_id, key, owner),
        )
        == 1
    )
