"""A handler slower than its lease never runs twice at once: the lease is renewed while
it runs, and a redelivery meanwhile is answered 409 (ASGI, Flask, two processes).

No sleeps decide anything here: the tests wait for the store's ``extend`` to have been
called several times (each call comes a third of a lease after the previous one, so
by then the original lease is over) and for handlers to signal through events.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from webhook_support import SECRET, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    InMemoryEventStore,
    RedisEventStore,
    SQLiteEventStore,
    WebhookApp,
)
from lumenlater_sdk.webhooks._heartbeat import Heartbeat
from lumenlater_sdk.webhooks.testing import signed_request

LEASE = 0.3
RENEWALS = 4  # 4 x LEASE / 3 > LEASE: the lease would have run out without them


def make_store(kind: str, tmp_path: Path, redis_url: str | None = None) -> Any:
    if kind == "memory":
        return InMemoryEventStore(lease=LEASE)
    if kind == "sqlite":
        return SQLiteEventStore(tmp_path / "events.db", lease=LEASE)
    assert redis_url is not None
    return RedisEventStore(redis_url, prefix=f"lease-{tmp_path.name}:", lease=LEASE)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def short_lease(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each store with a 0.3 s lease."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    store = make_store(request.param, tmp_path, redis_url)
    yield store
    if hasattr(store, "close"):
        store.close()


def count_renewals(store: Any) -> threading.Semaphore:
    """Wrap the store's ``extend`` so each successful renewal releases the semaphore."""
    renewed = threading.Semaphore(0)
    extend = store.extend

    def counting(event_id: str, token: str) -> bool:
        kept = bool(extend(event_id, token))
        if kept:
            renewed.release()
        return kept

    store.extend = counting  # before the receiver looks it up
    return renewed


def wait_for_renewals(renewed: threading.Semaphore) -> None:
    for _ in range(RENEWALS):
        assert renewed.acquire(timeout=30), "the lease was not renewed"


class SlowHandler:
    """Blocks until ``finish`` is set; counts its runs."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.finish = threading.Event()
        self.runs = 0

    def __call__(self, event: BaseEvent) -> None:
        self.runs += 1
        self.started.set()
        assert self.finish.wait(60), "never told to finish"


def test_a_redelivery_during_a_slow_handler_is_answered_409_over_http(short_lease: Any) -> None:
    renewed = count_renewals(short_lease)
    hooks = WebhookApp(secret=SECRET, store=short_lease)
    slow = SlowHandler()
    hooks.on("checkout.session.completed")(slow)
    req = signed_request("checkout.session.completed", SECRET)
    with serve(hooks) as url, httpx.Client(timeout=60) as client:
        first: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: first.append(client.post(url, content=req.body, headers=req.headers))
        )
        sender.start()
        assert slow.started.wait(30)
        wait_for_renewals(renewed)

        meanwhile = client.post(url, content=req.body, headers=req.headers)
        assert meanwhile.status_code == 409
        assert meanwhile.headers["retry-after"] == "5"

        slow.finish.set()
        sender.join(60)
        assert first[0].status_code == 200
        after = client.post(url, content=req.body, headers=req.headers)
        assert after.status_code == 200 and after.json()["duplicate"] is True
    assert slow.runs == 1


def test_without_renewal_the_same_wait_lets_a_second_run_start() -> None:
    """The hazard the renewal removes, shown with a store that cannot renew."""
    now = [1000.0]
    inner = InMemoryEventStore(lease=LEASE, clock=lambda: now[0])

    class NoRenewal:
        blocking = False
        claim, complete, release = inner.claim, inner.complete, inner.release

    hooks = WebhookApp(secret=SECRET, store=NoRenewal())  # type: ignore[arg-type]
    slow = SlowHandler()
    hooks.on("checkout.session.completed")(slow)
    req = signed_request("checkout.session.completed", SECRET)
    with serve(hooks) as url, httpx.Client(timeout=60) as client:
        sender = threading.Thread(
            target=lambda: client.post(url, content=req.body, headers=req.headers)
        )
        sender.start()
        assert slow.started.wait(30)
        now[0] += RENEWALS * LEASE / 3
        second = threading.Thread(
            target=lambda: client.post(url, content=req.body, headers=req.headers)
        )
        slow.started.clear()
        second.start()
        assert slow.started.wait(30)
        assert slow.runs == 2  # two runs of one handler at once
        slow.finish.set()
        sender.join(60)
        second.join(60)


def test_flask_threads_racing_during_a_slow_handler(short_lease: Any) -> None:
    from lumenlater_sdk.webhooks.flask import blueprint

    renewed = count_renewals(short_lease)
    hooks = WebhookApp(secret=SECRET, store=short_lease)
    slow = SlowHandler()
    hooks.on("bill.paid")(slow)
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint(hooks, rule="/hooks"))
    req = signed_request("bill.paid", SECRET)

    def post() -> int:
        return app.test_client().post("/hooks", data=req.body, headers=req.headers).status_code

    first: list[int] = []
    sender = threading.Thread(target=lambda: first.append(post()))
    sender.start()
    assert slow.started.wait(30)
    wait_for_renewals(renewed)
    assert post() == 409
    slow.finish.set()
    sender.join(60)
    assert first == [200]
    assert post() == 200
    assert slow.runs == 1


# --- two processes ----------------------------------------------------------------------


def _slow_receiver(
    kind: str, where: str, body: bytes, signature: str, signals: dict[str, Any], out: Any
) -> None:
    """Another process: one receiver on the shared store whose handler blocks."""
    store = _shared_store(kind, where)
    renewals = [0]
    extend = store.extend

    def counting(event_id: str, token: str) -> bool:
        kept = bool(extend(event_id, token))
        renewals[0] += kept
        if renewals[0] >= RENEWALS:
            signals["renewed"].set()
        return kept

    store.extend = counting
    hooks = WebhookApp(secret=SECRET, store=store)

    @hooks.on("bill.paid")
    def slow(event: BaseEvent) -> None:
        signals["started"].set()
        assert signals["finish"].wait(60)

    reply = hooks.handle_sync("POST", None, signature, _Reader(body))
    out.put(reply.status)


def _shared_store(kind: str, where: str) -> Any:
    """The SQLite file or the Redis server at ``where``, with the short lease."""
    if kind == "sqlite":
        return SQLiteEventStore(where, lease=LEASE)
    return RedisEventStore(where, prefix="lease-procs:", lease=LEASE)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __call__(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_another_process_gets_409_while_the_first_renews_its_lease(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = str(tmp_path / "events.db")
    if kind == "redis":
        where = request.getfixturevalue("redis_url")
        RedisEventStore(where, prefix="lease-procs:").redis.flushdb()
    req = signed_request("bill.paid", SECRET)
    signature = req.headers["X-LumenLater-Signature"]
    ctx = multiprocessing.get_context("spawn")
    signals = {"started": ctx.Event(), "renewed": ctx.Event(), "finish": ctx.Event()}
    out = ctx.Queue()
    child = ctx.Process(
        target=_slow_receiver, args=(kind, where, req.body, signature, signals, out)
    )
    child.start()
    try:
        assert signals["started"].wait(60) and signals["renewed"].wait(60)
        hooks = WebhookApp(secret=SECRET, store=_shared_store(kind, where))
        runs: list[str] = []
        hooks.on("bill.paid")(lambda event: runs.append(event.id))
        assert hooks.handle_sync("POST", None, signature, _Reader(req.body)).status == 409
        signals["finish"].set()
        assert out.get(timeout=60) == 200
        reply = hooks.handle_sync("POST", None, signature, _Reader(req.body))
        assert reply.status == 200 and b"duplicate" in reply.body
        assert runs == []
    finally:
        signals["finish"].set()
        child.join(60)
    assert child.exitcode == 0


# --- the renewing thread itself -----------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.arrived = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("lumenlater.webhooks")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_a_lost_lease_is_logged_and_no_longer_renewed(records: Records) -> None:
    calls: list[str] = []
    second = threading.Event()

    def extend(event_id: str, token: str) -> bool:
        calls.append(event_id)
        if event_id == "evt_b":
            second.set()
        return event_id == "evt_b"

    heartbeat = Heartbeat(extend, 0.01)
    heartbeat.hold("evt_a", "tok")
    assert records.arrived.wait(30)
    assert "evt_a" in records.records[0].getMessage()
    heartbeat.hold("evt_b", "tok")  # due after evt_a's next renewal, were it still held
    assert second.wait(30)
    assert calls == ["evt_a", "evt_b"]


def test_a_failing_renewal_is_logged_and_tried_again(records: Records) -> None:
    results: list[bool | Exception] = [ConnectionError("redis down"), True]
    retried = threading.Event()

    def extend(event_id: str, token: str) -> bool:
        result = results.pop(0) if results else True
        if not results:
            retried.set()
        if isinstance(result, Exception):
            raise result
        return result

    heartbeat = Heartbeat(extend, 0.01)
    handle = heartbeat.hold("evt_a", "tok")
    assert retried.wait(30)
    heartbeat.drop(handle)
    assert "Could not extend" in records.records[0].getMessage()


def test_the_renewing_thread_stops_when_idle_and_restarts_on_the_next_hold() -> None:
    renewed = threading.Semaphore(0)

    def extend(event_id: str, token: str) -> bool:
        renewed.release()
        return True

    heartbeat = Heartbeat(extend, 0.01)
    handle = heartbeat.hold("evt_a", "tok")
    assert renewed.acquire(timeout=30)
    thread = heartbeat._thread
    assert thread is not None
    heartbeat.drop(handle)
    thread.join(30)  # no lease left to renew: the thread ends by itself
    assert not thread.is_alive()
    heartbeat.hold("evt_b", "tok")
    assert renewed.acquire(timeout=30)
    assert heartbeat._thread is not None and heartbeat._thread is not thread
