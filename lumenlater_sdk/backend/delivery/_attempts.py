"""Recording delivery attempts: the attempt log, the outbox row's next step, endpoint health."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .._ids import new_id
from ..db import Tx
from ._outbox import Outcome
from ._schedule import retry_at

__all__ = ["Recorded", "record_outcomes"]


@dataclass(frozen=True)
class Recorded:
    """What became of one attempt once it was written down."""

    outcome: Outcome
    status: str  # pending (retry scheduled) | delivered | failed
    next_attempt_at: float | None


def _disabled_reason(days: float) -> str:
    return (
        f"Deliveries to this endpoint failed continuously for {days:g} days;"
        " it was disabled automatically. Fix the receiver and enable it again."
    )


def _update_health(
    tx: Tx, outcomes: Sequence[Outcome], *, now: float, disable_after: float
) -> set[str]:
    """Track when each endpoint started failing; disable the long-failing ones (returned)."""
    by_endpoint: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_endpoint[o.claim.endpoint_id].append(o)
    healthy: list[str] = []
    disabled: set[str] = set()
    # Endpoints in sorted order: two workers locking the same rows in one order cannot deadlock.
    for endpoint_id in sorted(by_endpoint):
        run = sorted(by_endpoint[endpoint_id], key=lambda o: o.finished)
        last_ok = max((i for i, o in enumerate(run) if o.ok), default=-1)
        failing = run[last_ok + 1 :]
        if not failing:
            healthy.append(endpoint_id)
            continue
        started = int(failing[0].finished)
        # A success earlier in this batch restarts the failing run; otherwise it continues.
        since_sql = "?" if last_ok >= 0 else "COALESCE(failing_since, ?)"
        tx.execute(
            f"UPDATE webhook_endpoints SET failing_since = {since_sql} WHERE id = ?",
            (started, endpoint_id),
        )
        since = tx.scalar(
            "SELECT failing_since FROM webhook_endpoints WHERE id = ?", (endpoint_id,)
        )
        if since is not None and now - since >= disable_after:
            tx.execute(
                "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?"
                " WHERE id = ? AND status = 'enabled'",
                (_disabled_reason(disable_after / 86400), endpoint_id),
            )
            tx.execute(
                "UPDATE webhook_outbox SET status = 'failed' WHERE endpoint_id = ?"
                " AND status = 'pending'",
                (endpoint_id,),
            )
            disabled.add(endpoint_id)
    if healthy:
        tx.send(
            "UPDATE webhook_endpoints SET failing_since = NULL"
            f" WHERE id IN ({', '.join('?' * len(healthy))}) AND failing_since IS NOT NULL",
            healthy,
        )
    return disabled


def record_outcomes(
    tx: Tx,
    outcomes: Sequence[Outcome],
    *,
    tokens: dict[int, str],
    schedule: Sequence[float],
    disable_after: float,
    now: float,
    rng: random.Random | None = None,
) -> list[Recorded]:
    """Write every attempt to the log and move each outbox row on (delivered, retry, failed).

    Nothing here reads what it writes: the statements are sent (:meth:`Tx.send`) and
    leave with the claim that follows in the same transaction, or its COMMIT, instead
    of a round trip each on PostgreSQL.

    *tokens* maps outbox ``seq`` to the lease token it was claimed with: a row
    whose lease expired and was claimed again elsewhere is left to that claim.
    """
    if not outcomes:
        return []
    disabled = _update_health(tx, outcomes, now=now, disable_after=disable_after)
    recorded: list[Recorded] = []
    delivered: dict[str, list[int]] = defaultdict(list)
    for o in outcomes:
        c = o.claim
        if o.ok:
            delivered[tokens[c.seq]].append(c.seq)
            recorded.append(Recorded(o, "delivered", None))
            continue
        nxt = None
        if c.endpoint_id not in disabled:
            nxt = retry_at(
                schedule,
                attempts_done=c.cycle_attempt,
                cycle_started=c.cycle_started,
                now=o.finished,
                rng=rng,
            )
        status = "pending" if nxt is not None else "failed"
        tx.send(
            "UPDATE webhook_outbox SET status = ?, next_attempt_ms = ?, locked_until_ms = NULL,"
            " lock_token = NULL WHERE seq = ? AND lock_token = ?",
            (status, int((nxt if nxt is not None else now) * 1000), c.seq, tokens[c.seq]),
        )
        recorded.append(Recorded(o, status, nxt))
    for token, seqs in delivered.items():
        tx.send(
            "UPDATE webhook_outbox SET status = 'delivered', locked_until_ms = NULL,"
            f" lock_token = NULL WHERE seq IN ({', '.join('?' * len(seqs))}) AND lock_token = ?",
            (*seqs, token),
        )
    values: list[object] = []
    for r in recorded:
        c = r.outcome.claim
        values += [
            new_id("whd"),
            c.merchant_id,
            c.event_id,
            c.endpoint_id,
            c.attempt,
            r.outcome.status_code,
            r.outcome.error,
            r.outcome.duration_ms,
            None if r.next_attempt_at is None else int(r.next_attempt_at),
            int(r.outcome.finished),
            r.outcome.signature,
            r.outcome.response_headers,
            r.outcome.response_body,
        ]
    tx.send(
        "INSERT INTO webhook_deliveries (id, merchant_id, event_id, endpoint_id, attempt,"
        " status_code, error, duration_ms, next_attempt_at, created, request_signature,"
        " response_headers, response_body) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(recorded)),
        values,
    )
    return recorded
