"""The shop's LumenLater integration: one client and one webhook receiver per project.

Nothing here is SDK-global configuration: :class:`LumenLaterIntegration` reads the
project's Django settings, builds a :class:`~lumenlater_sdk.LumenLater` client and a
:class:`~lumenlater_sdk.webhooks.WebhookApp` on first use, and throws them away when
those settings change (``override_settings`` in tests). The app config owns the one
instance; views reach it through :func:`lumenlater`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from lumenlater_sdk import LumenLater
from lumenlater_sdk.webhooks import SQLiteEventStore, WebhookApp
from lumenlater_sdk.webhooks.django import webhook_view

from .webhooks import build_webhook_app

if TYPE_CHECKING:
    from collections.abc import Callable

    from .apps import LumenShopConfig


class LumenLaterIntegration:
    """The project's LumenLater client and webhook receiver, built lazily from settings.

    Thread-safe: the first request that needs the client or the receiver builds it
    under a lock, later ones reuse it (the client keeps a connection pool).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: LumenLater | None = None
        self._hooks: WebhookApp | None = None
        self._store: SQLiteEventStore | None = None
        self._view: Callable[[HttpRequest], HttpResponse] | None = None

    @property
    def client(self) -> LumenLater:
        """The API client (``LUMENLATER_API_KEY`` and ``LUMENLATER_BASE_URL``)."""
        with self._lock:
            if self._client is None:
                api_key = settings.LUMENLATER_API_KEY
                if not api_key:
                    raise ImproperlyConfigured(
                        "LUMENLATER_API_KEY is not set (`lumenlater sandbox` prints a key)"
                    )
                # Both passed explicitly: the client must not fall back to os.environ.
                self._client = LumenLater(api_key=api_key, base_url=settings.LUMENLATER_BASE_URL)
            return self._client

    @property
    def hooks(self) -> WebhookApp:
        """The webhook receiver (``LUMENLATER_WEBHOOK_SECRET``, ``LUMENLATER_EVENTS_DB``)."""
        return self._receiver()[0]

    @property
    def webhook_view(self) -> Callable[[HttpRequest], HttpResponse]:
        """The SDK's Django view (:func:`lumenlater_sdk.webhooks.django.webhook_view`)."""
        return self._receiver()[1]

    def _receiver(self) -> tuple[WebhookApp, Callable[[HttpRequest], HttpResponse]]:
        with self._lock:
            if self._hooks is None or self._view is None:
                secret = settings.LUMENLATER_WEBHOOK_SECRET
                if not secret:
                    # Raised per delivery: the 500 makes LumenLater retry once it is set.
                    raise ImproperlyConfigured(
                        "LUMENLATER_WEBHOOK_SECRET is not set (create a webhook endpoint "
                        "for <shop URL>/webhooks/lumenlater and use its whsec_… secret)"
                    )
                events_db = Path(settings.LUMENLATER_EVENTS_DB)
                events_db.parent.mkdir(parents=True, exist_ok=True)
                self._store = SQLiteEventStore(events_db)
                self._hooks = build_webhook_app(secret, self._store)
                self._view = webhook_view(self._hooks)
            return self._hooks, self._view

    def reset(self) -> None:
        """Forget the client and receiver (closing them); the next use rebuilds them."""
        with self._lock:
            client, store = self._client, self._store
            self._client = self._hooks = self._store = self._view = None
        if client is not None:
            client.close()
        if store is not None:
            store.close()


def lumenlater() -> LumenLaterIntegration:
    """The project's :class:`LumenLaterIntegration` (owned by the ``lumenshop`` app)."""
    config = cast("LumenShopConfig", apps.get_app_config("lumenshop"))
    return config.lumenlater
