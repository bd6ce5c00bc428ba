"""Pruning the delivery engine's own tables: outbox rows whose delivery is final, and
the attempt log past its window. SQL only; the schedule is the retention service's.

Each call deletes at most *limit* rows in one statement of the caller's (short)
transaction, picked in index order (:func:`~..store.retention.delete_batch`): a row a
writer holds at that moment (an event being resent, its outbox row turning pending
again) is passed over on PostgreSQL, and waits for the writer on SQLite, which then
sees its new state.
"""

from __future__ import annotations

from ..db import Tx
from ..store.retention import delete_batch

__all__ = ["FINAL", "prune_attempts", "prune_outbox"]

FINAL = ("delivered", "failed")
"""Outbox states no worker acts on again (a resend makes the row pending anew)."""


def prune_outbox(tx: Tx, status: str, *, before_ms: int, limit: int) -> int:
    """Delete up to *limit* outbox rows in the final *status* whose last claim or
    lease ended before *before_ms*; return how many went.

    ``next_attempt_ms`` of a final row is when its last lease ran out (delivered) or
    when it was given up (failed), so a row claimed since the cutoff is never
    touched, whatever its status says; pending rows never match.
    """
    if status not in FINAL:
        raise ValueError(f"outbox rows in {status!r} are never pruned")
    return delete_batch(
        tx,
        "webhook_outbox",
        "status = ? AND next_attempt_ms < ?",
        "next_attempt_ms",
        (status, before_ms),
        limit,
    )


def prune_attempts(tx: Tx, *, before: int, limit: int) -> int:
    """Delete up to *limit* attempt-log rows made before *before* (Unix seconds),
    oldest first (``webhook_deliveries_created``); return how many went."""
    return delete_batch(tx, "webhook_deliveries", "created < ?", "created", (before,), limit)
