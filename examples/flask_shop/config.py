"""Shop configuration from ``LUMENLATER_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_VARS = {
    "LUMENLATER_API_KEY": "secret API key (sk_test_…) of the merchant",
    "LUMENLATER_BASE_URL": "LumenLater API base URL, e.g. http://127.0.0.1:8787",
    "LUMENLATER_WEBHOOK_SECRET": "whsec_… secret of this shop's webhook endpoint",
    "LUMENLATER_PUBLISHABLE_KEY": "publishable key (pk_test_…): offers the embedded checkout",
    "LUMENLATER_SHOP_DB": "SQLite file for orders (default ~/.lumenlater/flask_shop.db)",
    "LUMENLATER_SHOP_EVENTS_DB": "SQLite file of handled event ids (default: LUMENLATER_SHOP_DB)",
    "LUMENLATER_SHOP_SECRET_KEY": "key signing the cart cookie (default: random per process)",
    "LUMENLATER_SHOP_HOST": "address `python -m examples.flask_shop` listens on (127.0.0.1)",
    "LUMENLATER_SHOP_PORT": "port `python -m examples.flask_shop` listens on (5000)",
}
"""Every setting the shop reads, with what it is for."""

DEFAULT_DB = Path.home() / ".lumenlater" / "flask_shop.db"


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``LUMENLATER_*`` settings present in *environ* (default ``os.environ``)."""
    env = os.environ if environ is None else environ
    return {name: env[name] for name in ENV_VARS if env.get(name)}
