"""Webhook endpoint and delivery-attempt models."""

from __future__ import annotations

from typing import Literal

from ._base import LumenLaterObject

EndpointStatus = Literal["enabled", "disabled"] | str


class WebhookEndpoint(LumenLaterObject):
    """A URL that receives events (``we_…``). ``secret`` is present only on create/rotate."""

    id: str
    object: Literal["webhook_endpoint"] | str = "webhook_endpoint"
    created: int
    livemode: bool = False
    metadata: dict[str, str] = {}
    url: str
    enabled_events: list[str]
    description: str | None = None
    status: EndpointStatus = "enabled"
    disabled_reason: str | None = None
    secret: str | None = None


class WebhookDelivery(LumenLaterObject):
    """One delivery attempt of one event to one endpoint."""

    id: str | None = None
    object: Literal["webhook_delivery"] | str = "webhook_delivery"
    event: str
    endpoint: str | None = None
    attempt: int
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    next_attempt_at: int | None = None
    created: int
    request_signature: str | None = None
    """The ``X-LumenLater-Signature`` header sent (the body is the event's JSON)."""
    response_headers: dict[str, str] | None = None
    """The answer's ``content-type``, ``location`` and ``retry-after``, as sent."""
    response_body: str | None = None
    """The first 2 KiB of the answer's body (invalid UTF-8 replaced); ``None`` without
    an answer, or for attempts made before it was recorded."""
