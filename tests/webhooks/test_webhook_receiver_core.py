"""The receiver's decisions as a framework adapter or a custom store sees them.

``EventStore`` is a public extension point: a store written by a user must be called
exactly as documented (claim, then complete *or* release, with the claim's token).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from webhook_support import SECRET, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    Claim,
    ClaimStatus,
    InMemoryEventStore,
    WebhookApp,
    sign,
)
from lumenlater_sdk.webhooks._core import Receiver
from lumenlater_sdk.webhooks.testing import make_event, signed_request

NOW = 1_800_000_000


class RecordingStore(InMemoryEventStore):
    """The in-memory store, recording every call made to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, Any]] = []
        self.tokens: list[Any] = []

    def claim(self, event_id: str) -> Claim:
        claim = super().claim(event_id)
        self.calls.append(("claim", event_id, claim.status))
        self.tokens.append(claim.token)
        return claim

    def complete(self, event_id: str, token: Any) -> None:
        self.calls.append(("complete", event_id, token))
        super().complete(event_id, token)

    def release(self, event_id: str, token: Any) -> None:
        self.calls.append(("release", event_id, token))
        super().release(event_id, token)


class Body:
    """``read(n)`` for ``handle_sync`` that records whether the body was read at all."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def __call__(self, n: int) -> bytes:
        self.reads += 1
        out, self.data = self.data[:n], self.data[n:]
        return out


def deliver(hooks: Receiver, event_type: str = "bill.paid", **kw: Any) -> tuple[int, str]:
    req = signed_request(event_type, SECRET, **kw)
    body = Body(req.body)
    reply = hooks.handle_sync(
        "POST", str(len(req.body)), req.headers["X-LumenLater-Signature"], body
    )
    return reply.status, json.loads(req.body)["id"]


def test_a_handled_delivery_claims_then_completes_with_the_claims_token() -> None:
    store = RecordingStore()
    hooks = Receiver(SECRET, store)
    hooks.on("bill.paid")(lambda event: None)
    status, event_id = deliver(hooks)
    assert status == 200
    (token,) = store.tokens
    assert store.calls == [
        ("claim", event_id, ClaimStatus.CLAIMED),
        ("complete", event_id, token),
    ]


def test_a_failed_handler_releases_with_the_claims_token_and_never_completes() -> None:
    store = RecordingStore()
    hooks = Receiver(SECRET, store)

    @hooks.on("bill.paid")
    def boom(event: BaseEvent) -> None:
        raise RuntimeError("database down")

    status, event_id = deliver(hooks)
    assert status == 500
    (token,) = store.tokens
    assert store.calls == [
        ("claim", event_id, ClaimStatus.CLAIMED),
        ("release", event_id, token),
    ]


def test_a_duplicate_neither_completes_nor_releases() -> None:
    store = RecordingStore()
    hooks = Receiver(SECRET, store)
    hooks.on("bill.paid")(lambda event: None)
    req = signed_request("bill.paid", SECRET)
    for _ in range(2):
        reply = hooks.handle_sync(
            "POST", None, req.headers["X-LumenLater-Signature"], Body(req.body)
        )
        assert reply.status == 200
    assert [c[0] for c in store.calls] == ["claim", "complete", "claim"]
    assert store.calls[-1][2] is ClaimStatus.DONE


def test_an_event_without_handlers_touches_no_store() -> None:
    store = RecordingStore()
    hooks = Receiver(SECRET, store)
    hooks.on("bill.repaid")(lambda event: None)
    assert deliver(hooks, "bill.paid")[0] == 200
    assert store.calls == []


def test_a_declared_oversize_body_is_refused_without_reading_it() -> None:
    hooks = Receiver(SECRET, InMemoryEventStore(), max_body_size=1_000)
    body = Body(b"x" * 5_000)
    reply = hooks.handle_sync("POST", "5000", "t=1,v1=ab", body)
    assert reply.status == 413 and body.reads == 0
    body = Body(b"x" * 5_000)
    reply = hooks.handle_sync("GET", "5000", None, body)
    assert reply.status == 405 and body.reads == 0
    assert dict(reply.headers) == {"Allow": "POST"}


def test_a_failing_handler_is_logged_with_its_name_and_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooks = Receiver(SECRET, InMemoryEventStore())

    @hooks.on("bill.paid")
    def mark_order_paid(event: BaseEvent) -> None:
        raise RuntimeError("database down")

    with caplog.at_level(logging.ERROR, logger="lumenlater.webhooks"):
        status, event_id = deliver(hooks)
    assert status == 500
    (record,) = caplog.records
    message = record.getMessage()
    assert message == (
        "LumenLater webhook handler "
        "test_a_failing_handler_is_logged_with_its_name_and_the_event.<locals>.mark_order_paid"
        f" failed for {event_id} (bill.paid)"
    )
    assert record.exc_info is not None and "database down" in str(record.exc_info[1])


def test_a_handler_object_without_a_qualname_is_logged_by_its_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Handler:
        def __call__(self, event: BaseEvent) -> None:
            raise ValueError("nope")

        def __repr__(self) -> str:
            return "<the order handler>"

    hooks = Receiver(SECRET, InMemoryEventStore())
    hooks.on("bill.paid")(Handler())
    with caplog.at_level(logging.ERROR, logger="lumenlater.webhooks"):
        deliver(hooks)
    assert "handler <the order handler> failed" in caplog.records[0].getMessage()


def test_the_receivers_clock_and_tolerance_are_used() -> None:
    body = json.dumps(make_event("bill.paid", now=NOW)).encode()
    header = sign(body, SECRET, timestamp=NOW)
    at_signing = Receiver(SECRET, InMemoryEventStore(), clock=lambda: NOW + 10)
    assert isinstance(at_signing.parse(body, header), BaseEvent)
    much_later = Receiver(SECRET, InMemoryEventStore(), clock=lambda: NOW + 301)
    refused = much_later.parse(body, header)
    assert not isinstance(refused, BaseEvent) and refused.status == 400
    assert "too old" in json.loads(refused.body)["error"]["message"]
    strict = Receiver(SECRET, InMemoryEventStore(), tolerance=5, clock=lambda: NOW + 10)
    assert not isinstance(strict.parse(body, header), BaseEvent)
    lax = Receiver(SECRET, InMemoryEventStore(), tolerance=None, clock=lambda: NOW + 10**6)
    assert isinstance(lax.parse(body, header), BaseEvent)


def test_handlers_for_runs_matching_handlers_in_registration_order() -> None:
    hooks = Receiver(SECRET, InMemoryEventStore())
    order: list[str] = []
    hooks.on("*")(lambda e: order.append("any"))
    hooks.on("bill.paid", "bill.repaid")(lambda e: order.append("paid-or-repaid"))
    assert [r.fn for r in hooks.handlers_for("bill.paid")] == [
        r.fn for r in hooks.handlers_for("bill.paid")
    ]
    assert len(hooks.handlers_for("bill.paid")) == 2
    assert len(hooks.handlers_for("bill.expired")) == 1
    hooks.on("bill.expired")(lambda e: order.append("expired"))  # registering later counts
    assert len(hooks.handlers_for("bill.expired")) == 2
    deliver(hooks, "bill.expired")
    assert order == ["any", "expired"]


# --- what goes on the wire from the ASGI app ------------------------------------------


def _app_with_handler() -> WebhookApp:
    hooks = WebhookApp(secret=SECRET, max_body_size=2_000, store=InMemoryEventStore())
    hooks.on("bill.paid")(lambda e: None)
    return hooks


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (lambda: (b"{}", {"X-LumenLater-Signature": "t=1,v1=00"}), 400),
        (lambda: (b"x" * 3_000, {}), 413),
        (lambda: (b"not json", {"X-LumenLater-Signature": sign(b"not json", SECRET)}), 400),
    ],
)
def test_error_answers_are_json_with_their_length(make: Any, status: int) -> None:
    body, headers = make()
    with serve(_app_with_handler()) as base, httpx.Client() as http:
        r = http.post(base + "/", content=body, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    assert isinstance(json.loads(r.content)["error"]["message"], str)


def test_the_asgi_app_sends_retry_after_and_allow_headers() -> None:
    with serve(_app_with_handler()) as base, httpx.Client() as http:
        r = http.get(base + "/")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert r.headers["content-type"] == "application/json"
        req = signed_request("bill.paid", SECRET)
        r = http.post(base + "/", content=req.body, headers=req.headers)
        assert r.status_code == 200 and r.json() == {"received": True}
        assert int(r.headers["content-length"]) == len(r.content)


def test_the_secret_list_is_copied_at_construction() -> None:
    secrets = [SECRET]
    hooks = Receiver(secrets, InMemoryEventStore())
    hooks.on("bill.paid")(lambda event: None)
    secrets.clear()  # the caller reuses its list; the receiver keeps what it was given
    secrets.append("whsec_someone_else")
    assert deliver(hooks)[0] == 200


def test_on_without_event_types_says_how_to_call_it() -> None:
    with pytest.raises(TypeError) as info:
        Receiver(SECRET, InMemoryEventStore()).on()
    assert str(info.value) == 'on() needs at least one event type, e.g. on("bill.paid") or on("*")'


def test_a_non_numeric_content_length_is_named() -> None:
    reply = Receiver(SECRET, InMemoryEventStore()).check_head("POST", "12abc")
    assert reply is not None and reply.status == 400
    assert json.loads(reply.body) == {
        "error": {"code": "invalid_content_length", "message": "Content-Length is not a number"}
    }


async def test_async_handlers_run_on_the_apps_event_loop_and_sync_ones_off_it() -> None:
    import asyncio
    import threading

    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    seen: dict[str, Any] = {}

    @hooks.on("bill.paid")
    async def on_loop(event: BaseEvent) -> None:
        seen["async_loop"] = asyncio.get_running_loop()

    class AsyncCallable:
        async def __call__(self, event: BaseEvent) -> None:
            seen["callable_loop"] = asyncio.get_running_loop()

    hooks.on("bill.paid")(AsyncCallable())

    @hooks.on("bill.paid")
    def blocking(event: BaseEvent) -> None:
        seen["sync_thread"] = threading.current_thread()

    req = signed_request("bill.paid", SECRET)
    messages = [{"type": "http.request", "body": req.body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in req.headers.items()],
    }
    await hooks(scope, receive, send)
    assert sent[0]["status"] == 200
    loop = asyncio.get_running_loop()
    assert seen["async_loop"] is loop and seen["callable_loop"] is loop
    assert seen["sync_thread"] is not threading.current_thread()
