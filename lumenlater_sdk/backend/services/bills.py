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
from .errors import ChainUnavailable, Conflict, InvalidRequest, NotFound
from .objects import authorization_row, bill_object, derived_bill_status
from .preconditions import check_create_bill

__all__ = [
    "BillFilters",
    "NewBill",
    "cancel_bill",
    "create_bill",
    "issue_bill",
    "list_bills",
    "require_on_chain",
    "require_payable",
    "retrieve_bill",
    "void_bill",
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


def merchant_keypair(ctx: ServiceContext, tx: Tx, merchant_id: str) -> Keypair | None:
    """The merchant's signing key (sealed at rest; opened once per process), or ``None``
    for a self-custody merchant, who signs its own authorizations."""
    cached = ctx.cached_keypair(merchant_id)
    if cached is not None:  # merchants are never deleted: no need to read the row again
        return cached
    if ctx.is_self_custody(merchant_id):
        return None
    row = merchant_store.get_merchant(tx, merchant_id)
    if row is None:
        raise NotFound("No such merchant")
    if row["custody"] == "self":
        ctx.remember_self_custody(merchant_id)
        return None
    return ctx.keypair(merchant_id, row["seed_encrypted"])


def create_bill_args(
    merchant_id: str, customer: str, amount: int, order_id: str | None
) -> list[Any]:
    """``bnpl_core.create_bill``'s arguments for a bill (no order id is ``""`` on chain)."""
    return [merchant_id, customer, amount, order_id or ""]


def issue_bill(
    ctx: ServiceContext,
    tx: Tx,
    merchant_id: str,
    new: NewBill,
    request: RequestInfo | None,
    *,
    session_id: str | None = None,
) -> Row:
    """Relay ``create_bill`` as the merchant and record the bill, inside *tx*.

    For a self-custody merchant nothing reaches the chain yet: the bill is recorded as
    ``requires_authorization`` with the entry the merchant must sign (see
    ``services/bill_authorization.py``)."""
    signer = merchant_keypair(ctx, tx, merchant_id)
    check_create_bill(ctx, tx, merchant_id, new.amount)
    args = create_bill_args(merchant_id, new.customer, new.amount, new.order_id)
    if signer is None:
        return _pending_bill(ctx, tx, merchant_id, new, args, session_id)
    # A retry of a request whose create_bill was sent but whose outcome was not known
    # (503) must get that bill, not a second one: the key names the call on the chain.
    key = request.idempotency_key if request is not None else None
    record = ctx.chain.invoke(
        "bnpl_core",
        "create_bill",
        args,
        signer=signer,
        tx=tx,
        operation=f"{merchant_id}:{key}:create_bill" if key else None,
    )
    row = _bill_row(ctx, tx, merchant_id, new, session_id)
    row.update(
        bill_number=int(record.result),
        created=int(record.timestamp),
        tx_hash=record.hash,
        ledger=record.ledger,
    )
    bill_store.insert_bill(tx, row)
    events.ingest(ctx, tx, record.events, request, known=row, fresh=record.fresh)
    return row


def _pending_bill(
    ctx: ServiceContext,
    tx: Tx,
    merchant_id: str,
    new: NewBill,
    args: list[Any],
    session_id: str | None,
) -> Row:
    request = ctx.chain.request_authorization(
        "bnpl_core", "create_bill", args, address=merchant_id, tx=tx
    )
    row = _bill_row(ctx, tx, merchant_id, new, session_id)
    row.update(status="requires_authorization", created=ctx.chain.now(tx))
    bill_store.insert_bill(tx, row)
    bill_store.insert_authorization(tx, {"bill_id": row["id"], **authorization_row(request)})
    return row


def _bill_row(
    ctx: ServiceContext, tx: Tx, merchant_id: str, new: NewBill, session_id: str | None
) -> Row:
    """A new bill's row, before the chain numbers it; in the mode of the merchant's keys."""
    return {
        "id": new_id("bill"),
        "merchant_id": merchant_id,
        "customer": new.customer,
        "amount": new.amount,
        "currency": new.currency,
        "status": "created",
        "order_id": new.order_id,
        "description": new.description,
        "metadata": json.dumps(new.metadata or {}),
        "created": 0,
        "paid_at": None,
        "repaid_at": None,
        "liquidated_at": None,
        "cancelled_at": None,
        "repaid_amount": None,
        "overdue_notified": 0,
        "session_id": session_id,
        "contract_id": ctx.contract_id,
        "bill_number": None,
        "tx_hash": None,
        "ledger": None,
        "livemode": int(ctx.is_live(tx, merchant_id)),
    }


def create_bill(
    ctx: ServiceContext, merchant_id: str, new: NewBill, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/bills``."""
    with ctx.db.transaction() as tx:
        row = issue_bill(ctx, tx, merchant_id, new, request)
        return shown_bill(ctx, tx, row, int(row["created"]))


def shown_bill(ctx: ServiceContext, tx: Tx, row: Row, now: int) -> dict[str, Any]:
    """The bill as the API shows it, with the entry it may wait on."""
    pending = row["status"] == "requires_authorization"
    authorization = bill_store.get_authorization(tx, row["id"]) if pending else None
    return bill_object(row, now, ctx.constants, authorization)


def _current(ctx: ServiceContext, tx: Tx, merchant_id: str, bill_id: str) -> dict[str, Any]:
    # The bill leaves with the ledger clock's read (PostgreSQL: one round trip for both).
    bill = bill_store.get_bill_ahead(tx, merchant_id, bill_id)
    try:
        now = ctx.chain.now(tx)
    except ChainUnavailable:
        if bill() is None:  # unknown: 404 whether or not the chain answers
            raise NotFound(f"No such bill: '{bill_id}'", param="id") from None
        raise
    row = bill()
    if row is None:
        raise NotFound(f"No such bill: '{bill_id}'", param="id")
    return shown_bill(ctx, tx, row, now)


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
        return [shown_bill(ctx, tx, r, now) for r in result.rows], result.has_more


def cancel_bill(
    ctx: ServiceContext, merchant_id: str, bill_id: str, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/bills/{id}/cancel``: only an unpaid, unexpired bill (see
    :func:`void_bill`)."""
    with ctx.db.transaction() as tx:
        row = bill_store.get_bill(tx, merchant_id, bill_id, lock=True)
        if row is None:
            raise NotFound(f"No such bill: '{bill_id}'", param="id")
        now = ctx.chain.now(tx)
        status = derived_bill_status(row, now, ctx.constants)
        if status not in ("created", "requires_authorization"):
            raise Conflict(
                f"A bill can only be cancelled while created; it is {status}.",
                code="bill_not_cancellable",
            )
        return void_bill(ctx, tx, row, now, request, previous=status)


def void_bill(
    ctx: ServiceContext,
    tx: Tx,
    row: Row,
    now: int,
    request: RequestInfo | None,
    *,
    previous: str,
) -> dict[str, Any]:
    """Mark the unpaid bill *row* cancelled and say so (``bill.cancelled``).

    The contract has no cancel: a bill already on chain stays Created there until it
    expires, and this backend refuses to relay a payment for it; one still waiting for
    its merchant's authorization never reaches the chain (its entry is dropped).
    """
    bill_store.update_bill(tx, row["id"], status="cancelled", cancelled_at=now)
    bill_store.delete_authorization(tx, row["id"])
    obj = bill_object({**row, "status": "cancelled", "cancelled_at": now}, now, ctx.constants)
    events.emit(
        tx,
        merchant_id=row["merchant_id"],
        event_type="bill.cancelled",
        obj=obj,
        created=now,
        livemode=bool(row["livemode"]),
        previous={"status": previous},
        request=request,
    )
    return obj


def require_payable(row: Row) -> None:
    """Refuse before relaying when the backend alone knows the bill is closed."""
    if row["status"] == "cancelled":
        raise Conflict("This bill was cancelled.", code="bill_cancelled")
    require_on_chain(row)


def require_on_chain(row: Row) -> int:
    """The bill's number on chain; a bill its merchant has not authorized has none."""
    if row["bill_number"] is None:
        raise Conflict(
            "This bill is not on chain yet: its merchant has not authorized it.",
            code="bill_requires_authorization",
        )
    return int(row["bill_number"])


def check_customer(row: Row, address: str) -> None:
    """Only the bill's customer can pay or repay it."""
    if row["customer"] != address:
        raise InvalidRequest(
            "This wallet is not the bill's customer.", code="wallet_not_customer", param="wallet"
        )
