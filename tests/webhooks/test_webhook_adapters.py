"""The Flask and Django adapters: same answers as the ASGI app, via each test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from webhook_support import SECRET, configure_django

from lumenlater_sdk.webhooks import (
    MAX_BODY_SIZE,
    BaseEvent,
    BillPaidEvent,
    InMemoryEventStore,
    WebhookApp,
    sign,
)
from lumenlater_sdk.webhooks.testing import make_event, signed_request


def make_hooks() -> tuple[WebhookApp, list[str]]:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    calls: list[str] = []

    @hooks.on("bill.paid")
    def paid(event: BillPaidEvent) -> None:
        assert isinstance(event, BillPaidEvent)
        calls.append("sync")

    @hooks.on("bill.paid")
    async def paid_async(event: BaseEvent) -> None:
        calls.append("async")

    @hooks.on("bill.overdue")
    def flaky(event: BaseEvent) -> None:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise RuntimeError("first attempt fails")

    return hooks, calls


def oversized() -> bytes:
    base = json.dumps(make_event("bill.paid"), separators=(",", ":")).encode()
    return base + b" " * (MAX_BODY_SIZE + 1 - len(base))


# --- Flask ------------------------------------------------------------------------


@pytest.fixture
def flask_client() -> Iterator[tuple[Any, list[str]]]:
    from lumenlater_sdk.webhooks.flask import blueprint, view

    hooks, calls = make_hooks()
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint(hooks, url_prefix="/webhooks/lumenlater"))
    app.add_url_rule("/plain", view_func=view(hooks), methods=["POST"])
    yield app.test_client(), calls


def test_flask_blueprint_semantics(flask_client: tuple[Any, list[str]]) -> None:
    client, calls = flask_client
    url = "/webhooks/lumenlater/"
    req = signed_request("bill.paid", SECRET)
    r = client.post(url, data=req.body, headers=req.headers)
    assert (r.status_code, r.get_json()) == (200, {"received": True})
    assert calls == ["sync", "async"]
    r = client.post(url, data=req.body, headers=req.headers)
    assert r.status_code == 200 and r.get_json()["duplicate"] is True
    assert calls == ["sync", "async"]

    tampered = req.body.replace(b'"paid"', b'"PAID"', 1)
    assert client.post(url, data=tampered, headers=req.headers).status_code == 400
    assert (
        client.post(
            url, data=b"{}", headers={"X-LumenLater-Signature": sign(b"{}", SECRET)}
        ).status_code
        == 400
    )
    r = client.get(url)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"

    big = oversized()
    r = client.post(url, data=big, headers={"X-LumenLater-Signature": sign(big, SECRET)})
    assert r.status_code == 413

    failing = signed_request("bill.overdue", SECRET)
    assert client.post(url, data=failing.body, headers=failing.headers).status_code == 500
    assert client.post(url, data=failing.body, headers=failing.headers).status_code == 200
    assert client.post(url, data=failing.body, headers=failing.headers).status_code == 200
    assert calls.count("flaky") == 2


def test_flask_plain_view(flask_client: tuple[Any, list[str]]) -> None:
    client, calls = flask_client
    req = signed_request("bill.paid", SECRET)
    assert client.post("/plain", data=req.body, headers=req.headers).status_code == 200
    assert calls == ["sync", "async"]


# --- Django -----------------------------------------------------------------------

urlpatterns: list[Any] = []


@pytest.fixture
def django_client() -> Iterator[tuple[Any, list[str]]]:
    configure_django(__name__)
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    from lumenlater_sdk.webhooks.django import webhook_view

    hooks, calls = make_hooks()
    urlpatterns[:] = [path("webhooks/lumenlater/", webhook_view(hooks))]
    middleware = [
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ]
    with override_settings(
        ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"], MIDDLEWARE=middleware
    ):
        clear_url_caches()
        yield Client(enforce_csrf_checks=True), calls
    clear_url_caches()


def django_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"
    }


def test_django_view_semantics(django_client: tuple[Any, list[str]]) -> None:
    client, calls = django_client
    url = "/webhooks/lumenlater/"
    req = signed_request("bill.paid", SECRET)
    post = lambda body, headers: client.generic(  # noqa: E731
        "POST", url, body, content_type="application/json", **django_headers(headers)
    )
    r = post(req.body, req.headers)  # CSRF-exempt although checks are enforced
    assert (r.status_code, json.loads(r.content)) == (200, {"received": True})
    assert calls == ["sync", "async"]
    r = post(req.body, req.headers)
    assert r.status_code == 200 and json.loads(r.content)["duplicate"] is True
    assert calls == ["sync", "async"]

    assert post(req.body + b" ", req.headers).status_code == 400
    assert post(req.body, {}).status_code == 400
    r = client.get(url)
    assert r.status_code == 405 and r["Allow"] == "POST"

    big = oversized()
    assert post(big, {"X-LumenLater-Signature": sign(big, SECRET)}).status_code == 413

    failing = signed_request("bill.overdue", SECRET)
    assert post(failing.body, failing.headers).status_code == 500
    assert post(failing.body, failing.headers).status_code == 200
    assert post(failing.body, failing.headers).status_code == 200
    assert calls.count("flaky") == 2
