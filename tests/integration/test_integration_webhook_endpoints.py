"""Webhook endpoints through the client, with real deliveries to a loopback receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

import pytest
from integration_support import wallet

from lumenlater_sdk import AsyncLumenLater, LumenLater, NotFoundError, usdc
from lumenlater_sdk.types import WebhookEndpoint
from lumenlater_sdk.webhooks import verify_signature

T = TypeVar("T")


class Receiver:
    """A loopback HTTP server that records every POST and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def wait_for(what: str, probe: Callable[[], T | None], within: float = 30.0) -> T:
    """Poll *probe* until it returns something truthy (delivery is asynchronous)."""
    deadline = time.monotonic() + within
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_endpoint_lifecycle(client: LumenLater, sb: object) -> None:
    ep = client.webhook_endpoints.create(
        url="https://shop.test/hooks",
        enabled_events=["bill.paid", "bill.repaid"],
        description="main",
        metadata={"team": "shop"},
    )
    assert isinstance(ep, WebhookEndpoint) and ep.id.startswith("we_")
    assert ep.secret is not None and ep.secret.startswith("whsec_")
    assert ep.url == "https://shop.test/hooks"
    assert ep.enabled_events == ["bill.paid", "bill.repaid"]
    assert ep.description == "main" and ep.metadata == {"team": "shop"}

    got = client.webhook_endpoints.retrieve(ep.id)
    assert got.secret is None  # shown once, on create
    assert got.url == ep.url and got.enabled_events == ep.enabled_events
    listed = list(client.webhook_endpoints.list())
    assert ep.id in {e.id for e in listed}
    assert all(e.secret is None for e in listed)

    upd = client.webhook_endpoints.update(
        ep.id, url="https://shop.test/hooks2", enabled_events=["*"]
    )
    assert upd.url == "https://shop.test/hooks2" and upd.enabled_events == ["*"]
    assert upd.secret is None
    off = client.webhook_endpoints.update(ep.id, disabled=True)
    assert off.status == "disabled"
    on = client.webhook_endpoints.update(ep.id, disabled=False)
    assert on.status == "enabled"

    rotated = client.webhook_endpoints.rotate_secret(ep.id, expire_old_after=3600)
    assert rotated.id == ep.id
    assert rotated.secret is not None and rotated.secret.startswith("whsec_")
    assert rotated.secret != ep.secret
    assert client.webhook_endpoints.retrieve(ep.id).secret is None

    assert list(client.webhook_endpoints.deliveries(ep.id)) == []

    deleted = client.webhook_endpoints.delete(ep.id)
    assert deleted.id == ep.id and deleted.deleted is True
    with pytest.raises(NotFoundError):
        client.webhook_endpoints.retrieve(ep.id)
    assert ep.id not in {e.id for e in client.webhook_endpoints.list()}


def test_deliveries_are_logged_and_signed(client: LumenLater, receiver: Receiver) -> None:
    ep = client.webhook_endpoints.create(url=receiver.url, enabled_events=["bill.created"])
    assert ep.secret
    bill = client.bills.create(customer=wallet(client, "approve").address, amount=usdc(3))
    event = client.events.list(type="bill.created").data[0]
    assert event.data.object.id == bill.id  # type: ignore[attr-defined]

    log = wait_for("a delivery attempt", lambda: client.webhook_endpoints.deliveries(ep.id).data)
    first = log[0]
    assert first.event == event.id and first.attempt == 1 and first.status_code == 200
    assert first.error is None and first.created > 0

    headers, body = receiver.received[0]
    assert headers["x-lumenlater-event-id"] == event.id
    assert headers["x-lumenlater-event-type"] == "bill.created"
    assert headers["x-lumenlater-delivery-attempt"] == "1"
    verify_signature(body, headers["x-lumenlater-signature"], ep.secret)

    # During rotation, deliveries are signed with both the old and the new secret.
    rotated = client.webhook_endpoints.rotate_secret(ep.id)
    assert rotated.secret
    client.bills.create(customer=wallet(client, "approve").address, amount=usdc(4))
    wait_for("a second delivery", lambda: len(receiver.received) >= 2)
    headers2, body2 = receiver.received[1]
    verify_signature(body2, headers2["x-lumenlater-signature"], ep.secret)
    verify_signature(body2, headers2["x-lumenlater-signature"], rotated.secret)
    assert headers2["x-lumenlater-signature"].count("v1=") == 2


async def test_endpoints_async(aclient: AsyncLumenLater) -> None:
    ep = await aclient.webhook_endpoints.create(
        url="https://shop.test/a", enabled_events=["bill.paid"]
    )
    assert ep.secret and ep.secret.startswith("whsec_")
    assert ep.id in {e.id async for e in aclient.webhook_endpoints.list()}
    upd = await aclient.webhook_endpoints.update(ep.id, enabled_events=["bill.repaid"])
    assert upd.enabled_events == ["bill.repaid"]
    new = await aclient.webhook_endpoints.rotate_secret(ep.id)
    assert new.secret and new.secret != ep.secret
    assert (await aclient.webhook_endpoints.deliveries(ep.id)).data == []
    assert (await aclient.webhook_endpoints.delete(ep.id)).deleted is True
    with pytest.raises(NotFoundError):
        await aclient.webhook_endpoints.retrieve(ep.id)
