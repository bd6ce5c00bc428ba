"""Webhook endpoints: ``/v1/webhook_endpoints`` (CRUD, secret rotation, attempt log)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool, StringConstraints, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from ...types import EVENT_TYPES, DeletedObject, WebhookDelivery, WebhookEndpoint
from ..http import Body, Call, ListQuery, Metadata, MetadataChanges, RouteSpec, Url
from ..services import webhook_endpoints as endpoints
from ._lists import list_body, page_of

__all__ = [
    "ROUTES",
    "RotateSecret",
    "WebhookEndpointCreate",
    "WebhookEndpointUpdate",
]

EventTypeName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Known event types, or "*" alone (the service's rule, stated for the OpenAPI document).
EnabledEvents = Annotated[
    list[EventTypeName],
    Field(min_length=1, max_length=100),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "array",
                    "items": {"enum": list(EVENT_TYPES)},
                    "minItems": 1,
                    "maxItems": 100,
                },
                {"type": "array", "items": {"const": "*"}, "minItems": 1, "maxItems": 1},
            ]
        }
    ),
]
Description = Annotated[str, StringConstraints(max_length=endpoints.MAX_DESCRIPTION_LENGTH)]


class WebhookEndpointCreate(Body):
    """``POST /v1/webhook_endpoints``."""

    url: Url = Field(description="Where events are POSTed (http or https).")
    enabled_events: EnabledEvents = Field(
        description="The event types to send (bill.paid), families (bill.*), or * for all."
    )
    description: Description | None = Field(None, description="For you: what the endpoint is for.")
    metadata: Metadata | None = None


class WebhookEndpointUpdate(Body):
    """``POST /v1/webhook_endpoints/{id}``; only the fields sent change.

    ``metadata`` is merged into the stored one (an empty value removes a key), so
    its limits are checked by the service on the result.
    """

    # null is refused for these (it would mean no URL, no events), so the schema
    # does not offer it.
    url: Url | SkipJsonSchema[None] = Field(None, description="The endpoint's new URL.")
    enabled_events: EnabledEvents | SkipJsonSchema[None] = Field(
        None, description="The event types to send from now on (replaces the list)."
    )
    disabled: StrictBool | SkipJsonSchema[None] = Field(
        None, description="true stops deliveries to the endpoint; false resumes them."
    )
    description: Description | None = Field(None, description="For you: what the endpoint is for.")
    metadata: MetadataChanges | None = None


class RotateSecret(Body):
    """``POST /v1/webhook_endpoints/{id}/rotate_secret``."""

    expire_old_after: Annotated[int, Field(ge=0, le=endpoints.MAX_EXPIRE_OLD_AFTER)] = Field(
        endpoints.DEFAULT_EXPIRE_OLD_AFTER,
        description="Seconds the old secret keeps signing beside the new one, up to 7 days "
        "(0: it stops now; default 1 day).",
    )


def _create(call: Call) -> dict[str, Any]:
    b: WebhookEndpointCreate = call.body
    return endpoints.create_endpoint(
        call.ctx,
        call.merchant_id,
        url=b.url,
        enabled_events=b.enabled_events,
        description=b.description,
        metadata=b.metadata,
        livemode=bool(call.principal and call.principal.livemode),
    )


def _retrieve(call: Call) -> dict[str, Any]:
    return endpoints.retrieve_endpoint(call.ctx, call.merchant_id, call.path["id"])


def _list(call: Call) -> dict[str, Any]:
    data, more = endpoints.list_endpoints(call.ctx, call.merchant_id, page_of(call.query))
    return list_body(data, more, "/v1/webhook_endpoints")


def _update(call: Call) -> dict[str, Any]:
    b: WebhookEndpointUpdate = call.body
    # Only fields present in the request change; a sent null clears ``description``.
    changes = {name: getattr(b, name) for name in b.model_fields_set}
    return endpoints.update_endpoint(call.ctx, call.merchant_id, call.path["id"], **changes)


def _delete(call: Call) -> dict[str, Any]:
    return endpoints.delete_endpoint(call.ctx, call.merchant_id, call.path["id"])


def _rotate(call: Call) -> dict[str, Any]:
    b: RotateSecret | None = call.body
    after = b.expire_old_after if b is not None else endpoints.DEFAULT_EXPIRE_OLD_AFTER
    return endpoints.rotate_secret(
        call.ctx, call.merchant_id, call.path["id"], expire_old_after=after
    )


def _deliveries(call: Call) -> dict[str, Any]:
    endpoint_id = call.path["id"]
    data, more = endpoints.list_deliveries(
        call.ctx, call.merchant_id, endpoint_id, page_of(call.query)
    )
    return list_body(data, more, f"/v1/webhook_endpoints/{endpoint_id}/deliveries")


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
