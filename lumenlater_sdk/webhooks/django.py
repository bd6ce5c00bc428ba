"""Serve a :class:`WebhookApp`'s handlers from Django.

::

    # urls.py
    from lumenlater_sdk.webhooks.django import webhook_view
    urlpatterns = [path("webhooks/lumenlater", webhook_view(hooks))]

The view is CSRF-exempt (the signature authenticates the sender) and gives the
same answers as the ASGI app (200/400/405/409/413/500, duplicate suppression, the
same refusal log lines and ``secret=`` resolvers).
Async handlers are run to completion with :func:`asyncio.run`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ._core import Receiver
from ._request import WebhookRequest

__all__ = ["webhook_view"]

_SIGNATURE_META = "HTTP_X_LUMENLATER_SIGNATURE"


def _webhook_request(request: HttpRequest, path_params: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest(
        path=request.path,
        path_params=path_params,
        query={name: str(request.GET.get(name)) for name in request.GET},
        headers={name.lower(): value for name, value in request.headers.items()},
    )


def webhook_view(hooks: Receiver) -> Callable[..., HttpResponse]:
    """A CSRF-exempt Django view answering webhook deliveries with ``hooks``' handlers.

    The URL pattern may capture parameters (``"webhooks/<str:merchant_id>"``) for a
    secret resolver to read from :attr:`WebhookRequest.path_params`.
    """

    def lumenlater_webhook(request: HttpRequest, **path_params: Any) -> HttpResponse:
        reply = hooks.handle_sync(
            request.method or "",
            request.META.get("CONTENT_LENGTH"),
            request.META.get(_SIGNATURE_META),
            request.read,
            path=request.path,
            request=lambda: _webhook_request(request, path_params),
        )
        response = HttpResponse(reply.body, status=reply.status, content_type="application/json")
        for name, value in reply.headers:
            response[name] = value
        return response

    # Applied as a call rather than a decorator: django is untyped for mypy.
    exempt: Callable[..., HttpResponse] = csrf_exempt(lumenlater_webhook)
    return exempt
