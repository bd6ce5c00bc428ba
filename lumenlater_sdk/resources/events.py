"""``client.events``: what happened, as typed events (the same classes webhooks deliver)."""

from __future__ import annotations

import json

from .._pagination import AsyncPaginator, SyncPage
from ..types import BaseEvent, parse_event
from ._base import AsyncAPIResource, SyncAPIResource, compact, path_id

__all__ = ["AsyncEvents", "Events"]


def _event(content: bytes) -> BaseEvent:
    return parse_event(json.loads(content))


class Events(SyncAPIResource):
    """Events (``evt_…``); each parses into its typed class (``BillPaidEvent``, …)."""

    __slots__ = ()

    def retrieve(self, id: str) -> BaseEvent:
        """Fetch one event by id."""
        return self._core.request("GET", f"/v1/events/{path_id(id)}", _event)

    def list(
        self,
        *,
        type: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[BaseEvent]:
        """Events, newest first; iterate the result to walk every page."""
        params = compact(
            type=type,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.page("/v1/events", params, parse_event)

    def resend(
        self, id: str, *, endpoint: str | None = None, idempotency_key: str | None = None
    ) -> BaseEvent:
        """Deliver the event again (to one *endpoint* or to every subscribed one)."""
        return self._core.request(
            "POST",
            f"/v1/events/{path_id(id)}/resend",
            _event,
            body=compact(endpoint=endpoint),
            idempotency_key=idempotency_key,
        )


class AsyncEvents(AsyncAPIResource):
    """Events (``evt_…``); each parses into its typed class (``BillPaidEvent``, …)."""

    __slots__ = ()

    async def retrieve(self, id: str) -> BaseEvent:
        """Fetch one event by id."""
        return await self._core.request("GET", f"/v1/events/{path_id(id)}", _event)

    def list(
        self,
        *,
        type: str | None = None,
        created_gte: int | None = None,
        created_lte: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[BaseEvent]:
        """Events, newest first: ``await`` for the first page or ``async for`` over all."""
        params = compact(
            type=type,
            created_gte=created_gte,
            created_lte=created_lte,
            limit=limit,
            starting_after=starting_after,
            ending_before=ending_before,
        )
        return self._core.paginator("/v1/events", params, parse_event)

    async def resend(
        self, id: str, *, endpoint: str | None = None, idempotency_key: str | None = None
    ) -> BaseEvent:
        """Deliver the event again (to one *endpoint* or to every subscribed one)."""
        return await self._core.request(
            "POST",
            f"/v1/events/{path_id(id)}/resend",
            _event,
            body=compact(endpoint=endpoint),
            idempotency_key=idempotency_key,
        )
