"""Root URLconf: the shop's pages and LumenLater's webhook endpoint."""

from __future__ import annotations

from django.urls import include, path
from lumenshop.views import lumenlater_webhook

WEBHOOK_PATH = "/webhooks/lumenlater"
"""Where LumenLater delivers events (register ``<shop URL>`` + this path)."""

urlpatterns = [
    # Both spellings are routes of their own: a webhook sender does not follow the
    # redirect APPEND_SLASH would answer, so neither may depend on one.
    path(WEBHOOK_PATH.lstrip("/"), lumenlater_webhook, name="lumenlater-webhook"),
    path(WEBHOOK_PATH.lstrip("/") + "/", lumenlater_webhook),
    path("", include("lumenshop.urls")),
]
