"""The outbox: one row per (event, endpoint) still to deliver. SQL only.

A row is *claimed* by bumping its attempt number and pushing ``next_attempt_ms``
to the end of a lease; a worker that dies mid-delivery therefore loses its rows
only until the lease runs out, and the next claim uses a new attempt number, so
no attempt number is ever sent by two workers at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ..db import Row, Tx, marks
from ._fair import pick_due

__all__ = [
    "NOTIFY_CHANNEL",
    "Claim",
    "Due",
    "Outcome",
    "claim_due",
    "drop",
    "enqueue",
    "matches",
    "release",
    "requeue",
]

NOTIFY_CHANNEL = "lumenlater_webhook_outbox"
"""The channel :func:`enqueue` notifies (:meth:`Tx.notify`): workers listen on it."""


def matches(enabled_events: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to *enabled_events* receives *event_type*."""
    return "*" in enabled_events or event_type in enabled_events


def _insert(tx: Tx, event_id: str, endpoint_id: str, merchant_id: str, now: float) -> int:
    return tx.execute(
        "INSERT INTO webhook_outbox (event_id, endpoint_id, merchant_id, status,"
        " next_attempt_ms, created) VALUES (?, ?, ?, 'pending', ?, ?)"
        " ON CONFLICT (event_id, endpoint_id) DO NOTHING",
        (event_id, endpoint_id, merchant_id, int(now * 1000), int(now)),
    )


def enqueue(
    tx: Tx, *, event_id: str, merchant_id: str, event_type: str, now: float | None = None
) -> None:
    """Queue *event_id* for every enabled endpoint of *merchant_id* that wants *event_type*.

    Call it in the transaction that inserts the event row, so that the event and
    its deliveries commit or vanish together. One statement that needs no answer:
    the endpoints are matched in SQL (``enabled_events`` is a JSON list of names, so
    ``"<type>"`` or ``"*"`` appears in it exactly when :func:`matches` holds). Where
    the count of rows queued is not free (PostgreSQL), the workers are woken anyway,
    which costs them one claim.
    """
    at = time.time() if now is None else now
    queued = tx.send_counted(
        _ENQUEUE[tx.dialect],
        (event_id, int(at * 1000), int(at), merchant_id, f'"{event_type}"'),
    )
    if queued is None or queued:
        tx.notify(NOTIFY_CHANNEL)


# A plain substring test, case-sensitive as matches() is. Not LIKE: on SQLite a bound
# LIKE pattern may steer the plan, so each new binding expires the statement and it is
# prepared again on every run (measured: four times the cost of this one); and SQLite's
# LIKE ignores ASCII case, which matches() does not.
_ENQUEUE = {
    dialect: "INSERT INTO webhook_outbox (event_id, endpoint_id, merchant_id, status,"
    " next_attempt_ms, created)"
    " SELECT ?, id, merchant_id, 'pending', ?, ? FROM webhook_endpoints"
    " WHERE merchant_id = ? AND status = 'enabled'"
    f" AND ({find}(enabled_events, ?) > 0 OR {find}(enabled_events, '\"*\"') > 0)"
    " ON CONFLICT (event_id, endpoint_id) DO NOTHING"
    for dialect, find in (("sqlite", "instr"), ("postgresql", "strpos"))
}


def requeue(
    tx: Tx, *, event_id: str, endpoint_ids: Iterable[str], merchant_id: str, now: float
) -> int:
    """Queue *event_id* for *endpoint_ids* again with a fresh retry schedule; return rows queued."""
    n = 0
    for endpoint_id in endpoint_ids:
        changed = tx.execute(
            "UPDATE webhook_outbox SET status = 'pending', cycle_attempts = 0,"
            " cycle_started_ms = NULL, next_attempt_ms = ? WHERE event_id = ? AND endpoint_id = ?"
            " AND (status <> 'pending' OR lock_token IS NULL)",
            (int(now * 1000), event_id, endpoint_id),
        )
        if not changed:
            changed = _insert(tx, event_id, endpoint_id, merchant_id, now)
        n += changed
    if n:
        tx.notify(NOTIFY_CHANNEL)
    return n


@dataclass(frozen=True)
class Claim:
    """One attempt this worker now owns: what to send where."""

    seq: int
    event_id: str
    event_type: str
    payload: bytes
    endpoint_id: str
    merchant_id: str
    url: str
    secrets: tuple[str, ...] = field(repr=False)
    attempt: int
    cycle_attempt: int
    cycle_started: float


@dataclass(frozen=True)
class Outcome:
    """The result of sending one :class:`Claim`."""

    claim: Claim
    status_code: int | None
    error: str | None
    duration_ms: int
    finished: float
    response_headers: str | None = None  # a JSON object of the kept headers
    response_body: str | None = None  # its first 2 KiB, decoded leniently
    signature: str | None = None  # the X-LumenLater-Signature sent

    @property
    def ok(self) -> bool:
        """Any 2xx within the timeout."""
        return self.status_code is not None and 200 <= self.status_code < 300


class Due(NamedTuple):
    """Leased rows with their events, endpoints (by id) and secrets; see :func:`claim_due`."""

    rows: list[Row]
    events: list[Row]
    endpoints: dict[str, Row]
    secrets: list[Row]
    capped: bool


def claim_due(
    tx: Tx, *, now: float, lease: float, token: str, limit: int, per_endpoint: int
) -> Due:
    """Lock and lease up to *limit* due rows; return them with their events, endpoints and secrets.

    Rows are dealt to endpoints in turn, none past *per_endpoint* attempts in flight
    (see ``_fair``; ``capped``: one at its cap has rows left). On PostgreSQL, ``SKIP
    LOCKED`` lets several workers claim side by side; rows another worker is claiming
    right now are simply passed over.
    """
    now_ms = int(now * 1000)
    rows, capped = pick_due(tx, now_ms=now_ms, limit=limit, per_endpoint=per_endpoint)
    if not rows:
        return Due([], [], {}, [], capped)
    lease_ms = now_ms + int(lease * 1000)
    seqs = [r["seq"] for r in rows]
    tx.send(  # leaves with the next read: the rows are locked already
        "UPDATE webhook_outbox SET attempts = attempts + 1, cycle_attempts = cycle_attempts + 1,"
        " cycle_started_ms = COALESCE(cycle_started_ms, ?), next_attempt_ms = ?,"
        f" locked_until_ms = ?, lock_token = ? WHERE seq IN ({marks(len(seqs))})",
        (now_ms, lease_ms, lease_ms, token, *seqs),
    )
    event_ids = sorted({r["event_id"] for r in rows})
    events = tx.fetchall(
        f"SELECT id, type, payload FROM events WHERE id IN ({marks(len(event_ids))})",
        event_ids,
    )
    endpoint_ids = sorted({r["endpoint_id"] for r in rows})
    in_ids = marks(len(endpoint_ids))
    endpoints = {
        e["id"]: e
        for e in tx.fetchall(
            f"SELECT id, url, status FROM webhook_endpoints WHERE id IN ({in_ids})", endpoint_ids
        )
    }
    secrets = tx.fetchall(
        "SELECT endpoint_id, ciphertext FROM webhook_endpoint_secrets"
        f" WHERE endpoint_id IN ({in_ids}) AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY seq DESC",
        (*endpoint_ids, int(now)),
    )
    return Due(rows, events, endpoints, secrets, capped)


def release(tx: Tx, claims: Sequence[tuple[int, str]], *, now: float) -> None:
    """Give back rows claimed under (seq, lease token) that were never answered (the
    worker stopped mid-send): due now, with the attempt not counted."""
    for seq, token in claims:
        tx.send(
            "UPDATE webhook_outbox SET attempts = attempts - 1,"
            " cycle_attempts = cycle_attempts - 1, next_attempt_ms = ?, locked_until_ms = NULL,"
            " lock_token = NULL WHERE seq = ? AND lock_token = ? AND status = 'pending'",
            (int(now * 1000), seq, token),
        )


def drop(tx: Tx, seqs: Sequence[int]) -> None:
    """Give up on rows whose event or endpoint no longer exists or is disabled."""
    if seqs:
        tx.execute(
            "UPDATE webhook_outbox SET status = 'failed', locked_until_ms = NULL, lock_token = NULL"
            f" WHERE seq IN ({marks(len(seqs))})",
            tuple(seqs),
        )
