"""Bills: issued on chain as the merchant; paid, repaid or liquidated by customers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stellar_sdk import Keypair

from .._ids import new_id
from ..db import Row, Tx
from ..paging import PageRequest
from ..store import bills as bill_store
from ..store import merchants as merchant_store
from . import events
from .context import RequestInfo, ServiceContext
from .errors import Conflict, InvalidRequest, NotFound
from .objects import bill_object, derived_bill_status
from .preconditions import check_create_bill

__all__ = [
    "BillFilters",
    "NewBill",
    "cancel_bill",
    "create_bill",
    "issue_bill",
    "list_bills",
    "retrieve_bill",
]


@dataclass(frozen=True)
class NewBill:
    """What a merchant asks for when billing a customer."""

    customer: str
    amount: int
    currency: str = "usdc"
    order_id: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None


@dataclass(frozen=True)
class BillFilters:
    """Filters of ``GET /v1/bills``."""

    status: str | None = None
    customer: str | None = None
    order_id: str | None = None
    created_gte: int | None = None
    created_lte: int | None = None


def merchant_keypair(ctx: ServiceContext, tx: Tx, merchant_id: str) -> Keypair:
    """The merchant's signing key (sealed at rest; opened once per process)."""
    cached = ctx.cached_keypair(merchant_id)
    if cached is not None:  # merchants are never deleted: no need to read the row again
        return cached
    row = merchant_store.get_merchant(tx, merchant_id)
    if row is None:
        raise NotFound("No such merchant")
    return ctx.keypair(merchant_id, row["seed_encrypted"])


def issue_bill(
    ctx: ServiceContext,
    tx: Tx,
    merchant_id: str,
    new: NewBill,
    request: RequestInfo | None,
    *,
    session_id: str | None = None,
) -> Row:
    """Relay ``create_bill`` as the merchant and record the bill, inside *tx*."""
    signer = merchant_keypair(ctx, tx, merchant_id)
    check_create_bill(ctx, tx, merchant_id, new.amount)
    # A retry of a request whose create_bill was sent but whose outcome was not known
    # (503) must get that bill, not a second one: the key names the call on the chain.
    key = request.idempotency_key if request is not None else None
    record = ctx.chain.invoke(
        "bnpl_core",
        "create_bill",
        [merchant_id, new.customer, new.amount, new.order_id or ""],
        signer=signer,
        tx=tx,
        operation=f"{merchant_id}:{key}:create_bill" if key else None,
    )
    row: Row = {
        "id": new_id("bill"),
        "merchant_id": merchant_id,
        "bill_number": int(record.result),
        "customer": new.customer,
        "amount": new.amount,
        "currency": new.currency,
        "status": "created",
        "order_id": new.order_id,
        "description": new.description,
        "metadata": json.dumps(new.metadata or {}),
        "created": int(record.timestamp),
        "paid_at": None,
        "repaid_at": None,
        "liquidated_at": None,
        "cancelled_at": None,
        "repaid_amount": None,
        "overdue_notified": 0,
        "session_id": session_id,
        "contract_id": ctx.contract_id,
        "tx_hash": record.hash,
        "ledger": record.ledger,
        "livemode": int(ctx.config.livemode),
    }
    bill_store.insert_bill(tx, row)
    events.ingest(ctx, tx, record.events, request, known=row)
    return row


def create_bill(
    ctx: ServiceContext, merchant_id: str, new: NewBill, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/bills``."""
    with ctx.db.transaction() as tx:
        row = issue_bill(ctx, tx, merchant_id, new, request)
        return bill_object(row, int(row["created"]), ctx.constants)


def _current(ctx: ServiceContext, tx: Tx, merchant_id: str, bill_id: str) -> dict[str, Any]:
    row = bill_store.get_bill(tx, merchant_id, bill_id)
    if row is None:
        raise NotFound(f"No such bill: '{bill_id}'", param="id")
    return bill_object(row, ctx.chain.now(tx), ctx.constants)


def retrieve_bill(ctx: ServiceContext, merchant_id: str, bill_id: str) -> dict[str, Any]:
    """``GET /v1/bills/{id}``."""
    with ctx.db.reads() as tx:
        return _current(ctx, tx, merchant_id, bill_id)


def list_bills(
    ctx: ServiceContext, merchant_id: str, page: PageRequest, filters: BillFilters
) -> tuple[list[dict[str, Any]], bool]:
    """``GET /v1/bills``."""
    with ctx.db.transaction(write=False) as tx:
        now = ctx.chain.now(tx)
        c = ctx.constants
        result = bill_store.list_bills(
            tx,
            merchant_id,
            page,
            now=now,
            bill_duration=c.bill_duration,
            grace_period=c.grace_period,
            status=filters.status,
            customer=filters.customer,
            order_id=filters.order_id,
            created_gte=filters.created_gte,
            created_lte=filters.created_lte,
        )
        return [bill_object(r, now, c) for r in result.rows], result.has_more


def cancel_bill(
    ctx: ServiceContext, merchant_id: str, bill_id: str, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/bills/{id}/cancel``: only an unpaid, unexpired bill.

    The contract has no cancel; the bill stays Created on chain and simply
    expires, and this backend refuses to relay a payment for it.
    """
    with ctx.db.transaction() as tx:
        row = bill_store.get_bill(tx, merchant_id, bill_id, lock=True)
        if row is None:
            raise NotFound(f"No such bill: '{bill_id}'", param="id")
        now = ctx.chain.now(tx)
        status = derived_bill_status(row, now, ctx.constants)
        if status != "created":
            raise Conflict(
                f"A bill can only be cancelled while created; it is {status}.",
                code="bill_not_cancellable",
            )
        bill_store.update_bill(tx, bill_id, status="cancelled", cancelled_at=now)
        obj = bill_object({**row, "status": "cancelled", "cancelled_at": now}, now, ctx.constants)
        events.emit(
            tx,
            merchant_id=merchant_id,
            event_type="bill.cancelled",
            obj=obj,
            created=now,
            livemode=bool(row["livemode"]),
            previous={"status": "created"},
            request=request,
        )
        return obj


def require_payable(row: Row) -> None:
    """Refuse before relaying when the backend alone knows the bill is closed."""
    if row["status"] == "cancelled":
        raise Conflict("This bill was cancelled.", code="bill_cancelled")


def check_customer(row: Row, address: str) -> None:
    """Only the bill's customer can pay or repay it."""
    if row["customer"] != address:
        raise InvalidRequest(
            "This wallet is not the bill's customer.", code="wallet_not_customer", param="wallet"
        )
