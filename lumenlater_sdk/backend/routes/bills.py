"""Bills: ``/v1/bills``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ...types import Bill
from ..http import (
    CHAIN_ERRORS,
    Amount,
    Body,
    Call,
    Currency,
    EmptyBody,
    ListQuery,
    Metadata,
    RouteSpec,
    ShortText,
    StellarAddress,
)
from ..services import bill_authorization, bills
from ._lists import list_body, page_of

__all__ = ["ROUTES", "BillAuthorize", "BillCreate", "BillListQuery"]

OrderId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
BillStatusFilter = Literal[
    "requires_authorization",
    "created",
    "paid",
    "repaid",
    "overdue",
    "liquidated",
    "expired",
    "cancelled",
]
# A signed SorobanAuthorizationEntry of create_bill is about 400 base64 characters.
SignedEntry = Annotated[str, StringConstraints(min_length=1, max_length=8_000)]


class BillCreate(Body):
    """``POST /v1/bills``."""

    customer: StellarAddress = Field(
        description="The customer's Stellar account (G…): who owes the bill."
    )
    amount: Amount = Field(description="The bill's total, in stroops (1 USDC = 10^7 stroops).")
    currency: Currency = "usdc"
    order_id: OrderId | None = Field(
        None, description="Your order's id, to find the bill by (GET /v1/bills?order_id=)."
    )
    description: ShortText | None = Field(
        None, description="What the bill is for, shown to the customer (up to 500 characters)."
    )
    metadata: Metadata | None = None


class BillAuthorize(Body):
    """``POST /v1/bills/{id}/authorize``."""

    signed_entry_xdr: SignedEntry


class BillListQuery(ListQuery):
    """``GET /v1/bills`` filters."""

    status: BillStatusFilter | None = Field(None, description="Only bills in this status.")
    customer: Annotated[str, StringConstraints(max_length=56)] | None = Field(
        None, description="Only the bills of this customer (G… address)."
    )
    order_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Only the bills with this order_id."
    )
    created_gte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only bills created at or after this time (Unix seconds)."
    )
    created_lte: Annotated[int, Field(ge=0, le=2**62)] | None = Field(
        None, description="Only bills created at or before this time (Unix seconds)."
    )


def _create(call: Call) -> dict[str, Any]:
    b: BillCreate = call.body
    new = bills.NewBill(
        customer=b.customer,
        amount=b.amount,
        currency=b.currency,
        order_id=b.order_id,
        description=b.description,
        metadata=b.metadata,
    )
    return bills.create_bill(call.ctx, call.merchant_id, new, call.request)


def _retrieve(call: Call) -> dict[str, Any]:
    return bills.retrieve_bill(call.ctx, call.merchant_id, call.path["id"])


def _list(call: Call) -> dict[str, Any]:
    q: BillListQuery = call.query
    filters = bills.BillFilters(
        status=q.status,
        customer=q.customer,
        order_id=q.order_id,
        created_gte=q.created_gte,
        created_lte=q.created_lte,
    )
    data, more = bills.list_bills(call.ctx, call.merchant_id, page_of(q), filters)
    return list_body(data, more, "/v1/bills")


def _authorize(call: Call) -> dict[str, Any]:
    b: BillAuthorize = call.body
    return bill_authorization.authorize_bill(
        call.ctx, call.merchant_id, call.path["id"], b.signed_entry_xdr, call.request
    )


def _cancel(call: Call) -> dict[str, Any]:
    return bills.cancel_bill(call.ctx, call.merchant_id, call.path["id"], call.request)


ROUTES = [
    RouteSpec(
        "POST",
        "/v1/bills",
        _create,
        "createBill",
        "Bill a customer: relays create_bill to the contract.",
        "bills",
        body=BillCreate,
        response=Bill,
        errors=CHAIN_ERRORS,
    ),
    RouteSpec(
        "GET",
        "/v1/bills",
        _list,
        "listBills",
        "List bills, newest first.",
        "bills",
        query=BillListQuery,
        list_of=Bill,
    ),
    RouteSpec(
        "GET",
        "/v1/bills/{id}",
        _retrieve,
        "retrieveBill",
        "Retrieve a bill with amounts computed at ledger time.",
        "bills",
        response=Bill,
        inline=True,
    ),
    RouteSpec(
        "POST",
        "/v1/bills/{id}/authorize",
        _authorize,
        "authorizeBill",
        "Put a self-custody merchant's bill on chain with the merchant's own signature"
        " over its create_bill authorization entry.",
        "bills",
        body=BillAuthorize,
        response=Bill,
        errors=CHAIN_ERRORS,
    ),
    RouteSpec(
        "POST",
        "/v1/bills/{id}/cancel",
        _cancel,
        "cancelBill",
        "Cancel a bill that is still created.",
        "bills",
        body=EmptyBody,
        response=Bill,
        errors=CHAIN_ERRORS,
    ),
]
