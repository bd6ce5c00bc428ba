"""Helpers shared by the delivery tests: a worker-ready database and events inserted by hand."""

from __future__ import annotations

import json
import time
from typing import Any

from lumenlater_sdk.backend.db import Database, Tx
from lumenlater_sdk.backend.delivery import SANDBOX_SCHEDULE, enqueue, install
from lumenlater_sdk.webhooks.testing import make_event

MERCHANT = "GMERCHANTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
OTHER_MERCHANT = "GOTHERBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
SECRET_KEY = "test-secret-key-for-delivery-tests"
FAST_SCHEDULE = (0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1)
"""Eight attempts within ~2 s: the real schedule's shape, compressed for tests."""

assert len(FAST_SCHEDULE) == len(SANDBOX_SCHEDULE)

# The backend's events table, as DESIGN and the backend's store define it; created
# here so that the worker can be tested on its own.
_EVENTS = (
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, merchant_id TEXT, type TEXT,"
    " created BIGINT, livemode INTEGER, payload TEXT)"
)


def prepare(db: Database) -> None:
    """Delivery tables plus a bare events table."""
    install(db)
    with db.transaction() as tx:
        tx.execute(_EVENTS)


def insert_event(
    tx: Tx, event_type: str = "bill.paid", merchant: str = MERCHANT, **kw: Any
) -> dict[str, Any]:
    """Insert an event row and enqueue it, like the backend does; return the event JSON."""
    event = make_event(event_type, **kw)
    payload = json.dumps(event, separators=(",", ":"))
    tx.execute(
        "INSERT INTO events (id, merchant_id, type, created, livemode, payload)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (event["id"], merchant, event_type, int(time.time()), 0, payload),
    )
    enqueue(tx, event_id=event["id"], merchant_id=merchant, event_type=event_type)
    event["_payload"] = payload
    return event


def emit(
    db: Database, n: int = 1, event_type: str = "bill.paid", **kw: Any
) -> list[dict[str, Any]]:
    """Insert and enqueue *n* events, each in its own transaction."""
    out = []
    for _ in range(n):
        with db.transaction() as tx:
            out.append(insert_event(tx, event_type, **kw))
    return out


class FakeClock:
    """A settable clock (seconds), a second ahead of real time so that fresh rows are due."""

    def __init__(self) -> None:
        self.now = time.time() + 1

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
