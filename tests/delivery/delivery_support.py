"""Helpers shared by the delivery tests: a worker-ready database and events inserted by hand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lumenlater_sdk.backend.db import Database, Tx
from lumenlater_sdk.backend.delivery import SANDBOX_SCHEDULE, DeliveryWorker, enqueue, install
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


@contextmanager
def serving(worker: DeliveryWorker, *, timeout: float = 10.0) -> Iterator[DeliveryWorker]:
    """Run *worker* on an event loop of this test's own (a thread, as a worker process
    runs it in its main thread) until the block ends; it drains before returning."""
    started = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            worker.run(on_started=started.set)
        except BaseException as exc:  # surfaced in the test's thread
            failed.append(exc)
            started.set()

    thread = threading.Thread(target=run, name="test-delivery-worker", daemon=True)
    thread.start()
    assert started.wait(timeout), "the worker did not start"
    if failed:
        raise failed[0]
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout)
        assert not thread.is_alive(), "the worker did not stop"
        if failed:
            raise failed[0]
