"""Webhook endpoints: ``/v1/webhook_endpoints`` (CRUD, secret rotation, attempt log)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from ...types import DeletedObject, WebhookDelivery, WebhookEndpoint
from ..delivery import WebhookEndpointService
from ..delivery._service import MAX_EXPIRE_OLD_AFTER
from ..http import Body, Call, ListQuery, Metadata, RouteSpec, Url
from ._lists import list_body, page_of

__all__ = [
    "ROUTES",
    "RotateSecret",
    "WebhookEndpointCreate",
    "WebhookEndpointUpdate",
    "service",
]

EventTypeName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
EnabledEvents = Annotated[list[EventTypeName], Field(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=5000)]


class WebhookEndpointCreate(Body):
    """``POST /v1/webhook_endpoints``."""

    url: Url
    enabled_events: EnabledEvents
    description: Description | None = None
    metadata: Metadata | None = None


class WebhookEndpointUpdate(Body):
    """``POST /v1/webhook_endpoints/{id}``; only the fields sent change."""

    url: Url | None = None
    enabled_events: EnabledEvents | None = None
    disabled: bool | None = None
    description: Description | None = None
    metadata: dict[str, str] | None = None


class RotateSecret(Body):
    """``POST /v1/webhook_endpoints/{id}/rotate_secret``."""

    expire_old_after: Annotated[int, Field(ge=0, le=MAX_EXPIRE_OLD_AFTER)] = 86400


def service(call: Call) -> WebhookEndpointService:
    """The endpoint service on this backend's database and sealing key."""
    return WebhookEndpointService(
        call.ctx.db, box=call.ctx.box, livemode=bool(call.principal and call.principal.livemode)
    )


def _create(call: Call) -> dict[str, Any]:
    b: WebhookEndpointCreate = call.body
    return service(call).create(
        call.merchant_id,
        url=b.url,
        enabled_events=b.enabled_events,
        description=b.description,
        metadata=b.metadata,
    )


def _retrieve(call: Call) -> dict[str, Any]:
    return service(call).retrieve(call.merchant_id, call.path["id"])


def _list(call: Call) -> dict[str, Any]:
    page = service(call).list_endpoints(call.merchant_id, page_of(call.query))
    return list_body(page.rows, page.has_more, "/v1/webhook_endpoints")


def _update(call: Call) -> dict[str, Any]:
    b: WebhookEndpointUpdate = call.body
    # Only fields present in the request change; a sent null clears ``description``.
    changes = {name: getattr(b, name) for name in b.model_fields_set}
    return service(call).update(call.merchant_id, call.path["id"], **changes)


def _delete(call: Call) -> dict[str, Any]:
    return service(call).delete(call.merchant_id, call.path["id"])


def _rotate(call: Call) -> dict[str, Any]:
    b: RotateSecret | None = call.body
    after = b.expire_old_after if b is not None else 86400
    return service(call).rotate_secret(call.merchant_id, call.path["id"], expire_old_after=after)


def _deliveries(call: Call) -> dict[str, Any]:
    endpoint_id = call.path["id"]
    page = service(call).list_deliveries(call.merchant_id, endpoint_id, page_of(call.query))
    return list_body(page.rows, page.has_more, f"/v1/webhook_endpoints/{endpoint_id}/deliveries")


_TAG = "webhook_endpoints"
_ONE = "/v1/webhook_endpoints/{id}"

ROUTES = [
    RouteSpec(
        "POST",
        "/v1/webhook_endpoints",
        _create,
        "createWebhookEndpoint",
        "Register a URL for events; the response carries its secret (only now).",
        _TAG,
        body=WebhookEndpointCreate,
        response=WebhookEndpoint,
    ),
    RouteSpec(
        "GET",
        "/v1/webhook_endpoints",
        _list,
        "listWebhookEndpoints",
        "List webhook endpoints, newest first.",
        _TAG,
        query=ListQuery,
        list_of=WebhookEndpoint,
    ),
    RouteSpec(
        "GET",
        _ONE,
        _retrieve,
        "retrieveWebhookEndpoint",
        "Retrieve a webhook endpoint.",
        _TAG,
        response=WebhookEndpoint,
    ),
    RouteSpec(
        "POST",
        _ONE,
        _update,
        "updateWebhookEndpoint",
        "Change url, enabled_events, description or metadata; disable or enable.",
        _TAG,
        body=WebhookEndpointUpdate,
        response=WebhookEndpoint,
    ),
    RouteSpec(
        "DELETE",
        _ONE,
        _delete,
        "deleteWebhookEndpoint",
        "Delete a webhook endpoint.",
        _TAG,
        response=DeletedObject,
    ),
    RouteSpec(
        "POST",
        _ONE + "/rotate_secret",
        _rotate,
        "rotateWebhookEndpointSecret",
        "Issue a new secret; the old one keeps signing for expire_old_after seconds.",
        _TAG,
        body=RotateSecret,
        response=WebhookEndpoint,
    ),
    RouteSpec(
        "GET",
        _ONE + "/deliveries",
        _deliveries,
        "listWebhookDeliveries",
        "The endpoint's delivery attempts, newest first.",
        _TAG,
        query=ListQuery,
        list_of=WebhookDelivery,
    ),
]
