"""Run the shop in a background thread, wired to LumenLater (for the demo and the tests).

:func:`serve` binds the port first, registers a webhook endpoint for that exact
URL through the SDK, builds the shop with the endpoint's secret, and serves it
until the ``with`` block ends (then deletes the endpoint again).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from lumenlater_sdk import LumenLater, LumenLaterError

from .app import WEBHOOK_PATH, create_app
from .extension import LumenLaterFlask
from .orders import Order, OrderStore
from .views import orders_of


@dataclass(frozen=True)
class RunningShop:
    """A shop being served: where, its app and orders, and its webhook endpoint."""

    url: str
    app: Flask
    orders: OrderStore
    endpoint_id: str
    webhook_secret: str

    def wait_for_order(
        self, order_id: str, done: Callable[[Order], bool], *, timeout: float = 60.0
    ) -> Order:
        """Poll until the order satisfies *done* (webhooks arrive asynchronously).

        Raises ``TimeoutError`` with the order's last state when *timeout* passes.
        """
        deadline = time.monotonic() + timeout
        order = self.orders.get(order_id)
        while order is None or not done(order):
            if time.monotonic() > deadline:
                raise TimeoutError(f"order {order_id} did not change as expected: {order}")
            time.sleep(0.1)
            order = self.orders.get(order_id)
        return order


@contextmanager
def serve(
    *,
    api_key: str,
    base_url: str,
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    publishable_key: str | None = None,
) -> Iterator[RunningShop]:
    """Serve a new shop on *host*:*port* (0: any free port) selling through *api_key*'s account.

    With *publishable_key* the cart also offers the embedded checkout.

    Raises ``OSError`` if the port is taken and the client's errors if the webhook
    endpoint cannot be registered.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with closing(listener), LumenLater(api_key=api_key, base_url=base_url) as ll:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        url = f"http://{host}:{listener.getsockname()[1]}"
        # The endpoint must name the real port, and the app needs the endpoint's secret.
        endpoint = ll.webhook_endpoints.create(
            url=url + WEBHOOK_PATH,
            enabled_events=["*"],
            description="Lumen Goods (examples/flask_shop)",
        )
        try:
            assert endpoint.secret, "the secret is returned when the endpoint is created"
            config = {
                "LUMENLATER_API_KEY": api_key,
                "LUMENLATER_BASE_URL": base_url,
                "LUMENLATER_WEBHOOK_SECRET": endpoint.secret,
                "LUMENLATER_SHOP_DB": str(db_path),
            }
            if publishable_key:
                config["LUMENLATER_PUBLISHABLE_KEY"] = publishable_key
            app = create_app(config)
            server = make_server(host, 0, app, threaded=True, fd=listener.fileno())
            thread = threading.Thread(target=server.serve_forever, name="flask-shop", daemon=True)
            thread.start()
            try:
                yield RunningShop(url, app, orders_of(app), endpoint.id, endpoint.secret)
            finally:
                server.shutdown()
                server.server_close()
                thread.join()
                LumenLaterFlask.close(app)
        finally:
            # The sandbox may already be gone, and the endpoint with it.
            with suppress(LumenLaterError):
                ll.webhook_endpoints.delete(endpoint.id)
