"""Which due outbox rows a claim takes: a cap per endpoint, and endpoints in turn. SQL only.

Taking the oldest due rows first would let one endpoint's backlog fill every claim,
and a hanging endpoint would then hold every slot of every worker until its
requests time out, while other merchants' events wait behind it. Instead:

* an endpoint never has more than *per_endpoint* attempts in flight, counted over
  every worker (leased rows in the table, not a count in one process);
* a claim gives each endpoint with due rows one row in turn (the endpoint whose
  oldest row has waited longest first), round after round, until the claim is full
  or every endpoint has what it may take.

Endpoints with pending rows are found by a loose index scan (one index seek per
endpoint), so a backlog of any size costs a claim nothing; and every read goes along
indexes of the pending (or leased) rows alone, so neither do the millions of delivered
rows a long history leaves. On PostgreSQL a claim
locks each endpoint's row (``SKIP LOCKED``) before it counts that endpoint's leases:
two workers never count the same endpoint at once, so together they never exceed
its cap; an endpoint another worker is claiming for right now is left to that worker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from .._json_text import compact
from ..db import Row, Tx, json_rows, marks

__all__ = ["DEFAULT_PER_ENDPOINT", "Picked", "pick_due"]

DEFAULT_PER_ENDPOINT = 16
"""Attempts one endpoint may have in flight at once, over all workers."""

_ROW = (
    "seq, event_id, endpoint_id, merchant_id, attempts, cycle_attempts, cycle_started_ms,"
    " next_attempt_ms"
)

# One seek per endpoint that has pending rows (retries waiting included), along the
# pending rows' index (status, endpoint_id, next_attempt_ms, seq); for each, its oldest pending
# row and how many rows are due, counted up to one past the cap (enough to know
# whether all fit). Each seek is an ORDER BY ... LIMIT 1, not a MIN(): PostgreSQL may
# compute a MIN by reading every row that matches, and did so for a whole backlog
# once its statistics, taken over millions of delivered rows, said pending rows were rare.
_ENDPOINTS = """
WITH RECURSIVE e(id) AS (
    SELECT (SELECT o.endpoint_id FROM webhook_outbox o WHERE o.status = 'pending'
            ORDER BY o.endpoint_id LIMIT 1)
    UNION ALL
    SELECT (SELECT o.endpoint_id FROM webhook_outbox o
            WHERE o.status = 'pending' AND o.endpoint_id > e.id
            ORDER BY o.endpoint_id LIMIT 1)
    FROM e WHERE e.id IS NOT NULL
)
SELECT id, oldest, (
    SELECT COUNT(*) FROM (
        SELECT 1 AS one FROM webhook_outbox o
        WHERE o.status = 'pending' AND o.endpoint_id = d.id AND o.next_attempt_ms <= ?
        LIMIT ?
    ) capped
) AS due
FROM (
    SELECT id, (SELECT o.next_attempt_ms FROM webhook_outbox o
                WHERE o.status = 'pending' AND o.endpoint_id = e.id
                ORDER BY o.next_attempt_ms LIMIT 1) AS oldest
    FROM e WHERE id IS NOT NULL
) d
WHERE oldest <= ?
ORDER BY oldest, id
"""


# PostgreSQL: each (endpoint, take) of a jsonb parameter reads its *take* oldest due rows,
# as the per-endpoint statement of _rows does, each a LIMIT along the pending index.
_PARTLY = (
    f"SELECT {', '.join('o.' + c.strip() for c in _ROW.split(','))}"
    f" FROM ({json_rows(('text', 'bigint'))}) AS d (endpoint_id, take)"
    f" CROSS JOIN LATERAL (SELECT {_ROW} FROM webhook_outbox"
    " WHERE status = 'pending' AND endpoint_id = d.endpoint_id AND next_attempt_ms <= ?"
    " ORDER BY next_attempt_ms, seq LIMIT d.take FOR UPDATE SKIP LOCKED) o"
)


class Picked(NamedTuple):
    """The rows a claim took, and whether an endpoint's cap held back rows already due."""

    rows: list[Row]
    capped: bool


@dataclass
class _Endpoint:
    id: str
    due: int  # due rows, counted up to one past the cap
    room: int = 0  # attempts it may still start
    take: int = 0  # rows this claim gives it


def _claimable(tx: Tx, ids: list[str]) -> set[str]:
    """The endpoints this transaction may count and claim for now (PostgreSQL: locked)."""
    if tx.dialect != "postgresql":
        return set(ids)  # SQLite's write lock already covers the whole database
    in_ids = marks(len(ids))
    locked = {
        r["id"]
        for r in tx.fetchall(
            f"SELECT id FROM webhook_endpoints WHERE id IN ({in_ids}) ORDER BY id" + tx.skip_locked,
            ids,
        )
    }
    if len(locked) == len(ids):
        return locked
    # Rows whose endpoint is gone have no row to lock; the claim drops them.
    existing = {
        r["id"]
        for r in tx.fetchall(f"SELECT id FROM webhook_endpoints WHERE id IN ({in_ids})", ids)
    }
    return locked | (set(ids) - existing)


def _in_flight(tx: Tx, ids: list[str], now_ms: int) -> dict[str, int]:
    """Leased (being sent) rows per endpoint, by any worker; expired leases do not count."""
    rows = tx.fetchall(
        "SELECT endpoint_id, COUNT(*) AS n FROM webhook_outbox"
        f" WHERE lock_token IS NOT NULL AND endpoint_id IN ({marks(len(ids))})"
        " AND status = 'pending' AND locked_until_ms > ? GROUP BY endpoint_id",
        (*ids, now_ms),
    )
    return {r["endpoint_id"]: int(r["n"]) for r in rows}


def _deal(endpoints: list[_Endpoint], limit: int) -> None:
    """One row to each endpoint in turn, until *limit* is dealt or nobody can take more."""
    takers = [e for e in endpoints if min(e.room, e.due) > 0]
    while limit > 0 and takers:
        for e in takers:
            if limit == 0:
                break
            e.take += 1
            limit -= 1
        takers = [e for e in takers if e.take < min(e.room, e.due)]


def _rows(tx: Tx, dealt: list[_Endpoint], now_ms: int) -> list[Row]:
    # Endpoints dealt all their due rows take them in one query; the others get a
    # LIMIT each, so that a backlog itself is never read.
    whole = [e for e in dealt if e.take == e.due]
    rows: list[Row] = []
    if whole:
        rows += tx.fetchall(
            f"SELECT {_ROW} FROM webhook_outbox WHERE status = 'pending'"
            f" AND endpoint_id IN ({marks(len(whole))}) AND next_attempt_ms <= ?" + tx.skip_locked,
            (*(e.id for e in whole), now_ms),
        )
    partly = [e for e in dealt if e.take < e.due]
    if partly and tx.dialect == "postgresql":
        # One statement for them all: a history's claim deals one row to each of its
        # endpoints, and a round trip each made a cycle of 20 endpoints 25 trips.
        rows += tx.fetchall(_PARTLY, (compact([[e.id, e.take] for e in partly]), now_ms))
        return rows
    for e in partly:
        rows += tx.fetchall(
            f"SELECT {_ROW} FROM webhook_outbox WHERE status = 'pending'"
            " AND endpoint_id = ? AND next_attempt_ms <= ? ORDER BY next_attempt_ms, seq"
            " LIMIT ?" + tx.skip_locked,
            (e.id, now_ms, e.take),
        )
    return rows


def pick_due(tx: Tx, *, now_ms: int, limit: int, per_endpoint: int) -> Picked:
    """Lock up to *limit* due rows, dealt to endpoints in turn within their caps.

    The rows come in the order they were dealt (every endpoint's first row, then
    every endpoint's second...). Leasing them is the caller's job, in the same
    transaction, or the caps mean nothing. ``capped`` says that an endpoint at its
    cap has due rows left: an answer from it frees a slot they may take.
    """
    none = Picked([], capped=False)
    if limit <= 0:
        return none
    found = tx.fetchall(_ENDPOINTS, (now_ms, per_endpoint + 1, now_ms))
    if not found:
        return none
    claimable = _claimable(tx, [r["id"] for r in found])
    endpoints = [_Endpoint(r["id"], int(r["due"])) for r in found if r["id"] in claimable]
    if not endpoints:
        return none
    busy = _in_flight(tx, [e.id for e in endpoints], now_ms)
    for e in endpoints:
        e.room = max(per_endpoint - busy.get(e.id, 0), 0)
    _deal(endpoints, limit)
    capped = any(e.take == e.room < e.due for e in endpoints)  # held back by the cap
    dealt = [e for e in endpoints if e.take > 0]
    if not dealt:
        return Picked([], capped)
    by_endpoint: dict[str, list[Row]] = defaultdict(list)
    for r in _rows(tx, dealt, now_ms):
        by_endpoint[r["endpoint_id"]].append(r)
    # Rows enqueued since the endpoints were counted may have joined: keep the dealt number.
    rank = {e.id: i for i, e in enumerate(dealt)}
    picked: list[tuple[int, int, Row]] = []
    for e in dealt:
        mine = sorted(by_endpoint[e.id], key=lambda r: (r["next_attempt_ms"], r["seq"]))
        picked += [(turn, rank[e.id], r) for turn, r in enumerate(mine[: e.take])]
    picked.sort(key=lambda p: (p[0], p[1]))
    return Picked([r for _, _, r in picked], capped)
