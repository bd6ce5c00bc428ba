"""Pruning the backend's own tables that only grow: batches of expired rows. SQL only.

Each ``prune_*`` deletes at most *limit* rows in one statement of the caller's short
transaction (:func:`delete_batch`) and returns how many went. Rows are picked in the
order of an index on the column that ages them; on PostgreSQL the pick passes over
rows another transaction holds (``SKIP LOCKED``): a pruner never waits for a writer.
"""

from __future__ import annotations

import hashlib

from ..db import Tx

__all__ = [
    "LEAD_LOCK",
    "delete_batch",
    "prune_dashboard_links",
    "prune_dashboard_sessions",
    "prune_idempotency_keys",
    "prune_request_logs",
    "prune_seen_chain_events",
    "take_lead",
]

LEAD_LOCK = int.from_bytes(hashlib.sha256(b"lumenlater retention").digest()[:8], "big") >> 2
"""The PostgreSQL advisory lock a pruning batch holds (see :func:`take_lead`)."""


def take_lead(tx: Tx) -> bool:
    """Whether this transaction may prune: on PostgreSQL it holds the pruners' advisory
    lock until it ends, and False means another process's batch holds it right now.
    Always True on SQLite, whose write lock already lets one batch run at a time."""
    if tx.dialect != "postgresql":
        return True
    return bool(tx.scalar("SELECT pg_try_advisory_xact_lock(?)", (LEAD_LOCK,)))


def delete_batch(
    tx: Tx, table: str, cond: str, order: str, args: tuple[object, ...], limit: int
) -> int:
    """Delete up to *limit* rows of *table* matching *cond* (its parameters *args*),
    first in *order*, which an index on *cond*'s column gives; return how many went.

    The rows are picked by their physical address and deleted by it (PostgreSQL
    ``ctid``, SQLite ``rowid``), so the DELETE reads exactly the rows picked, however
    many more match. Picking and deleting are one transaction: on SQLite under its
    write lock, on PostgreSQL under the row locks the pick took (``SKIP LOCKED``: rows
    a writer holds are left to a later batch), so no picked row changes in between.
    """
    if tx.dialect == "postgresql":
        sql = (
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}"
            f" WHERE {cond} ORDER BY {order} LIMIT ? FOR UPDATE SKIP LOCKED))"
        )
    else:
        sql = (
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}"
            f" WHERE {cond} ORDER BY {order} LIMIT ?)"
        )
    return tx.execute(sql, (*args, limit))


def prune_idempotency_keys(tx: Tx, *, before: float, limit: int) -> int:
    """Keys claimed before *before* (Unix seconds): past their 24 h, a replay of them is
    refused by the idempotency rules anyway (``idempotency_keys_created``)."""
    return delete_batch(tx, "idempotency_keys", "created < ?", "created", (before,), limit)


def prune_request_logs(tx: Tx, *, before: int, limit: int) -> int:
    """Request-log rows of requests made before *before* (``request_logs_created``)."""
    return delete_batch(tx, "request_logs", "created < ?", "created", (before,), limit)


def prune_seen_chain_events(tx: Tx, *, through: int, limit: int) -> int:
    """The marks of contract events up to cursor *through*, lowest first (primary key)."""
    return delete_batch(tx, "chain_events_seen", "cursor <= ?", "cursor", (through,), limit)


# The dashboard's tables grow with sign-ins, not with history, and each insert already
# forgets what expired: these catch up after a quiet spell. No index: a day's sign-ins.
def prune_dashboard_links(tx: Tx, *, now: int, limit: int) -> int:
    """Sign-in links expired by *now* (a link cannot be used after it expires)."""
    return delete_batch(tx, "dashboard_links", "expires_at <= ?", "token_hash", (now,), limit)


def prune_dashboard_sessions(tx: Tx, *, ended_before: int, limit: int) -> int:
    """Sessions that expired or were signed out before *ended_before* (the rule
    :func:`~.dashboard_sessions.insert_session` applies a day after they ended)."""
    return delete_batch(
        tx,
        "dashboard_sessions",
        "(expires_at <= ? OR revoked_at <= ?)",
        "token_hash",
        (ended_before, ended_before),
        limit,
    )
