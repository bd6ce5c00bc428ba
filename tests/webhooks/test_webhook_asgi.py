"""WebhookApp over real HTTP: uvicorn on loopback, deliveries posted with httpx."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from webhook_support import OTHER_SECRET, SECRET, serve

from lumenlater_sdk.webhooks import (
    MAX_BODY_SIZE,
    BaseEvent,
    BillPaidEvent,
    Event,
    EventStore,
    InMemoryEventStore,
    WebhookApp,
    sign,
)
from lumenlater_sdk.webhooks.testing import make_event, signed_request


def post(client: httpx.Client, url: str, req: Any) -> httpx.Response:
    return client.post(url, content=req.body, headers=req.headers)


def test_status_codes_over_http() -> None:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    seen: Counter[str] = Counter()

    @hooks.on("bill.paid")
    async def paid(event: BillPaidEvent) -> None:
        assert isinstance(event, BillPaidEvent)
        seen["async"] += 1

    @hooks.on("bill.paid", "bill.repaid")
    def paid_sync(event: BaseEvent) -> None:
        assert threading.current_thread() is not threading.main_thread()
        seen["sync"] += 1

    @hooks.on("*")
    def everything(event: BaseEvent) -> None:
        seen[f"any:{type(event).__name__}"] += 1

    @hooks.on("bill.overdue")
    def broken(event: BaseEvent) -> None:
        raise RuntimeError("downstream unavailable")

    with serve(hooks) as url, httpx.Client(timeout=30) as client:
        req = signed_request("bill.paid", SECRET)
        r = post(client, url, req)
        assert (r.status_code, r.json()) == (200, {"received": True})
        assert seen == {"async": 1, "sync": 1, "any:BillPaidEvent": 1}

        again = post(client, url, signed_request(req.event, SECRET, attempt=2))
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert seen == {"async": 1, "sync": 1, "any:BillPaidEvent": 1}  # not run again

        unknown = post(client, url, signed_request("loyalty.points_earned", SECRET))
        assert unknown.status_code == 200 and seen["any:Event"] == 1

        bad = signed_request("bill.paid", "whsec_someone_else")
        r = post(client, url, bad)
        assert r.status_code == 400 and "No signature" in r.json()["error"]["message"]

        headers = {k: v for k, v in req.headers.items() if k != "X-LumenLater-Signature"}
        assert client.post(url, content=req.body, headers=headers).status_code == 400

        garbage = b'{"not": "an event"}'
        r = client.post(
            url, content=garbage, headers={"X-LumenLater-Signature": sign(garbage, SECRET)}
        )
        assert r.status_code == 400 and "not a LumenLater event" in r.json()["error"]["message"]

        old = signed_request("bill.paid", SECRET, timestamp=1_000_000_000)
        r = post(client, url, old)
        assert r.status_code == 400 and "too old" in r.json()["error"]["message"]

        r = client.get(url)
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert client.put(url, content=req.body, headers=req.headers).status_code == 405

        failing = signed_request("bill.overdue", SECRET)
        assert post(client, url, failing).status_code == 500
        assert post(client, url, failing).status_code == 500  # not recorded: runs again
        # ... but only the handler that failed: `everything` finished the first time.
        assert seen["any:BillOverdueEvent"] == 1


def test_failed_handler_runs_again_on_retry_then_is_deduplicated(store: EventStore) -> None:
    hooks = WebhookApp(secret=SECRET, store=store)
    calls: list[str] = []

    @hooks.on("bill.paid")
    async def flaky(event: BillPaidEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise ConnectionError("database down")

    req = signed_request("bill.paid", SECRET)
    with serve(hooks) as url, httpx.Client(timeout=30) as client:
        assert post(client, url, req).status_code == 500
        assert post(client, url, req).status_code == 200
        assert post(client, url, req).status_code == 200
    assert calls == [req.event_id, req.event_id]


async def test_simultaneous_deliveries_run_the_handler_once(store: EventStore) -> None:
    hooks = WebhookApp(secret=SECRET, store=store)
    runs: list[str] = []
    gate = threading.Event()

    @hooks.on("checkout.session.completed")
    def fulfil(event: BaseEvent) -> None:
        runs.append(event.id)
        # Hold the claim until every other delivery has been answered.
        assert gate.wait(30), "the other deliveries were never answered"

    n = 12
    req = signed_request("checkout.session.completed", SECRET)
    with serve(hooks) as url:
        async with httpx.AsyncClient(timeout=60) as client:

            async def deliver() -> int:
                r = await client.post(url, content=req.body, headers=req.headers)
                if r.status_code != 200:
                    answered.append(r.status_code)
                    if len(answered) == n - 1:
                        gate.set()
                return r.status_code

            answered: list[int] = []
            statuses = await asyncio.gather(*(deliver() for _ in range(n)))
            assert sorted(statuses) == [200] + [409] * (n - 1)
            retry = await client.post(url, content=req.body, headers=req.headers)
            assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert runs == [req.event_id]


def test_body_size_limit_over_http() -> None:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    received: list[int] = []

    @hooks.on("*")
    def record(event: BaseEvent) -> None:
        received.append(1)

    base = json.dumps(make_event("bill.paid"), separators=(",", ":")).encode()
    exact = base + b" " * (MAX_BODY_SIZE - len(base))  # JSON allows trailing whitespace
    over = exact + b" "
    with serve(hooks) as url, httpx.Client(timeout=30) as client:
        r = client.post(url, content=exact, headers={"X-LumenLater-Signature": sign(exact, SECRET)})
        assert r.status_code == 200 and received == [1]
        r = client.post(url, content=over, headers={"X-LumenLater-Signature": sign(over, SECRET)})
        assert r.status_code == 413

        def chunks() -> Any:  # no Content-Length: chunked transfer encoding
            for i in range(0, len(over), 65536):
                yield over[i : i + 65536]

        r = client.post(url, content=chunks(), headers={"X-LumenLater-Signature": "t=1,v1=a"})
        assert r.status_code == 413 and "transfer-encoding" in r.request.headers


async def test_reading_stops_as_soon_as_the_limit_is_passed() -> None:
    hooks = WebhookApp(secret=SECRET, max_body_size=1000, store=InMemoryEventStore())
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 300, "more_body": True}  # endless

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": []}
    await hooks(scope, receive, send)
    assert pulled == 4  # 1200 bytes > 1000: stopped right there
    assert sent[0]["status"] == 413


async def test_content_length_over_the_limit_is_refused_before_reading() -> None:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(MAX_BODY_SIZE + 1).encode())]
    await hooks({"type": "http", "method": "POST", "headers": headers}, receive, send)
    assert sent[0]["status"] == 413


def test_headers_a_middleware_adds_in_place_stay_in_their_own_answer() -> None:
    # OpenTelemetry's ASGI middleware appends its response headers to the list the
    # app sent (message["headers"].append): each answer must hand over a list of its
    # own, or the header piles up in the shared answers (200, duplicate, 400, 405).
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    hooks.on("bill.paid")(_async_noop)
    served = [0]

    async def traced(scope: Any, receive: Any, send: Any) -> None:
        async def send_traced(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                served[0] += 1
                message["headers"].append([b"traceresponse", b"00-%d" % served[0]])
            await send(message)

        await hooks(scope, receive, send_traced)

    req = signed_request("bill.paid", SECRET)
    with serve(traced) as url, httpx.Client(timeout=30) as client:
        answers = [
            post(client, url, req),  # handled (200)
            post(client, url, req),  # a duplicate (200)
            post(client, url, signed_request("bill.paid", OTHER_SECRET)),  # refused (400)
            client.get(url),  # 405
            post(client, url, signed_request("bill.paid", SECRET)),  # handled again (200)
        ]
    assert [r.status_code for r in answers] == [200, 200, 400, 405, 200]
    for i, r in enumerate(answers, 1):
        assert r.headers.get_list("traceresponse") == [f"00-{i}"]
        assert r.headers["content-type"] == "application/json"
    assert answers[1].json() == {"received": True, "duplicate": True}


async def _async_noop(event: BaseEvent) -> None:
    pass


def test_mounted_in_starlette() -> None:
    hooks = WebhookApp(secret=[SECRET, "whsec_new"], store=InMemoryEventStore())
    got: list[Event | BaseEvent] = []
    hooks.on("*")(got.append)
    # Starlette's Mount matches "/prefix/" (it redirects "/prefix"); Route matches exactly.
    app = Starlette(routes=[Route("/hooks/exact", hooks), Mount("/webhooks/lumenlater", app=hooks)])
    with serve(app) as url, httpx.Client(timeout=30) as client:
        req = signed_request("bill.created", "whsec_new")
        assert post(client, url + "/webhooks/lumenlater/", req).status_code == 200
        second = signed_request("bill.created", SECRET)
        assert post(client, url + "/hooks/exact", second).status_code == 200
        assert client.get(url + "/hooks/exact").status_code == 405
    assert [e.id for e in got] == [req.event_id, second.event_id]


def test_on_requires_a_type_and_secret_is_required() -> None:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    with pytest.raises(TypeError):
        hooks.on()
    with pytest.raises(ValueError):
        WebhookApp(secret=[])


async def test_lifespan_and_websocket_scopes_get_their_own_answers() -> None:
    # Not deliveries, but served on its own the app must answer them: the lifespan
    # protocol (startup, shutdown) and a websocket refused with 1003.
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await hooks({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    inbox.append({"type": "websocket.connect"})
    await hooks({"type": "websocket", "path": "/"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1003}]
    assert not inbox
