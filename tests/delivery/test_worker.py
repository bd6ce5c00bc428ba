"""The delivery worker against its own tables and a real receiving ``WebhookApp`` server."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from delivery_receiver import Receiver
from delivery_support import (
    FAST_SCHEDULE,
    MERCHANT,
    SECRET_KEY,
    FakeClock,
    emit,
    prepare,
    serving,
)
from endpoint_support import Endpoints

from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.delivery import (
    DEFAULT_SCHEDULE,
    DISABLE_AFTER,
    DeliveryWorker,
    Recorded,
)
from lumenlater_sdk.backend.delivery._outbox import matches
from lumenlater_sdk.backend.delivery._schedule import retry_at
from lumenlater_sdk.types import WebhookDelivery
from lumenlater_sdk.webhooks import verify_signature


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with connect(db_url) as database:
        prepare(database)
        yield database


@pytest.fixture
def service(db: Database) -> Endpoints:
    return Endpoints(db)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def endpoint(service: Endpoints, receiver: Receiver, events: list[str] | None = None) -> str:
    ep = service.create(MERCHANT, url=receiver.url, enabled_events=events or ["*"])
    receiver.set_secret(ep["secret"])
    return str(ep["id"])


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def outbox(db: Database) -> list[dict[str, object]]:
    with db.transaction(write=False) as tx:
        return tx.fetchall("SELECT * FROM webhook_outbox ORDER BY seq")


def log(service: Endpoints, endpoint_id: str) -> list[WebhookDelivery]:
    return [
        WebhookDelivery.model_validate(d)
        for d in reversed(service.deliveries(MERCHANT, endpoint_id))
    ]


def test_delivers_exact_bytes_signed_with_design_headers(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    ep = endpoint(service, receiver)
    events = emit(db, 3)
    with DeliveryWorker(db, secret_key=SECRET_KEY) as worker:
        assert worker.run_once() == 3
        assert worker.run_once() == 0
    receiver.wait_handled(3)
    by_id = {h.event_id: h for h in receiver.hits}
    for ev in events:
        hit = by_id[ev["id"]]
        assert hit.body == ev["_payload"].encode()
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["user-agent"] == "LumenLater-Webhooks/1.0"
        assert hit.event_type == "bill.paid"
        assert hit.attempt == 1
        assert hit.signature.count("v1=") == 1
        verify_signature(hit.body, hit.signature, receiver.hooks.secret)
        assert hit.status == 200
    assert {r["status"] for r in outbox(db)} == {"delivered"}
    attempts = log(service, ep)
    assert [(d.attempt, d.status_code, d.error, d.next_attempt_at) for d in attempts] == [
        (1, 200, None, None)
    ] * 3


def test_500_then_200_is_retried_on_the_schedule(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    receiver.mode = "500"
    ep = endpoint(service, receiver)
    clock = FakeClock()
    (ev,) = emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock, schedule=DEFAULT_SCHEDULE) as w:
        assert w.run_once() == 1
        first = log(service, ep)[0]
        assert first.status_code == 500 and first.attempt == 1
        assert first.next_attempt_at is not None
        assert 4 <= first.next_attempt_at - int(clock.now) <= 6  # +5 s ±10 %
        assert w.run_once() == 0  # not due yet
        clock.advance(6)
        receiver.mode = "ok"
        assert w.run_once() == 1
    receiver.wait_handled(1)
    assert [(d.attempt, d.status_code) for d in log(service, ep)] == [(1, 500), (2, 200)]
    assert [h.attempt for h in receiver.hits if h.event_id == ev["id"]] == [1, 2]
    assert outbox(db)[0]["status"] == "delivered"


def test_receiver_down_then_up(db: Database, service: Endpoints, receiver: Receiver) -> None:
    ep = endpoint(service, receiver)  # not started: connections are refused
    clock = FakeClock()
    emit(db, 2)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock) as w:
        assert w.run_once() == 2
        down = log(service, ep)
        assert all(d.status_code is None and "connect" in (d.error or "") for d in down)
        receiver.start()
        clock.advance(6)
        assert w.run_once() == 2
    receiver.wait_handled(2)
    assert {r["status"] for r in outbox(db)} == {"delivered"}


def test_hanging_receiver_times_out_and_is_retried(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    receiver.mode = "hang"
    receiver.hang_seconds = 3.0
    ep = endpoint(service, receiver)
    clock = FakeClock()
    emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock, timeout=0.5) as w:
        assert w.run_once() == 1
        (timed_out,) = log(service, ep)
        assert timed_out.status_code is None and "timeout" in (timed_out.error or "")
        receiver.mode = "ok"
        clock.advance(6)
        assert w.run_once() == 1
    receiver.wait_handled(1)


def test_defaults_follow_the_design() -> None:
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 86400)
    assert DISABLE_AFTER == 3 * 86400
    with connect(":memory:") as db:
        w = DeliveryWorker(db, secret_key=SECRET_KEY)
        assert w.timeout == 10.0
        assert w.schedule == DEFAULT_SCHEDULE
        w.close()


def test_retry_offsets_are_jittered_within_ten_percent() -> None:
    rng = random.Random(7)
    for k, offset in enumerate(DEFAULT_SCHEDULE[1:], start=1):
        times = [
            retry_at(DEFAULT_SCHEDULE, attempts_done=k, cycle_started=1000.0, now=1000.0, rng=rng)
            for _ in range(50)
        ]
        assert all(t is not None and 0.9 * offset <= t - 1000 <= 1.1 * offset for t in times)
        assert len(set(times)) > 1
    assert retry_at(DEFAULT_SCHEDULE, attempts_done=8, cycle_started=0, now=0) is None


def test_default_jitter_leaves_the_global_random_state_alone() -> None:
    # The backend runs inside applications whose seeded ``random`` sequences it must
    # not move (and inside Hypothesis tests, which flag any change to it).
    before = random.getstate()
    times = {
        retry_at(DEFAULT_SCHEDULE, attempts_done=3, cycle_started=0.0, now=0.0) for _ in range(20)
    }
    assert random.getstate() == before
    assert len(times) > 1  # still jittered


def test_gives_up_after_eight_attempts(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    receiver.mode = "500"
    ep = endpoint(service, receiver)
    clock = FakeClock()
    emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock, schedule=FAST_SCHEDULE) as w:
        for _ in range(8):
            assert w.run_once() == 1
            clock.advance(3)
        assert w.run_once() == 0
    attempts = log(service, ep)
    assert [d.attempt for d in attempts] == list(range(1, 9))
    assert attempts[-1].next_attempt_at is None
    assert outbox(db)[0]["status"] == "failed"


def test_endpoint_failing_for_three_days_is_disabled(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    ep = endpoint(service, receiver)  # never started
    clock = FakeClock()
    emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock, schedule=DEFAULT_SCHEDULE) as w:
        assert w.run_once() == 1
        clock.advance(86400 * 2)
        assert w.run_once() == 1  # failing for 2 days: still enabled
        assert service.retrieve(MERCHANT, ep)["status"] == "enabled"
        emit(db, 1)
        clock.advance(86400 + 60)
        assert w.run_once() >= 1
    disabled = service.retrieve(MERCHANT, ep)
    assert disabled["status"] == "disabled"
    assert "3 days" in disabled["disabled_reason"]
    assert {r["status"] for r in outbox(db)} == {"failed"}
    # Enabling it again starts a fresh failure window.
    enabled = service.update(MERCHANT, ep, disabled=False)
    assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None


def test_a_success_resets_the_failure_window(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    ep = endpoint(service, receiver)
    clock = FakeClock()
    emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock, schedule=DEFAULT_SCHEDULE) as w:
        assert w.run_once() == 1
        clock.advance(86400 * 2)
        receiver.start()
        assert w.run_once() == 1  # delivered: healthy again
        receiver.stop()
        emit(db, 1)
        clock.advance(86400 + 60)
        assert w.run_once() == 1
    assert service.retrieve(MERCHANT, ep)["status"] == "enabled"


def test_rotation_signs_with_old_and_new_secret_until_expiry(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    created = service.create(MERCHANT, url=receiver.url, enabled_events=["*"])
    old = created["secret"]
    rotated = service.rotate_secret(MERCHANT, created["id"], expire_old_after=3600)
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    assert "secret" not in service.retrieve(MERCHANT, created["id"])
    receiver.set_secret(old)  # a receiver not yet updated keeps working
    clock = FakeClock()
    emit(db, 1)
    with DeliveryWorker(db, secret_key=SECRET_KEY, clock=clock) as w:
        assert w.run_once() == 1
        (hit,) = receiver.wait_hits(1)
        assert hit.signature.count("v1=") == 2
        verify_signature(hit.body, hit.signature, old)
        verify_signature(hit.body, hit.signature, new)
        receiver.wait_handled(1)
        clock.advance(3601)  # the old secret has expired
        receiver.set_secret(new)
        emit(db, 1)
        assert w.run_once() == 1
    hit = receiver.wait_hits(2)[-1]
    assert hit.signature.count("v1=") == 1
    verify_signature(hit.body, hit.signature, new)
    receiver.wait_handled(2)


def test_enabled_events_filter_at_enqueue(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    paid_only = endpoint(service, receiver, ["bill.paid"])
    everything = service.create(MERCHANT, url=receiver.url, enabled_events=["*"])["id"]
    service.create(MERCHANT, url=receiver.url, enabled_events=["bill.cancelled"])
    emit(db, 1, "bill.created")
    emit(db, 1, "bill.paid")
    pairs = {(r["event_id"][:4], r["endpoint_id"]) for r in outbox(db)}
    assert len(outbox(db)) == 3
    assert {e for _, e in pairs} == {paid_only, everything}


def test_enqueue_matches_event_types_exactly_as_matches_says(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    # Lists the API would not store, written by hand: the SQL must still agree with
    # matches() on them (SQLite's LIKE, which enqueue used, ignores ASCII case).
    lists = [["Bill.Paid"], ["BILL.PAID", "x"], ["bill.paid"], ["bill.paid.x"], ["*"]]
    ids = []
    for enabled in lists:
        ep = service.create(MERCHANT, url=receiver.url, enabled_events=["bill.created"])
        with db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_endpoints SET enabled_events = ? WHERE id = ?",
                (json.dumps(enabled), ep["id"]),
            )
        ids.append(ep["id"])
    emit(db, 1, "bill.paid")
    queued = {r["endpoint_id"] for r in outbox(db)}
    assert queued == {i for i, e in zip(ids, lists, strict=True) if matches(e, "bill.paid")}
    assert queued == {ids[2], ids[4]}


def test_background_worker_is_woken_and_slow_receivers_do_not_block(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    slow = Receiver().start()
    slow.mode = "hang"
    slow.hang_seconds = 5.0
    endpoint(service, receiver)
    endpoint(service, slow)
    fast_done = threading.Event()
    receiver.on_handled = lambda event: fast_done.set()
    seen: list[Recorded] = []
    try:
        with serving(
            DeliveryWorker(
                db, secret_key=SECRET_KEY, timeout=8.0, poll_interval=30.0, observer=seen.append
            )
        ):
            emit(db, 1)  # the poll interval is long: only enqueue's wake-up can start this
            wait_until(lambda: bool(slow.hits))
            receiver.wait_handled(1)
            # The slow receiver is still holding its request while the fast one is done.
            assert fast_done.is_set()
            assert slow.hits[0].ended == 0.0
            slow.wait_handled(1)
    finally:
        slow.stop()
    assert sorted(r.status for r in seen) == ["delivered", "delivered"]


def test_wake_ups_while_every_slot_is_busy_neither_spin_nor_stall(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    # With one slot taken, each new event's wake-up must wait for the slot (not
    # spin on the loop, which would starve the request holding it), and stop()
    # must return once the last answer is recorded.
    receiver.start()
    receiver.mode = "hang"
    receiver.hang_seconds = 0.2
    endpoint(service, receiver)
    w = DeliveryWorker(db, secret_key=SECRET_KEY, concurrency=1, poll_interval=30.0)
    with serving(w):
        for _ in range(3):
            emit(db, 1)
            time.sleep(0.05)
        receiver.wait_handled(3, timeout=10)
        started = time.monotonic()
    assert time.monotonic() - started < 5
    assert {r["status"] for r in outbox(db)} == {"delivered"}


def test_deleted_or_disabled_endpoints_get_nothing(
    db: Database, service: Endpoints, receiver: Receiver
) -> None:
    receiver.start()
    gone = endpoint(service, receiver)
    off = service.create(MERCHANT, url=receiver.url, enabled_events=["*"])["id"]
    emit(db, 1)
    service.delete(MERCHANT, gone)
    service.update(MERCHANT, off, disabled=True)
    with DeliveryWorker(db, secret_key=SECRET_KEY) as w:
        assert w.run_once() == 0
    assert receiver.hits == []
    assert [r["status"] for r in outbox(db)] == ["failed"]
    assert json.loads(json.dumps(service.retrieve(MERCHANT, off)))["status"] == "disabled"
