"""The app's configuration and its system check of ``LUMENLATER_PUBLISHABLE_KEY``."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

__all__ = ["LumenLaterCheckoutConfig", "check_publishable_key"]

SETTING = "LUMENLATER_PUBLISHABLE_KEY"


def check_publishable_key(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``lumenlater.W001`` without a key; ``lumenlater.E001`` for anything but a ``pk_`` key
    (a secret key there would be written into every checkout page)."""
    key = getattr(settings, SETTING, None)
    if not key:
        return [
            checks.Warning(
                f"{SETTING} is not set: {{% lumenlater_embed %}} needs publishable_key=.",
                hint="Set it to the pk_test_... key `lumenlater sandbox` prints.",
                id="lumenlater.W001",
            )
        ]
    if not isinstance(key, str) or not key.startswith("pk_"):
        secret = isinstance(key, str) and key.startswith("sk_")
        return [
            checks.Error(
                f"{SETTING} is not a publishable key"
                + (" but a secret key: roll it now if a page showed it" if secret else ""),
                hint="Use the account's pk_test_... / pk_live_... key.",
                id="lumenlater.E001",
            )
        ]
    return []


class LumenLaterCheckoutConfig(AppConfig):  # type: ignore[misc]  # django is untyped
    """``lumenlater_sdk.checkout.django``: the ``lumenlater`` template tag library."""

    name = "lumenlater_sdk.checkout.django"
    label = "lumenlater_checkout"
    verbose_name = "LumenLater checkout"

    def ready(self) -> None:
        """Register the settings check."""
        checks.register(check_publishable_key)
