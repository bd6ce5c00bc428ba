"""Django for the shop's tests: the shop's own settings module on a throwaway SQLite file.

Django is set up when this file is imported (at collection), before any test can
configure settings some other way; tables are created once per session with
``migrate``. Each test gets a fresh sandbox (the repo-root ``sandbox`` fixture) and
the shop's LumenLater settings pointed at it with ``override_settings``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHOP_DIR = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent
SETTINGS_MODULE = "lumenshop_site.settings"
# What manage.py puts on sys.path (the project root) and the helpers next to this file.
for _dir in (SHOP_DIR, TESTS_DIR):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))

_TMP = Path(tempfile.mkdtemp(prefix="django-shop-tests-"))


def _setup_django() -> None:
    import django
    from django.conf import settings

    if settings.configured:
        if getattr(settings, "SETTINGS_MODULE", None) != SETTINGS_MODULE:
            raise RuntimeError(
                "Django settings were configured before the Django shop's tests were "
                f"collected ({settings.SETTINGS_MODULE!r}); run these tests in their own session"
            )
        return
    # The settings module reads LUMENLATER_* once, on import: point it at a temp
    # database and hide a developer's own keys (each test sets its sandbox's).
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "LUMENLATER_SHOP_DB": str(_TMP / "shop.db"),
        "LUMENLATER_SHOP_EVENTS_DB": "",
        "LUMENLATER_API_KEY": "",
        "LUMENLATER_BASE_URL": "",
        "LUMENLATER_WEBHOOK_SECRET": "",
        "LUMENLATER_PUBLISHABLE_KEY": "",
        "LUMENLATER_SHOP_DEBUG": "",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        django.setup()
    finally:
        # DJANGO_SETTINGS_MODULE stays: other test files' Django set-up must see it.
        for name, value in saved.items():
            if name == "DJANGO_SETTINGS_MODULE":
                continue
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


_setup_django()


@pytest.fixture(scope="session", autouse=True)
def django_shop_database() -> Iterator[None]:
    """Migrate the temp database once; tidy everything up after the last test."""
    from django.core.management import call_command
    from django.db import connections
    from django.test.utils import setup_test_environment, teardown_test_environment
    from lumenshop.integration import lumenlater

    setup_test_environment()  # adds "testserver" to ALLOWED_HOSTS for the test Client
    # The checks would only warn that no API key is set yet; the tests set one per test.
    call_command("migrate", verbosity=0, skip_checks=True)
    try:
        yield
    finally:
        lumenlater().reset()
        connections.close_all()
        teardown_test_environment()
        shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture
def shop(sandbox: Any) -> Iterator[Any]:
    """The shop with an empty order book, selling through *sandbox*'s merchant."""
    from django.test.utils import override_settings
    from django_shop_support import ShopUnderTest, empty_shop

    from lumenlater_sdk import LumenLater

    empty_shop()
    with (
        LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url) as ll,
        override_settings(
            LUMENLATER_API_KEY=sandbox.secret_key,
            LUMENLATER_BASE_URL=sandbox.base_url,
            LUMENLATER_WEBHOOK_SECRET=sandbox.webhook_secret,
            LUMENLATER_PUBLISHABLE_KEY=sandbox.publishable_key,
        ),
    ):
        yield ShopUnderTest(ll=ll, webhook_secret=sandbox.webhook_secret)


@pytest.fixture
def live_shop(shop: Any) -> Iterator[Any]:
    """*shop* also served on a loopback port, registered with the sandbox for webhooks."""
    from django_shop_support import live_webhook_endpoint

    with live_webhook_endpoint(shop) as live:
        yield live
