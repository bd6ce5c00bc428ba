"""Refused deliveries say why (the 400 body's ``code``) and are logged at WARNING without
the secret or the body, and ``secret=`` resolves per request for multi-merchant URLs:
through the real ASGI app under uvicorn, the Flask adapter and the Django adapter."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from webhook_support import OTHER_SECRET, SECRET, configure_django, serve

from lumenlater_sdk.webhooks import (
    BaseEvent,
    InMemoryEventStore,
    SignatureVerificationError,
    WebhookApp,
    WebhookRequest,
    construct_event,
    sign,
)
from lumenlater_sdk.webhooks.testing import make_event, signed_request

LOGGER = "lumenlater.webhooks"
SECRETS: dict[str, Any] = {"shop-a": SECRET, "shop-b": [OTHER_SECRET, SECRET]}


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


Post = Callable[[str, bytes, dict[str, str]], Answer]


@dataclass
class Receiver:
    """One adapter serving ``hooks`` at ``/hooks/<merchant>``."""

    post: Post
    get: Callable[[str], int]
    seen: list[WebhookRequest]
    handled: list[str]


def make_hooks(async_resolver: bool) -> tuple[WebhookApp, list[WebhookRequest], list[str]]:
    seen: list[WebhookRequest] = []
    handled: list[str] = []

    def lookup(request: WebhookRequest) -> Any:
        seen.append(request)
        merchant = request.path_params["merchant"]
        if merchant == "broken":
            raise RuntimeError("the secrets table is unreachable")
        return SECRETS.get(merchant)

    async def alookup(request: WebhookRequest) -> Any:
        return lookup(request)

    hooks = WebhookApp(secret=alookup if async_resolver else lookup, store=InMemoryEventStore())

    @hooks.on("*")
    def record(event: BaseEvent) -> None:
        handled.append(event.id)

    return hooks, seen, handled


@pytest.fixture
def asgi_receiver() -> Iterator[Receiver]:
    hooks, seen, handled = make_hooks(async_resolver=True)
    app = Starlette(routes=[Route("/hooks/{merchant}", hooks)])
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:

        def post(path: str, body: bytes, headers: dict[str, str]) -> Answer:
            r = http.post(path, content=body, headers=headers)
            return Answer(r.status_code, r.json())

        yield Receiver(post, lambda path: http.get(path).status_code, seen, handled)


@pytest.fixture
def flask_receiver() -> Iterator[Receiver]:
    from lumenlater_sdk.webhooks.flask import blueprint

    hooks, seen, handled = make_hooks(async_resolver=False)
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint(hooks, url_prefix="/hooks", rule="/<merchant>"))
    client = app.test_client()

    def post(path: str, body: bytes, headers: dict[str, str]) -> Answer:
        r = client.post(path, data=body, headers=headers)
        return Answer(r.status_code, json.loads(r.data))

    yield Receiver(post, lambda path: client.get(path).status_code, seen, handled)


urlpatterns: list[Any] = []


@pytest.fixture
def django_receiver() -> Iterator[Receiver]:
    configure_django(__name__)
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    from lumenlater_sdk.webhooks.django import webhook_view

    hooks, seen, handled = make_hooks(async_resolver=True)  # run to completion by the view
    urlpatterns[:] = [path("hooks/<str:merchant>", webhook_view(hooks))]
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        clear_url_caches()
        client = Client(enforce_csrf_checks=True)

        def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
            meta = {
                "HTTP_" + k.upper().replace("-", "_"): v
                for k, v in headers.items()
                if k.lower() != "content-type"
            }
            r = client.generic("POST", url, body, content_type="application/json", **meta)
            return Answer(r.status_code, json.loads(r.content))

        yield Receiver(post, lambda url: client.get(url).status_code, seen, handled)
    clear_url_caches()


@pytest.fixture(params=["asgi", "flask", "django"])
def receiver(request: pytest.FixtureRequest) -> Receiver:
    return request.getfixturevalue(f"{request.param}_receiver")  # type: ignore[no-any-return]


def signed(body: bytes, secret: Any, timestamp: int | None = None) -> dict[str, str]:
    return {
        "X-LumenLater-Signature": sign(body, secret, timestamp),
        "Content-Type": "application/json",
    }


def event_body() -> tuple[str, bytes]:
    event = make_event("bill.paid")
    return event["id"], json.dumps(event, separators=(",", ":")).encode()


def test_the_resolver_picks_each_merchants_secret(receiver: Receiver) -> None:
    for merchant, secret in (("shop-a", SECRET), ("shop-b", OTHER_SECRET)):
        req = signed_request("bill.paid", secret)
        answer = receiver.post(f"/hooks/{merchant}?mode=test", req.body, req.headers)
        assert (answer.status, answer.body) == (200, {"received": True})
        assert receiver.handled[-1] == req.event_id
        seen = receiver.seen[-1]
        assert seen.path == f"/hooks/{merchant}" and seen.path_params == {"merchant": merchant}
        assert seen.query == {"mode": "test"}
        assert seen.headers["x-lumenlater-signature"] == req.headers["X-LumenLater-Signature"]
    # shop-a's secret does not open shop-b's door, nor the other way round.
    wrong = signed_request("bill.paid", OTHER_SECRET)
    answer = receiver.post("/hooks/shop-a", wrong.body, wrong.headers)
    assert (answer.status, answer.body["error"]["code"]) == (400, "no_matching_signature")
    assert len(receiver.handled) == 2


def test_each_refusal_names_its_check_in_the_body_and_the_log(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    event_id, body = event_body()
    old = int(time.time()) - 3600
    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        ("/hooks/shop-a", body, {"Content-Type": "application/json"}, 400, "missing_header"),
        ("/hooks/shop-a", body, {"X-LumenLater-Signature": "t=soon,v1=ab"}, 400,
         "malformed_header"),
        ("/hooks/shop-a", body, signed(body, OTHER_SECRET), 400, "no_matching_signature"),
        ("/hooks/shop-a", body, signed(body, SECRET, old), 400, "timestamp_too_old"),
        ("/hooks/shop-a", b"{not json: private}", signed(b"{not json: private}", SECRET), 400,
         "invalid_json"),
        ("/hooks/shop-a", b'{"private":"hello"}', signed(b'{"private":"hello"}', SECRET), 400,
         "invalid_event"),
        ("/hooks/shop-zzz", body, signed(body, SECRET), 400, "no_secret"),
        ("/hooks/broken", body, signed(body, SECRET), 500, "secret_lookup_failed"),
    ]  # fmt: skip
    for path, payload, headers, status, code in cases:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            answer = receiver.post(path, payload, headers)
        assert (answer.status, answer.body["error"]["code"]) == (status, code), code
        assert answer.body["error"]["message"]
        records = [r for r in caplog.records if r.name == LOGGER]
        assert len(records) == 1, (code, caplog.text)
        record = records[0]
        if status == 400:
            assert record.levelno == logging.WARNING
            message = record.getMessage()
            assert message.startswith(f"Refused a LumenLater webhook to {path}: 400 {code}: ")
            assert record.fields == {"status": 400, "code": code, "path": path}  # type: ignore[attr-defined]
        else:  # the resolver raised: its traceback, at ERROR, and the sender retries
            assert record.levelno == logging.ERROR and record.exc_info is not None
        for never in (SECRET, OTHER_SECRET, event_id, "private", "hello"):
            assert never not in caplog.text, (code, never)
    assert receiver.handled == []


def test_the_log_line_says_what_to_check(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    _, body = event_body()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        receiver.post("/hooks/shop-a", body, signed(body, OTHER_SECRET))
    assert "endpoint's own whsec_ secret" in caplog.text
    assert "`lumenlater listen` prints the one it signs with" in caplog.text


def test_too_large_and_wrong_method_are_logged(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    big = b"x" * (1024 * 1024 + 1)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        answer = receiver.post("/hooks/shop-a", big, signed(big, SECRET))
        assert (answer.status, answer.body["error"]["code"]) == (413, "body_too_large")
        assert receiver.get("/hooks/shop-a") == 405
    too_large, wrong_method = [r for r in caplog.records if r.name == LOGGER]
    assert too_large.levelno == logging.WARNING and "413 body_too_large" in too_large.getMessage()
    assert wrong_method.levelno == logging.INFO
    assert "405 method_not_allowed" in wrong_method.getMessage()


def test_a_fixed_secret_still_works_and_refusals_carry_codes() -> None:
    import asyncio

    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    _, body = event_body()
    reply = asyncio.run(hooks.deliver(body, sign(body, OTHER_SECRET)))
    assert json.loads(reply.body)["error"]["code"] == "no_matching_signature"
    assert asyncio.run(hooks.deliver(body, sign(body, SECRET))).status == 200


# --- construct_event with a resolver -------------------------------------------------


def test_construct_event_takes_the_same_resolver() -> None:
    def lookup(request: WebhookRequest) -> Any:
        return SECRETS.get(request.path_params.get("merchant", ""))

    req = signed_request("bill.paid", OTHER_SECRET)
    header = req.headers["X-LumenLater-Signature"]
    to_b = WebhookRequest("/hooks/shop-b", path_params={"merchant": "shop-b"})
    assert construct_event(req.body, header, lookup, request=to_b).id == req.event_id
    with pytest.raises(SignatureVerificationError) as refused:
        construct_event(req.body, header, lookup, request=WebhookRequest("/hooks/shop-a",
                        path_params={"merchant": "shop-a"}))  # fmt: skip
    assert refused.value.reason == "no_matching_signature"
    with pytest.raises(SignatureVerificationError) as unknown:
        construct_event(req.body, header, lookup, request=WebhookRequest("/hooks/nobody"))
    assert unknown.value.reason == "no_secret"
    with pytest.raises(TypeError, match="needs request="):
        construct_event(req.body, header, lookup)

    async def alookup(request: WebhookRequest) -> str:
        return SECRET

    with pytest.raises(TypeError, match="async"):
        construct_event(req.body, header, alookup, request=to_b)
    with pytest.raises(TypeError, match="not int"):
        construct_event(req.body, header, lambda r: 5, request=to_b)
