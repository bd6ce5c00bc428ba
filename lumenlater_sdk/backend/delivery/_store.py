"""Outbox upkeep the endpoint rules ask for when an endpoint is disabled or deleted.

The endpoint tables' own SQL is in :mod:`lumenlater_sdk.backend.store.webhook_endpoints`;
this module, like ``_outbox`` and ``_attempts``, is SQL private to the delivery engine.
"""

from __future__ import annotations

from ..db import Tx

__all__ = ["cancel_pending", "forget_endpoint"]


def cancel_pending(tx: Tx, endpoint_id: str) -> None:
    """Give up on what is queued for a disabled endpoint (each event can be resent)."""
    tx.execute(
        "UPDATE webhook_outbox SET status = 'failed' WHERE endpoint_id = ? AND status = 'pending'",
        (endpoint_id,),
    )


def forget_endpoint(tx: Tx, endpoint_id: str) -> None:
    """Drop the whole queue of a deleted endpoint (its attempt log stays)."""
    tx.execute("DELETE FROM webhook_outbox WHERE endpoint_id = ?", (endpoint_id,))
