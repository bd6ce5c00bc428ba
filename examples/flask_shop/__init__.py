"""Lumen Goods: a small Flask shop that sells with LumenLater (buy now, pay later).

Built only on the public SDK: a catalogue, a cart in the Flask session, checkout
through a LumenLater checkout session, either on its hosted page or embedded in the
shop's own page (``lumenlater_embed`` in the template, with
``LUMENLATER_PUBLISHABLE_KEY``), confirmation on the server in both cases,
and a webhook endpoint (the SDK's Flask adapter) that keeps the shop's own
SQLite order book up to date. Configure it with ``LUMENLATER_*`` environment
variables (see :data:`~.config.ENV_VARS`) and run ``python -m examples.flask_shop``.
"""

from .app import WEBHOOK_PATH, create_app, lumenlater, orders_of
from .extension import LumenLaterFlask

__all__ = ["WEBHOOK_PATH", "LumenLaterFlask", "create_app", "lumenlater", "orders_of"]
