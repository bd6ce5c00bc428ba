"""Shared helpers of the webhook tests: the test secret and a loopback uvicorn runner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lumenlater_sdk._ports import free_port
from lumenlater_sdk._serving import ThreadedServer

SECRET = "whsec_test_5f0c8a1d2e3b4c5d6e7f8091a2b3c4d5"
OTHER_SECRET = "whsec_test_0123456789abcdef0123456789abcdef"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    server = ThreadedServer(app, port, name="uvicorn", lifespan="on").start(timeout=20)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(20)


def configure_django(urlconf: str) -> None:
    """Configure Django once per process (whichever test module gets there first);
    tests then point ``ROOT_URLCONF`` at their own module with ``override_settings``."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="test", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=urlconf, USE_TZ=True
        )
        django.setup()
