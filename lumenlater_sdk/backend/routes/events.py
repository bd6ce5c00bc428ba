"""Events: ``GET /v1/events`` and ``GET /v1/events/{id}``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ...types import Event
from ..http import Call, ListQuery, RouteSpec
from ..services import events_api
from ._lists import encoded_list, page_of

__all__ = ["ROUTES", "EventListQuery"]


class EventListQuery(ListQuery):
    """Filter by ``type`` (``bill.paid``, or ``bill.*``) and by ``created``."""

    type: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Only events of this type (bill.paid), or of a family (bill.*)."
    )
    created_gte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only events created at or after this time (Unix seconds)."
    )
    created_lte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only events created at or before this time (Unix seconds)."
    )


def _list(call: Call) -> bytes:
    q: EventListQuery = call.query
    docs, more = events_api.list_events(
        call.ctx,
        call.merchant_id,
        page_of(q),
        event_type=q.type,
        created_gte=q.created_gte,
        created_lte=q.created_lte,
    )
    return encoded_list(docs, more, "/v1/events")


def _retrieve(call: Call) -> bytes:
    return events_api.retrieve_event(call.ctx, call.merchant_id, call.path["id"])


ROUTES = [
    RouteSpec(
        "GET",
        "/v1/events",
        _list,
        "listEvents",
        "List events, newest first.",
        "events",
        query=EventListQuery,
        list_of=Event,
    ),
    RouteSpec(
        "GET",
        "/v1/events/{id}",
        _retrieve,
        "retrieveEvent",
        "Retrieve an event.",
        "events",
        response=Event,
        inline=True,
    ),
]
