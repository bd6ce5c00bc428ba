"""System checks: say at ``runserver`` what is missing before a shopper finds out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Warning as CheckWarning


def lumenlater_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn about LumenLater settings the shop cannot sell without.

    Warnings rather than errors, so ``manage.py migrate`` still works before the
    sandbox has been started.
    """
    issues: list[CheckMessage] = []
    if not settings.LUMENLATER_API_KEY:
        issues.append(
            CheckWarning(
                "LUMENLATER_API_KEY is not set: checkout will fail.",
                hint="Export the secret key (sk_test_…) `lumenlater sandbox` prints.",
                id="lumenshop.W001",
            )
        )
    if not settings.LUMENLATER_WEBHOOK_SECRET:
        issues.append(
            CheckWarning(
                "LUMENLATER_WEBHOOK_SECRET is not set: webhook deliveries will get 500.",
                hint=(
                    "Create a webhook endpoint for <shop URL>/webhooks/lumenlater and export "
                    "its whsec_… secret."
                ),
                id="lumenshop.W002",
            )
        )
    return issues
