"""Settings of Lumen Goods (Django), read from ``LUMENLATER_*`` environment variables.

See :data:`ENV_VARS` for every variable; nothing else needs editing to run the shop
against ``lumenlater sandbox``. The LumenLater settings (``LUMENLATER_API_KEY``,
``LUMENLATER_BASE_URL``, ``LUMENLATER_WEBHOOK_SECRET``, ``LUMENLATER_EVENTS_DB``) are
read by :mod:`lumenshop.integration`, which builds the shop's client from them;
``LUMENLATER_PUBLISHABLE_KEY`` by the SDK's ``lumenlater`` template tags.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV_VARS: dict[str, str] = {
    "LUMENLATER_API_KEY": "secret API key (sk_test_…) of the merchant",
    "LUMENLATER_BASE_URL": "LumenLater API base URL (default http://127.0.0.1:8787)",
    "LUMENLATER_WEBHOOK_SECRET": "whsec_… secret of this shop's webhook endpoint",
    "LUMENLATER_PUBLISHABLE_KEY": "publishable key (pk_test_…): offers the embedded checkout",
    "LUMENLATER_SHOP_DB": "SQLite file for orders and sessions (~/.lumenlater/django_shop.db)",
    "LUMENLATER_SHOP_EVENTS_DB": "SQLite file of handled webhook event ids (LUMENLATER_SHOP_DB)",
    "LUMENLATER_SHOP_SECRET_KEY": "Django SECRET_KEY (default: random per process)",
    "LUMENLATER_SHOP_DEBUG": "1 for Django's debug pages (default 0)",
    "LUMENLATER_SHOP_ALLOWED_HOSTS": "extra comma-separated host names to serve besides loopback",
}
"""Every environment variable the settings read, with what it is for."""


def _env(name: str) -> str | None:
    # An empty variable counts as unset, so `LUMENLATER_X= cmd` falls back to the default.
    return os.environ.get(name) or None


BASE_DIR = Path(__file__).resolve().parent.parent

# A random key means carts and messages do not survive a restart: fine for a sandbox shop.
SECRET_KEY = _env("LUMENLATER_SHOP_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = _env("LUMENLATER_SHOP_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"] + [
    host.strip()
    for host in (_env("LUMENLATER_SHOP_ALLOWED_HOSTS") or "").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.sessions",
    "django.contrib.messages",
    # {% load lumenlater %}: the embedded checkout's tag and the format_usdc filter.
    "lumenlater_sdk.checkout.django",
    "lumenshop.apps.LumenShopConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lumenshop_site.urls"
WSGI_APPLICATION = "lumenshop_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "lumenshop.context_processors.cart",
            ],
        },
    },
]

SHOP_DB = Path(_env("LUMENLATER_SHOP_DB") or Path.home() / ".lumenlater" / "django_shop.db")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SHOP_DB,
        "OPTIONS": {
            # Webhook deliveries and shoppers write at the same time: wait for the lock
            # rather than fail, and take it when a transaction starts so a read-then-write
            # cannot deadlock halfway. WAL lets pages read while a webhook writes.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cookies ignore ports: on 127.0.0.1 the sandbox's pages or another example shop must
# not overwrite this shop's cart, so the cookies get names of their own.
SESSION_COOKIE_NAME = "lumenshop_sessionid"
CSRF_COOKIE_NAME = "lumenshop_csrftoken"
# The cart already lives in the session; keeping messages there too adds no cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- LumenLater (read by lumenshop.integration, never by the SDK itself) ---------------
LUMENLATER_API_KEY = _env("LUMENLATER_API_KEY")
LUMENLATER_BASE_URL = _env("LUMENLATER_BASE_URL") or "http://127.0.0.1:8787"
LUMENLATER_WEBHOOK_SECRET = _env("LUMENLATER_WEBHOOK_SECRET")
# Read by {% lumenlater_embed %}; without it the cart offers the redirect only.
LUMENLATER_PUBLISHABLE_KEY = _env("LUMENLATER_PUBLISHABLE_KEY")
# The SDK's event store keeps its own table, so it can share the shop's database file.
LUMENLATER_EVENTS_DB = Path(_env("LUMENLATER_SHOP_EVENTS_DB") or SHOP_DB)
