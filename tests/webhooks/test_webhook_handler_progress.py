"""A retry runs only the handlers that did not finish: ASGI over HTTP, Flask, Django,
and a second receiver (another worker) sharing the store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from webhook_support import SECRET, configure_django, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    Claim,
    EventStore,
    InMemoryEventStore,
    RedisEventStore,
    SQLiteEventStore,
    WebhookApp,
)
from lumenlater_sdk.webhooks.testing import SignedRequest, signed_request


def three_handlers(store: EventStore, runs: list[str], failures: dict[str, int]) -> WebhookApp:
    """A, B and C for ``bill.paid``; each fails as many times as ``failures`` says."""
    hooks = WebhookApp(secret=SECRET, store=store)

    def handler(name: str) -> Callable[[BaseEvent], None]:
        def run(event: BaseEvent) -> None:
            runs.append(name)
            if failures.get(name, 0) > 0:
                failures[name] -= 1
                raise RuntimeError(f"{name} failed")

        run.__qualname__ = f"shop.{name}"  # three closures, three names for the store
        return run

    hooks.on("bill.paid")(handler("A"))

    @hooks.on("bill.paid")
    async def b(event: BaseEvent) -> None:  # an async one in the middle
        handler("B")(event)

    hooks.on("bill.paid")(handler("C"))
    return hooks


def test_a_retry_over_http_runs_only_the_handlers_that_did_not_finish(
    store: EventStore,
) -> None:
    runs: list[str] = []
    hooks = three_handlers(store, runs, {"B": 1})
    req = signed_request("bill.paid", SECRET)
    with serve(hooks) as url, httpx.Client(timeout=30) as client:

        def post() -> httpx.Response:
            return client.post(url, content=req.body, headers=req.headers)

        assert post().status_code == 500
        assert runs == ["A", "B"]  # C waits: handlers run in order
        assert post().status_code == 200
        assert runs == ["A", "B", "B", "C"]  # A is not run again
        again = post()
        assert again.status_code == 200 and again.json()["duplicate"] is True
    assert runs == ["A", "B", "B", "C"]


def test_progress_accumulates_over_several_failed_retries(store: EventStore) -> None:
    runs: list[str] = []
    hooks = three_handlers(store, runs, {"B": 1, "C": 2})
    req = signed_request("bill.paid", SECRET)
    statuses = [deliver_asgi(hooks, req) for _ in range(4)]
    assert statuses == [500, 500, 500, 200]
    assert runs == ["A", "B", "B", "C", "C", "C"]


def deliver_asgi(app: Any, req: SignedRequest) -> int:
    import asyncio

    async def go() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
            r = await http.post("/", content=req.body, headers=req.headers)
            return r.status_code

    return asyncio.run(go())


@pytest.fixture(params=["sqlite", "redis"])
def shared_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[EventStore, EventStore]]:
    """Two store objects over one SQLite file or one Redis: two workers' views."""
    if request.param == "sqlite":
        a, b = SQLiteEventStore(tmp_path / "events.db"), SQLiteEventStore(tmp_path / "events.db")
    else:
        redis_url = request.getfixturevalue("redis_url")
        prefix = f"progress-{tmp_path.name}:"
        a, b = RedisEventStore(redis_url, prefix=prefix), RedisEventStore(redis_url, prefix=prefix)
    yield a, b
    a.close()  # type: ignore[attr-defined]
    b.close()  # type: ignore[attr-defined]


def test_the_retry_reaching_another_worker_skips_what_the_first_finished(
    shared_stores: tuple[EventStore, EventStore],
) -> None:
    first_runs: list[str] = []
    second_runs: list[str] = []
    first = three_handlers(shared_stores[0], first_runs, {"B": 1})
    second = three_handlers(shared_stores[1], second_runs, {})
    req = signed_request("bill.paid", SECRET)
    with serve(first) as url_1, serve(second) as url_2, httpx.Client(timeout=30) as client:
        assert client.post(url_1, content=req.body, headers=req.headers).status_code == 500
        assert client.post(url_2, content=req.body, headers=req.headers).status_code == 200
        r = client.post(url_1, content=req.body, headers=req.headers)
        assert r.status_code == 200 and r.json()["duplicate"] is True
    assert first_runs == ["A", "B"]
    assert second_runs == ["B", "C"]


class OnlyTheRequiredMethods:
    """A user's store written against the three-method protocol of earlier versions."""

    blocking = False

    def __init__(self) -> None:
        self.inner = InMemoryEventStore()

    def claim(self, event_id: str) -> Claim:
        return self.inner.claim(event_id)

    def complete(self, event_id: str, token: str) -> None:
        self.inner.complete(event_id, token)

    def release(self, event_id: str, token: str) -> None:
        self.inner.release(event_id, token)


def test_a_store_without_progress_still_works_and_reruns_every_handler() -> None:
    runs: list[str] = []
    hooks = three_handlers(OnlyTheRequiredMethods(), runs, {"B": 1})
    req = signed_request("bill.paid", SECRET)
    assert [deliver_asgi(hooks, req) for _ in range(3)] == [500, 200, 200]
    assert runs == ["A", "B", "A", "B", "C"]


def test_handlers_sharing_a_name_are_told_apart_by_registration_order() -> None:
    store = InMemoryEventStore()
    hooks = WebhookApp(secret=SECRET, store=store)
    runs: list[int] = []
    fail_once = [1]

    for n in range(3):

        def run(event: BaseEvent, n: int = n) -> None:
            runs.append(n)
            if n in fail_once:
                fail_once.remove(n)
                raise RuntimeError("the second one fails once")

        hooks.on("bill.paid")(run)

    keys = [reg.key for reg in hooks.handlers_for("bill.paid")]
    assert len(set(keys)) == 3 and keys[1] == keys[0] + "#2"
    req = signed_request("bill.paid", SECRET)
    assert [deliver_asgi(hooks, req) for _ in range(2)] == [500, 200]
    assert runs == [0, 1, 1, 2]


# --- the synchronous adapters ---------------------------------------------------------


def test_flask_retry_runs_only_the_handlers_that_did_not_finish(store: EventStore) -> None:
    from lumenlater_sdk.webhooks.flask import blueprint

    runs: list[str] = []
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint(three_handlers(store, runs, {"B": 1}), rule="/hooks"))
    client = app.test_client()
    req = signed_request("bill.paid", SECRET)
    statuses = [client.post("/hooks", data=req.body, headers=req.headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [500, 200, 200]
    assert json.loads(statuses[2].data)["duplicate"] is True
    assert runs == ["A", "B", "B", "C"]


urlpatterns: list[Any] = []


def test_django_retry_runs_only_the_handlers_that_did_not_finish(store: EventStore) -> None:
    configure_django(__name__)
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    from lumenlater_sdk.webhooks.django import webhook_view

    runs: list[str] = []
    urlpatterns[:] = [path("hooks/", webhook_view(three_handlers(store, runs, {"B": 1})))]
    req = signed_request("bill.paid", SECRET)
    headers = {"HTTP_X_LUMENLATER_SIGNATURE": req.headers["X-LumenLater-Signature"]}
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        clear_url_caches()
        client = Client()
        statuses = [
            client.post("/hooks/", req.body, content_type="application/json", **headers)
            for _ in range(3)
        ]
    clear_url_caches()
    assert [r.status_code for r in statuses] == [500, 200, 200]
    assert runs == ["A", "B", "B", "C"]
