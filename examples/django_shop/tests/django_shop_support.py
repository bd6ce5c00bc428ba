"""Helpers for the Django shop's tests (a unique module name: the Flask shop has its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from django.contrib.sessions.models import Session
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from lumenshop.models import Order

from lumenlater_sdk import LumenLater, LumenLaterError
from lumenlater_sdk.webhooks.testing import SignedRequest

WEBHOOK_PATH = "/webhooks/lumenlater"


@dataclass(frozen=True)
class ShopUnderTest:
    """The shop's settings point at a sandbox; ``ll`` talks to that sandbox directly."""

    ll: LumenLater
    webhook_secret: str
    url: str | None = None
    endpoint_id: str | None = None

    def browser(self, *, enforce_csrf_checks: bool = False) -> Client:
        """A fresh Django test client (its own session, so its own cart)."""
        return Client(enforce_csrf_checks=enforce_csrf_checks)


def empty_shop() -> None:
    """No orders, carts or remembered webhook events left over from an earlier test."""
    Order.objects.all().delete()
    Session.objects.all().delete()
    with connection.cursor() as cursor, suppress(Exception):
        # The SDK's store creates its table on first use; it may not exist yet.
        cursor.execute("DELETE FROM lumenlater_webhook_events")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_shop(host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the Django project on a free port in background threads; yields its URL."""
    # Django's own threaded server (as LiveServerTestCase uses); it closes each request
    # thread's database connections when the request is done.
    server = ThreadedWSGIServer((host, 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, name="django-shop-live", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def live_webhook_endpoint(shop: ShopUnderTest) -> Iterator[ShopUnderTest]:
    """Serve the shop and register ``<its URL>/webhooks/lumenlater`` with the sandbox.

    The shop's ``LUMENLATER_WEBHOOK_SECRET`` is the new endpoint's secret meanwhile.
    """
    with serve_shop() as url:
        endpoint = shop.ll.webhook_endpoints.create(
            url=url + WEBHOOK_PATH,
            enabled_events=["*"],
            description="Lumen Goods (examples/django_shop tests)",
        )
        assert endpoint.secret, "the secret is returned when the endpoint is created"
        try:
            with override_settings(LUMENLATER_WEBHOOK_SECRET=endpoint.secret):
                yield replace(
                    shop, url=url, endpoint_id=endpoint.id, webhook_secret=endpoint.secret
                )
        finally:
            with suppress(LumenLaterError):
                shop.ll.webhook_endpoints.delete(endpoint.id)


def fill_cart(client: Client, items: Mapping[str, int]) -> None:
    """Add each ``sku: quantity`` through the catalogue's form."""
    for sku, quantity in items.items():
        r = client.post("/cart/add/", {"sku": sku, "quantity": str(quantity)})
        assert r.status_code == 303, r.content


def check_out(client: Client) -> str:
    """Check out; returns the hosted page the shop redirects to."""
    r = client.post("/checkout/")
    assert r.status_code == 303, r.content
    return str(r["Location"])


def only_order() -> Order:
    """The one order in the shop."""
    [order] = Order.objects.all()
    return order


def deliver(client: Client, request: SignedRequest, path: str = WEBHOOK_PATH) -> Any:
    """POST a signed delivery through the test client, headers and raw body as sent."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    return client.post(path, request.body, content_type="application/json", headers=headers)


def snapshot(order: Order) -> dict[str, Any]:
    """Every stored field of the order now (to show that nothing changed)."""
    fresh = Order.objects.get(pk=order.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Order._meta.concrete_fields}


def wait_for_order(
    reference: str, done: Callable[[Order], bool], *, timeout: float = 30.0
) -> Order:
    """Poll until the order satisfies *done* (webhooks arrive asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        order = Order.objects.get(reference=reference)
        if done(order):
            return order
        if time.monotonic() > deadline:
            raise TimeoutError(f"order {reference} did not change as expected: {order}")
        time.sleep(0.1)


def wait_for_delivery(
    ll: LumenLater, endpoint_id: str, event_id: str, *, timeout: float = 30.0
) -> None:
    """Poll the endpoint's delivery log until *event_id* was answered with a 2xx."""
    deadline = time.monotonic() + timeout
    while True:
        log = ll.webhook_endpoints.deliveries(endpoint_id, limit=100).data
        if any(d.event == event_id and 200 <= (d.status_code or 0) < 300 for d in log):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{event_id} was not delivered to {endpoint_id}: {log}")
        time.sleep(0.1)
