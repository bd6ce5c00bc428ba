"""Checkout sessions: a hosted page that issues and pays one bill for one order.

A managed merchant's session issues and pays its bill in one step when the shopper
confirms. A self-custody merchant signs every ``create_bill`` itself, so its session's
bill is made before the shopper pays and waits for that signature
(``requires_authorization``):

- customer known: ``POST /v1/checkout/sessions`` with ``customer`` creates the bill at
  once; the session answers with the bill's ``authorization`` entry, which the SDK signs
  as part of ``create``;
- customer unknown: the hosted page asks the shopper for a wallet first
  (``checkout_page.connect_wallet``), then makes the bill and emits
  ``checkout.session.authorization_required``; the merchant's webhook handler signs it
  and the page, polling ``checkout_page.page_state``, continues to the payment.

This module is the API's side of sessions; what the hosted page does with one (its
view, connecting a wallet, paying) is ``checkout_page``.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from .._ids import new_id
from ..db import Row, Tx
from ..paging import PageRequest
from ..store import bills as bill_store
from ..store import merchants as merchant_store
from ..store import sessions as session_store
from ..store import wallets as wallet_store
from . import events
from .bills import NewBill, issue_bill, void_bill
from .context import RequestInfo, ServiceContext
from .errors import Conflict, InvalidRequest, NotFound
from .objects import derived_bill_status, session_object
from .validation import MAX_AMOUNT, check_origins, invalid_field

__all__ = [
    "AUTHORIZATION_REQUIRED",
    "NewSession",
    "checked_terms",
    "create_session",
    "expire_due",
    "expire_session",
    "list_sessions",
    "new_bill",
    "open_session",
    "release_bill",
    "retrieve_session",
    "self_custody",
    "shown_session",
]

AUTHORIZATION_REQUIRED = "checkout.session.authorization_required"
"""The event a self-custody merchant hears when a shopper connected a wallet on the hosted
page and the session's bill waits for the merchant's signature."""


@dataclass(frozen=True)
class NewSession:
    """What a merchant asks for when opening a checkout."""

    success_url: str
    cancel_url: str
    amount: int | None = None
    currency: str = "usdc"
    order_id: str | None = None
    description: str | None = None
    line_items: list[dict[str, Any]] = field(default_factory=list)
    customer: str | None = None
    expires_in: int = 3600
    metadata: dict[str, str] | None = None
    embed_origins: list[str] | None = None
    """The origins that may embed this session's page; ``None``: the account's."""


def _line_items_total(items: list[dict[str, Any]]) -> int:
    """The sum of ``quantity * unit_amount``, each line and the sum capped like one amount
    (:data:`~.validation.MAX_AMOUNT`), so no total overflows a 64-bit column."""
    total = 0
    for n, item in enumerate(items):
        line = int(item["quantity"]) * int(item["unit_amount"])
        if line > MAX_AMOUNT:
            raise InvalidRequest(
                f"line_items[{n}]: quantity * unit_amount ({line}) is over {MAX_AMOUNT}.",
                code="parameter_invalid",
                param=f"line_items[{n}]",
            )
        total += line
        if total > MAX_AMOUNT:
            raise InvalidRequest(
                f"The line_items add up to more than {MAX_AMOUNT}.",
                code="parameter_invalid",
                param="line_items",
            )
    return total


def create_session(
    ctx: ServiceContext, merchant_id: str, new: NewSession, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/checkout/sessions``."""
    amount, origins = checked_terms(ctx, new)
    with ctx.db.transaction() as tx:
        return open_session(ctx, tx, merchant_id, new, request, amount=amount, origins=origins)


def checked_terms(ctx: ServiceContext, new: NewSession) -> tuple[int, list[str] | None]:
    """The amount *new* charges and the origins it may be embedded in, or the 400 saying
    why not: checked before a transaction is opened."""
    total = _line_items_total(new.line_items)
    if new.line_items:
        if new.amount is not None and new.amount != total:
            raise InvalidRequest(
                f"amount ({new.amount}) must equal the sum of line_items ({total}).",
                code="amount_mismatch",
                param="amount",
            )
        amount = total
    elif new.amount is None:
        raise InvalidRequest(
            "Missing required param: amount.", code="parameter_missing", param="amount"
        )
    else:
        amount = new.amount
    if amount <= 0:
        raise InvalidRequest("amount must be positive.", code="parameter_invalid", param="amount")
    origins: list[str] | None = None
    if new.embed_origins is not None:
        try:
            origins = check_origins(new.embed_origins, livemode=ctx.config.livemode)
        except ValueError as exc:
            raise invalid_field("embed_origins", exc) from None
    return amount, origins


def open_session(
    ctx: ServiceContext,
    tx: Tx,
    merchant_id: str,
    new: NewSession,
    request: RequestInfo | None,
    *,
    amount: int,
    origins: list[str] | None,
) -> dict[str, Any]:
    """Record the session *new* (terms from :func:`checked_terms`) inside *tx*."""
    now = ctx.chain.now(tx)
    row: Row = {
        "id": new_id("cs"),
        "merchant_id": merchant_id,
        "amount": amount,
        "currency": new.currency,
        "line_items": json.dumps(new.line_items),
        "order_id": new.order_id,
        "description": new.description,
        "customer": new.customer,
        "bill_id": None,
        "success_url": new.success_url,
        "cancel_url": new.cancel_url,
        "status": "open",
        "payment_status": "unpaid",
        "client_secret": f"{new_id('cs')}_secret_{secrets.token_urlsafe(18)}",
        "expires_at": now + new.expires_in,
        "completed_at": None,
        "metadata": json.dumps(new.metadata or {}),
        "created": now,
        "livemode": int(ctx.is_live(tx, merchant_id)),  # its keys' mode
        "embed_origins": None if origins is None else json.dumps(origins),
    }
    session_store.insert_session(tx, row)
    if new.customer is not None and self_custody(tx, merchant_id):
        # The deployed create_bill needs the shopper: the bill exists from the start,
        # waiting for the merchant's own signature (the SDK signs it within create).
        bill = issue_bill(
            ctx, tx, merchant_id, new_bill(row, new.customer), request, session_id=row["id"]
        )
        session_store.update_session(tx, row["id"], bill_id=bill["id"])
        row["bill_id"] = bill["id"]
    return shown_session(ctx, tx, row)


def retrieve_session(
    ctx: ServiceContext, merchant_id: str, session_id: str, *, client_secret: str | None = None
) -> dict[str, Any]:
    """``GET /v1/checkout/sessions/{id}``; with *client_secret*, it must match (widget reads)."""
    with ctx.db.reads() as tx:
        row = session_store.get_session(tx, merchant_id, session_id)
        if row is None:
            raise NotFound(f"No such checkout session: '{session_id}'", param="id")
        if client_secret is not None and not hmac.compare_digest(
            client_secret.encode(), str(row["client_secret"]).encode()
        ):
            raise NotFound(f"No such checkout session: '{session_id}'", param="id")
        return shown_session(ctx, tx, row)


def list_sessions(
    ctx: ServiceContext,
    merchant_id: str,
    page: PageRequest,
    *,
    status: str | None,
    order_id: str | None,
    created_gte: int | None = None,
    created_lte: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """``GET /v1/checkout/sessions``."""
    with ctx.db.transaction(write=False) as tx:
        result = session_store.list_sessions(
            tx,
            merchant_id,
            page,
            status=status,
            order_id=order_id,
            created_gte=created_gte,
            created_lte=created_lte,
        )
        return [shown_session(ctx, tx, r) for r in result.rows], result.has_more


def expire_session(
    ctx: ServiceContext, merchant_id: str, session_id: str, request: RequestInfo | None
) -> dict[str, Any]:
    """``POST /v1/checkout/sessions/{id}/expire``: only an open session."""
    with ctx.db.transaction() as tx:
        row = session_store.get_session(tx, merchant_id, session_id, lock=True)
        if row is None:
            raise NotFound(f"No such checkout session: '{session_id}'", param="id")
        if row["status"] != "open":
            raise Conflict(
                f"Only an open session can be expired; it is {row['status']}.",
                code="session_not_open",
            )
        now = ctx.chain.now(tx)
        return _expire(ctx, tx, row, now, request)


def _expire(
    ctx: ServiceContext, tx: Any, row: Row, now: int, request: RequestInfo | None
) -> dict[str, Any]:
    release_bill(ctx, tx, row, now, request)
    session_store.update_session(tx, row["id"], status="expired")
    obj = session_object({**row, "status": "expired"}, ctx.config.base_url)
    events.emit(
        tx,
        merchant_id=row["merchant_id"],
        event_type="checkout.session.expired",
        obj=obj,
        created=now,
        livemode=bool(row["livemode"]),
        previous={"status": "open"},
        request=request,
    )
    return obj


def release_bill(
    ctx: ServiceContext, tx: Tx, row: Row, now: int, request: RequestInfo | None
) -> None:
    """Cancel session *row*'s bill if it is still unpaid (``bill.cancelled``), and forget
    the transaction prepared for it.

    A session that closes unpaid does so (a bill waiting for its merchant's signature can
    then never be authorized for nobody; one on chain is refused by this backend until
    it expires there), and so does the hosted page when the shopper of a managed
    merchant's session turns to another wallet after an own-wallet attempt.
    """
    wallet_store.delete_prepared(tx, row["id"])
    if not row["bill_id"]:
        return
    bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
    if bill is None:
        return
    status = derived_bill_status(bill, now, ctx.constants)
    if status in ("requires_authorization", "created"):
        void_bill(ctx, tx, bill, now, request, previous=status)


def expire_due(ctx: ServiceContext, tx: Any, now: int) -> int:
    """Expire every open session whose time is up; return how many."""
    due = session_store.due_for_expiry(tx, now)
    for row in due:
        _expire(ctx, tx, row, now, None)
    return len(due)


def self_custody(tx: Tx, merchant_id: str) -> bool:
    merchant = merchant_store.get_merchant(tx, merchant_id)
    return merchant is not None and merchant["custody"] == "self"


def new_bill(row: Row, customer: str) -> NewBill:
    """The bill that pays session *row* for *customer*."""
    return NewBill(
        customer=customer,
        amount=int(row["amount"]),
        currency=row["currency"],
        order_id=row["order_id"],
        description=row["description"],
        metadata=json.loads(row["metadata"]),
    )


def _pending_authorization(tx: Tx, row: Row) -> Row | None:
    """The entry the open session's bill waits on (its merchant's signature), or ``None``."""
    if row["status"] != "open" or not row["bill_id"]:
        return None
    return bill_store.get_authorization(tx, row["bill_id"])


def shown_session(ctx: ServiceContext, tx: Tx, row: Row) -> dict[str, Any]:
    """The session as the API shows it, with the entry its bill waits on, if any."""
    return session_object(row, ctx.config.base_url, _pending_authorization(tx, row))
