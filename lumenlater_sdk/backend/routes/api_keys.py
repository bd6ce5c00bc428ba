"""API keys: ``/v1/api_keys`` (list, create, retrieve, reveal, roll, revoke)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ...types import ApiKey
from ..http import Body, Call, EmptyBody, ListQuery, Query, RouteSpec
from ..services import api_keys as keys
from ._lists import list_body, page_of

__all__ = ["ROUTES", "ApiKeyCreate", "ApiKeyRetrieveQuery", "ApiKeyRoll"]


class ApiKeyCreate(Body):
    """``POST /v1/api_keys``."""

    type: Literal["secret", "publishable"]
    name: Annotated[str, StringConstraints(max_length=keys.MAX_NAME_LENGTH)] | None = None


class ApiKeyRoll(Body):
    """``POST /v1/api_keys/{id}/roll``."""

    expires_in: Annotated[
        int,
        Field(
            ge=0,
            le=keys.MAX_EXPIRES_IN,
            description="Seconds the old key keeps working (0: it stops now).",
        ),
    ] = 0


class ApiKeyRetrieveQuery(Query):
    """``GET /v1/api_keys/{id}``."""

    reveal: Annotated[
        bool, Field(description="Show a test key itself again (live keys: refused).")
    ] = False


def _create(call: Call) -> dict[str, Any]:
    b: ApiKeyCreate = call.body
    return keys.create_key(
        call.ctx,
        call.merchant_id,
        type=b.type,
        name=b.name,
        livemode=bool(call.principal and call.principal.livemode),
    )


def _list(call: Call) -> dict[str, Any]:
    data, more = keys.list_keys(call.ctx, call.merchant_id, page_of(call.query))
    return list_body(data, more, "/v1/api_keys")


def _retrieve(call: Call) -> dict[str, Any]:
    q: ApiKeyRetrieveQuery | None = call.query
    reveal = bool(q is not None and q.reveal)
    return keys.retrieve_key(call.ctx, call.merchant_id, call.path["id"], reveal=reveal)


def _roll(call: Call) -> dict[str, Any]:
    b: ApiKeyRoll | None = call.body
    expires_in = b.expires_in if b is not None else 0
    return keys.roll_key(call.ctx, call.merchant_id, call.path["id"], expires_in=expires_in)


def _revoke(call: Call) -> dict[str, Any]:
    return keys.revoke_key(call.ctx, call.merchant_id, call.path["id"])


_TAG = "api_keys"
_ONE = "/v1/api_keys/{id}"

ROUTES = [
    RouteSpec(
        "POST",
        "/v1/api_keys",
        _create,
        "createApiKey",
        "Make a secret or publishable key; the answer carries the key itself (secret).",
        _TAG,
        body=ApiKeyCreate,
        response=ApiKey,
    ),
    RouteSpec(
        "GET",
        "/v1/api_keys",
        _list,
        "listApiKeys",
        "List the account's API keys (revoked and expired ones too), newest first.",
        _TAG,
        query=ListQuery,
        list_of=ApiKey,
    ),
    RouteSpec(
        "GET",
        _ONE,
        _retrieve,
        "retrieveApiKey",
        "Retrieve an API key; reveal=true shows a test key itself again.",
        _TAG,
        query=ApiKeyRetrieveQuery,
        response=ApiKey,
    ),
    RouteSpec(
        "POST",
        _ONE + "/roll",
        _roll,
        "rollApiKey",
        "Replace a key with a new one; the old one keeps working for expires_in seconds.",
        _TAG,
        body=ApiKeyRoll,
        response=ApiKey,
    ),
    RouteSpec(
        "POST",
        _ONE + "/revoke",
        _revoke,
        "revokeApiKey",
        "Revoke a key now (the one of this request too); not the last active secret key.",
        _TAG,
        body=EmptyBody,
        response=ApiKey,
    ),
]
