"""``client.webhook_endpoints``: where events are delivered, secrets and delivery logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._pagination import AsyncPaginator, SyncPage
from ..types import DeletedObject, WebhookDelivery, WebhookEndpoint
from ._base import AsyncAPIResource, SyncAPIResource, compact, path_id

__all__ = ["AsyncWebhookEndpoints", "WebhookEndpoints"]

_PATH = "/v1/webhook_endpoints"
_parse = WebhookEndpoint.model_validate_json


def _events(enabled_events: Sequence[str] | None) -> list[str] | None:
    if enabled_events is None:
        return None
    if isinstance(enabled_events, str):
        # A bare "bill.paid" would otherwise be sent as a list of characters.
        raise TypeError("enabled_events must be a list of event types, e.g. ['bill.paid']")
    return list(enabled_events)


def _page_params(
    limit: int | None, starting_after: str | None, ending_before: str | None
) -> dict[str, Any]:
    return compact(limit=limit, starting_after=starting_after, ending_before=ending_before)


class WebhookEndpoints(SyncAPIResource):
    """Webhook endpoints (``we_…``)."""

    __slots__ = ()

    def create(
        self,
        *,
        url: str,
        enabled_events: Sequence[str],
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register *url*; the returned endpoint carries its signing ``secret`` (shown once)."""
        body = compact(
            url=url,
            enabled_events=_events(enabled_events),
            description=description,
            metadata=metadata,
        )
        return self._core.request("POST", _PATH, _parse, body=body, idempotency_key=idempotency_key)

    def retrieve(self, id: str) -> WebhookEndpoint:
        """Fetch one endpoint by id."""
        return self._core.request("GET", f"{_PATH}/{path_id(id)}", _parse)

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[WebhookEndpoint]:
        """Endpoints, newest first; iterate the result to walk every page."""
        params = _page_params(limit, starting_after, ending_before)
        return self._core.page(_PATH, params, WebhookEndpoint.model_validate)

    def update(
        self,
        id: str,
        *,
        url: str | None = None,
        enabled_events: Sequence[str] | None = None,
        disabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Change the URL or subscribed events, or disable/enable the endpoint."""
        body = compact(url=url, enabled_events=_events(enabled_events), disabled=disabled)
        return self._core.request(
            "POST", f"{_PATH}/{path_id(id)}", _parse, body=body, idempotency_key=idempotency_key
        )

    def delete(self, id: str) -> DeletedObject:
        """Delete the endpoint; no more deliveries go to it."""
        return self._core.request(
            "DELETE", f"{_PATH}/{path_id(id)}", DeletedObject.model_validate_json
        )

    def rotate_secret(
        self,
        id: str,
        *,
        expire_old_after: int | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Issue a new secret; the old one keeps signing for *expire_old_after* seconds."""
        return self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/rotate_secret",
            _parse,
            body=compact(expire_old_after=expire_old_after),
            idempotency_key=idempotency_key,
        )

    def deliveries(
        self,
        id: str,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> SyncPage[WebhookDelivery]:
        """The delivery attempt log of one endpoint, newest first."""
        params = _page_params(limit, starting_after, ending_before)
        return self._core.page(
            f"{_PATH}/{path_id(id)}/deliveries", params, WebhookDelivery.model_validate
        )


class AsyncWebhookEndpoints(AsyncAPIResource):
    """Webhook endpoints (``we_…``)."""

    __slots__ = ()

    async def create(
        self,
        *,
        url: str,
        enabled_events: Sequence[str],
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register *url*; the returned endpoint carries its signing ``secret`` (shown once)."""
        body = compact(
            url=url,
            enabled_events=_events(enabled_events),
            description=description,
            metadata=metadata,
        )
        return await self._core.request(
            "POST", _PATH, _parse, body=body, idempotency_key=idempotency_key
        )

    async def retrieve(self, id: str) -> WebhookEndpoint:
        """Fetch one endpoint by id."""
        return await self._core.request("GET", f"{_PATH}/{path_id(id)}", _parse)

    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[WebhookEndpoint]:
        """Endpoints, newest first: ``await`` for the first page or ``async for`` over all."""
        params = _page_params(limit, starting_after, ending_before)
        return self._core.paginator(_PATH, params, WebhookEndpoint.model_validate)

    async def update(
        self,
        id: str,
        *,
        url: str | None = None,
        enabled_events: Sequence[str] | None = None,
        disabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Change the URL or subscribed events, or disable/enable the endpoint."""
        body = compact(url=url, enabled_events=_events(enabled_events), disabled=disabled)
        return await self._core.request(
            "POST", f"{_PATH}/{path_id(id)}", _parse, body=body, idempotency_key=idempotency_key
        )

    async def delete(self, id: str) -> DeletedObject:
        """Delete the endpoint; no more deliveries go to it."""
        return await self._core.request(
            "DELETE", f"{_PATH}/{path_id(id)}", DeletedObject.model_validate_json
        )

    async def rotate_secret(
        self,
        id: str,
        *,
        expire_old_after: int | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Issue a new secret; the old one keeps signing for *expire_old_after* seconds."""
        return await self._core.request(
            "POST",
            f"{_PATH}/{path_id(id)}/rotate_secret",
            _parse,
            body=compact(expire_old_after=expire_old_after),
            idempotency_key=idempotency_key,
        )

    def deliveries(
        self,
        id: str,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> AsyncPaginator[WebhookDelivery]:
        """The delivery attempt log of one endpoint, newest first."""
        params = _page_params(limit, starting_after, ending_before)
        return self._core.paginator(
            f"{_PATH}/{path_id(id)}/deliveries", params, WebhookDelivery.model_validate
        )
