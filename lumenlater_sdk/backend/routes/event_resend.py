"""``POST /v1/events/{id}/resend``: queue an event's webhook deliveries again."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ...types import Event
from ..http import Body, Call, RouteSpec
from ..services import events_api, webhook_endpoints

__all__ = ["ROUTES", "ResendEvent"]


class ResendEvent(Body):
    """Resend to one ``endpoint`` (``we_…``) or, without it, to every subscribed endpoint."""

    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None,
        description="The endpoint (we_…) to deliver to; default: every endpoint subscribed "
        "to the event's type.",
    )


def _resend(call: Call) -> bytes:
    b: ResendEvent | None = call.body
    event_id = call.path["id"]
    webhook_endpoints.resend_event(
        call.ctx, call.merchant_id, event_id, endpoint=b.endpoint if b else None
    )
    return events_api.retrieve_event(call.ctx, call.merchant_id, event_id)


ROUTES = [
    RouteSpec(
        "POST",
        "/v1/events/{id}/resend",
        _resend,
        "resendEvent",
        "Deliver an event to its webhook endpoints again (at-least-once).",
        "events",
        body=ResendEvent,
        response=Event,
    ),
]
