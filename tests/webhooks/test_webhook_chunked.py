"""Bodies sent without a Content-Length (chunked), through real servers.

The size limit must hold while reading, whatever the framework: the ASGI app under
uvicorn, Flask under werkzeug's server and Django under its ASGI handler answer a
chunked body over 1 MiB with 413, and a chunked body within it as usual.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from webhook_support import SECRET, configure_django, serve

from lumenlater_sdk.webhooks import MAX_BODY_SIZE, BaseEvent, InMemoryEventStore, WebhookApp, sign
from lumenlater_sdk.webhooks._core import Receiver, read_limited
from lumenlater_sdk.webhooks.testing import make_event

urlpatterns: list[Any] = []


def padded_event(size: int) -> bytes:
    """A valid event JSON padded with whitespace to exactly *size* bytes."""
    base = json.dumps(make_event("bill.paid"), separators=(",", ":")).encode()
    return base + b" " * (size - len(base))


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def post_chunked(url: str, body: bytes) -> httpx.Response:
    headers = {"X-LumenLater-Signature": sign(body, SECRET), "Content-Type": "application/json"}
    with httpx.Client(timeout=30) as http:
        r = http.post(url, content=chunks(body), headers=headers)
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    return r


def make_hooks() -> tuple[WebhookApp, list[str]]:
    hooks = WebhookApp(secret=SECRET, store=InMemoryEventStore())
    seen: list[str] = []

    @hooks.on("bill.paid")
    def paid(event: BaseEvent) -> None:
        seen.append(event.id)

    return hooks, seen


@pytest.fixture
def flask_url() -> Iterator[tuple[str, list[str]]]:
    import flask
    from werkzeug.serving import make_server

    from lumenlater_sdk._ports import free_port
    from lumenlater_sdk.webhooks.flask import blueprint

    hooks, seen = make_hooks()
    app = flask.Flask(__name__)
    app.register_blueprint(blueprint(hooks, rule="/hooks"))
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/hooks", seen
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def django_url() -> Iterator[tuple[str, list[str]]]:
    configure_django(__name__)
    from django.core.asgi import get_asgi_application
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    from lumenlater_sdk._ports import free_port
    from lumenlater_sdk._serving import ThreadedServer
    from lumenlater_sdk.webhooks.django import webhook_view

    hooks, seen = make_hooks()
    urlpatterns[:] = [path("hooks", webhook_view(hooks))]
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"], MIDDLEWARE=[]):
        clear_url_caches()
        port = free_port()
        # Django's ASGI handler does not speak the lifespan protocol.
        server = ThreadedServer(get_asgi_application(), port, lifespan="off").start(timeout=20)
        try:
            yield f"http://127.0.0.1:{port}/hooks", seen
        finally:
            server.stop(20)
    clear_url_caches()


@pytest.fixture
def asgi_url() -> Iterator[tuple[str, list[str]]]:
    hooks, seen = make_hooks()
    with serve(hooks) as base:
        yield base + "/", seen


@pytest.fixture(params=["asgi", "flask", "django"])
def receiver(request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    value: tuple[str, list[str]] = request.getfixturevalue(f"{request.param}_url")
    return value


def test_a_chunked_body_over_the_limit_is_413(receiver: tuple[str, list[str]]) -> None:
    url, seen = receiver
    r = post_chunked(url, padded_event(MAX_BODY_SIZE + 1))
    assert r.status_code == 413, r.text
    assert "larger than" in r.json()["error"]["message"]
    assert seen == []


def test_a_chunked_body_at_the_limit_is_handled(receiver: tuple[str, list[str]]) -> None:
    url, seen = receiver
    body = padded_event(MAX_BODY_SIZE)
    r = post_chunked(url, body)
    assert r.status_code == 200, r.text
    assert seen == [json.loads(body)["id"]]


def test_a_small_chunked_body_is_handled(receiver: tuple[str, list[str]]) -> None:
    url, seen = receiver
    body = padded_event(2_000)
    assert post_chunked(url, body).status_code == 200
    assert post_chunked(url, body).json() == {"received": True, "duplicate": True}
    assert seen == [json.loads(body)["id"]]


# --- the reading rule on its own -----------------------------------------------------------


class Reader:
    """``read(n)`` over *data*, in pieces of at most *piece* bytes; records each ``n``."""

    def __init__(self, data: bytes, piece: int = 1 << 30) -> None:
        self.data = data
        self.piece = piece
        self.asked: list[int] = []

    def __call__(self, n: int) -> bytes:
        self.asked.append(n)
        out, self.data = self.data[: min(n, self.piece)], self.data[min(n, self.piece) :]
        return out


@pytest.mark.parametrize("piece", [1, 7, 65_536, 1 << 30])
def test_read_limited_reads_everything_up_to_the_limit(piece: int) -> None:
    data = bytes(range(256)) * 4
    assert read_limited(Reader(data, piece), len(data)) == data
    assert read_limited(Reader(data, piece), len(data) + 1) == data
    assert read_limited(Reader(data, piece), len(data) - 1) is None
    assert read_limited(Reader(b""), 10) == b""


def test_read_limited_never_asks_for_more_than_one_byte_past_the_limit() -> None:
    reader = Reader(b"x" * 1_000_000)
    assert read_limited(reader, 100_000) is None
    assert all(0 < n <= 65_536 for n in reader.asked)
    # It consumes exactly one byte past the limit before it gives up, never more.
    assert sum(reader.asked) == 100_001
    reader = Reader(b"x" * 200_000)
    assert read_limited(reader, 1_000_000) == b"x" * 200_000
    assert max(reader.asked) == 65_536  # reads in bounded pieces, not all at once


def test_handle_sync_without_a_length_counts_what_it_reads() -> None:
    hooks = Receiver(SECRET, InMemoryEventStore(), max_body_size=5_000)
    body = padded_event(5_001)
    reply = hooks.handle_sync("POST", None, sign(body, SECRET), Reader(body, 999))
    assert reply.status == 413
    assert json.loads(reply.body)["error"]["message"] == "The body is larger than 5000 bytes"
    body = padded_event(5_000)
    reply = hooks.handle_sync("POST", None, sign(body, SECRET), Reader(body, 999))
    assert reply.status == 200


@pytest.mark.parametrize(
    ("length", "status"), [("5001", 413), ("5000", None), ("12abc", 400), ("", None)]
)
def test_check_head_on_the_declared_length(length: str, status: int | None) -> None:
    hooks = Receiver(SECRET, InMemoryEventStore(), max_body_size=5_000)
    reply = hooks.check_head("POST", length)
    assert (reply.status if reply else None) == status
    assert hooks.check_head("GET", "1").status == 405  # type: ignore[union-attr]
