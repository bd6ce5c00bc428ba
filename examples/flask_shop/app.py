"""The application factory: configuration, the LumenLater extension, routes, webhooks."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from lumenlater_sdk.checkout import flask as lumenlater_checkout
from lumenlater_sdk.webhooks.flask import blueprint as webhook_blueprint

from .config import DEFAULT_DB, from_env
from .extension import LumenLaterFlask
from .orders import OrderStore
from .views import ORDERS_KEY, orders_of, shop
from .webhooks import build_webhook_app

WEBHOOK_PATH = "/webhooks/lumenlater"
"""Where LumenLater delivers events (register ``<shop URL>`` + this path)."""

lumenlater = LumenLaterFlask()
"""The extension object; it keeps each app's client in ``app.extensions``."""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the shop from ``LUMENLATER_*`` environment variables, overridden by *config*."""
    app = Flask(__name__)
    # Cookies ignore ports: on 127.0.0.1 the sandbox's page must not overwrite the cart.
    app.config["SESSION_COOKIE_NAME"] = "lumen_goods_session"
    app.config["LUMENLATER_SHOP_DB"] = str(DEFAULT_DB)
    app.config.update(from_env())
    app.config.update(config or {})
    # The SDK's event store keeps its own table, so it can share the orders database.
    app.config.setdefault("LUMENLATER_SHOP_EVENTS_DB", app.config["LUMENLATER_SHOP_DB"])
    # A random key means carts do not survive a restart, which is fine for a sandbox shop.
    app.config["SECRET_KEY"] = app.config.get("LUMENLATER_SHOP_SECRET_KEY") or secrets.token_hex(32)

    secret = app.config.get("LUMENLATER_WEBHOOK_SECRET")
    if not secret:
        raise RuntimeError(
            "LUMENLATER_WEBHOOK_SECRET is not set (create a webhook endpoint for "
            f"<shop URL>{WEBHOOK_PATH}; the sandbox prints a secret for the default one)"
        )

    lumenlater.init_app(app)
    orders = OrderStore(app.config["LUMENLATER_SHOP_DB"])
    app.extensions[ORDERS_KEY] = orders

    hooks = build_webhook_app(secret, app.config["LUMENLATER_SHOP_EVENTS_DB"], orders)
    # The exact path as the rule: a url_prefix would add a trailing slash, and a webhook
    # sender does not follow the redirect Flask answers without it.
    app.register_blueprint(webhook_blueprint(hooks, rule=WEBHOOK_PATH))
    app.register_blueprint(shop)
    # Templates get lumenlater_embed(session) (with LUMENLATER_PUBLISHABLE_KEY) and the
    # format_usdc filter every amount is printed with.
    lumenlater_checkout.init_app(app)
    return app


__all__ = ["WEBHOOK_PATH", "create_app", "lumenlater", "orders_of"]
