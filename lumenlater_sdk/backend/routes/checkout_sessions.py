"""Checkout sessions: ``/v1/checkout/sessions``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StringConstraints

from ...types import CheckoutSession
from ..http import (
    Amount,
    Body,
    Call,
    Currency,
    EmbedOrigins,
    EmptyBody,
    ListQuery,
    Metadata,
    Query,
    RouteSpec,
    ShortText,
    StellarAddress,
    Url,
)
from ..services import checkout
from ..services.errors import PermissionDenied
from ._lists import list_body, page_of

__all__ = ["ROUTES", "LineItemIn", "SessionCreate"]


class LineItemIn(Body):
    """One order line."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="What the line is, shown to the customer."
    )
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)] = Field(
        description="How many, 1 to 10000."
    )
    unit_amount: Amount = Field(description="The price of one, in stroops.")


class SessionCreate(Body):
    """``POST /v1/checkout/sessions``."""

    success_url: Url = Field(
        description="Where the customer lands after paying; {SESSION_ID} in it becomes the "
        "session's id."
    )
    cancel_url: Url = Field(description="Where the customer lands on going back unpaid.")
    amount: Amount | None = Field(
        None,
        description="The total, in stroops (1 USDC = 10^7 stroops); give it or line_items "
        "(their sum), or both when they agree.",
    )
    currency: Currency = "usdc"
    order_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Your order's id, kept on the session and on its bill."
    )
    description: ShortText | None = Field(
        None, description="What the order is, shown to the customer (up to 500 characters)."
    )
    line_items: Annotated[list[LineItemIn], Field(max_length=100)] | None = Field(
        None,
        description="The order's lines (name, quantity, unit_amount), shown on the checkout "
        "page; up to 100.",
    )
    customer: StellarAddress | None = Field(
        None, description="The customer's Stellar account (G…), when you know it already."
    )
    expires_in: Annotated[StrictInt, Field(ge=1800, le=86400)] = Field(
        3600, description="Seconds the session stays payable, 1800 to 86400 (default 3600)."
    )
    metadata: Metadata | None = None
    embed_origins: EmbedOrigins | None = Field(
        None,
        description="Origins (https://shop.example) whose pages may embed this session's checkout.",
    )


class SessionListQuery(ListQuery):
    """``GET /v1/checkout/sessions`` filters."""

    status: Literal["open", "complete", "expired"] | None = Field(
        None, description="Only sessions in this status."
    )
    order_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Only the sessions with this order_id."
    )
    created_gte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only sessions created at or after this time (Unix seconds)."
    )
    created_lte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only sessions created at or before this time (Unix seconds)."
    )


class SessionRetrieveQuery(Query):
    """A publishable key must prove it holds the session's ``client_secret``."""

    client_secret: Annotated[str, StringConstraints(max_length=200)] | None = None


def _create(call: Call) -> dict[str, Any]:
    b: SessionCreate = call.body
    new = checkout.NewSession(
        success_url=b.success_url,
        cancel_url=b.cancel_url,
        amount=b.amount,
        currency=b.currency,
        order_id=b.order_id,
        description=b.description,
        line_items=[i.model_dump() for i in b.line_items or []],
        customer=b.customer,
        expires_in=b.expires_in,
        metadata=b.metadata,
        embed_origins=b.embed_origins,
    )
    return checkout.create_session(call.ctx, call.merchant_id, new, call.request)


def _retrieve(call: Call) -> dict[str, Any]:
    q: SessionRetrieveQuery = call.query
    assert call.principal is not None
    if call.principal.kind == "publishable" and not q.client_secret:
        raise PermissionDenied(
            "A publishable key needs the session's client_secret.",
            code="client_secret_required",
            param="client_secret",
        )
    return checkout.retrieve_session(
        call.ctx, call.merchant_id, call.path["id"], client_secret=q.client_secret
    )


def _list(call: Call) -> dict[str, Any]:
    q: SessionListQuery = call.query
    data, more = checkout.list_sessions(
        call.ctx,
        call.merchant_id,
        page_of(q),
        status=q.status,
        order_id=q.order_id,
        created_gte=q.created_gte,
        created_lte=q.created_lte,
    )
    return list_body(data, more, "/v1/checkout/sessions")


def _expire(call: Call) -> dict[str, Any]:
    return checkout.expire_session(call.ctx, call.merchant_id, call.path["id"], call.request)


ROUTES = [
    RouteSpec(
        "POST",
        "/v1/checkout/sessions",
        _create,
        "createCheckoutSession",
        "Open a hosted checkout for one order.",
        "checkout",
        body=SessionCreate,
        response=CheckoutSession,
        errors=(400, 401, 409, 429),
    ),
    RouteSpec(
        "GET",
        "/v1/checkout/sessions",
        _list,
        "listCheckoutSessions",
        "List checkout sessions, newest first.",
        "checkout",
        query=SessionListQuery,
        list_of=CheckoutSession,
    ),
    RouteSpec(
        "GET",
        "/v1/checkout/sessions/{id}",
        _retrieve,
        "retrieveCheckoutSession",
        "Retrieve a session (publishable keys: with client_secret).",
        "checkout",
        query=SessionRetrieveQuery,
        response=CheckoutSession,
        auth="publishable",
        errors=(400, 401, 403, 404, 429),
        inline=True,
    ),
    RouteSpec(
        "POST",
        "/v1/checkout/sessions/{id}/expire",
        _expire,
        "expireCheckoutSession",
        "Expire an open session now.",
        "checkout",
        body=EmptyBody,
        response=CheckoutSession,
        errors=(400, 401, 404, 409, 429),
    ),
]
