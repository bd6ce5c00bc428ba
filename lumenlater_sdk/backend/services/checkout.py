"""Checkout sessions: a hosted page that issues and pays one bill for one order."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from .._ids import new_id
from ..db import Row
from ..paging import PageRequest
from ..store import sessions as session_store
from ..store import wallets as wallet_store
from . import events
from .bills import NewBill, issue_bill
from .context import RequestInfo, ServiceContext
from .errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from .objects import session_object
from .wallets import pay_with_wallet, resolve_wallet

__all__ = [
    "NewSession",
    "Row",  # the row type session_for_page returns, for the hosted page
    "create_session",
    "expire_session",
    "form_token",
    "list_sessions",
    "pay_session",
    "retrieve_session",
    "session_for_page",
]


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


def create_session(
    ctx: ServiceContext, merchant_id: str, new: NewSession, request: RequestInfo
) -> dict[str, Any]:
    """``POST /v1/checkout/sessions``."""
    total = sum(int(i["quantity"]) * int(i["unit_amount"]) for i in new.line_items)
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
    with ctx.db.transaction() as tx:
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
            "livemode": int(ctx.config.livemode),
        }
        session_store.insert_session(tx, row)
        return session_object(row, ctx.config.base_url)


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
    return session_object(row, ctx.config.base_url)


def list_sessions(
    ctx: ServiceContext,
    merchant_id: str,
    page: PageRequest,
    *,
    status: str | None,
    order_id: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """``GET /v1/checkout/sessions``."""
    with ctx.db.transaction(write=False) as tx:
        result = session_store.list_sessions(
            tx, merchant_id, page, status=status, order_id=order_id
        )
    return [session_object(r, ctx.config.base_url) for r in result.rows], result.has_more


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


def expire_due(ctx: ServiceContext, tx: Any, now: int) -> int:
    """Expire every open session whose time is up; return how many."""
    due = session_store.due_for_expiry(tx, now)
    for row in due:
        _expire(ctx, tx, row, now, None)
    return len(due)


def form_token(ctx: ServiceContext, session_id: str) -> str:
    """The hosted page's per-session form token (a MAC, so nothing is stored)."""
    return ctx.box.mac("pay:" + session_id)


def session_for_page(ctx: ServiceContext, session_id: str) -> tuple[Row, list[Row], int]:
    """The session, the wallets its page offers, and ledger time."""
    with ctx.db.transaction(write=False) as tx:
        row = session_store.get_session_any(tx, session_id)
        if row is None:
            raise NotFound("No such checkout session.", param="id")
        wallets = wallet_store.list_wallets(tx, row["merchant_id"])
        return row, wallets, ctx.chain.now(tx)


def pay_session(ctx: ServiceContext, session_id: str, wallet_ref: str, token: str) -> Row:
    """The hosted page's confirm: issue the bill and pay it as *wallet_ref*, all or nothing.

    Both relayed calls and every row they cause share one transaction, so a
    refusal (say, insufficient collateral) leaves the session open and no bill behind.
    """
    if not hmac.compare_digest(token.encode(), form_token(ctx, session_id).encode()):
        raise PermissionDenied("The form has expired; reload the page.", code="invalid_token")
    with ctx.db.transaction() as tx:
        row = session_store.get_session_any(tx, session_id, lock=True)
        if row is None:
            raise NotFound("No such checkout session.", param="id")
        now = ctx.chain.now(tx)
        if row["status"] != "open" or now >= int(row["expires_at"]):
            raise Conflict("This checkout session is no longer open.", code="session_not_open")
        wallet = resolve_wallet(tx, row["merchant_id"], wallet_ref)
        new = NewBill(
            customer=wallet["address"],
            amount=int(row["amount"]),
            currency=row["currency"],
            order_id=row["order_id"],
            description=row["description"],
            metadata=json.loads(row["metadata"]),
        )
        bill = issue_bill(ctx, tx, row["merchant_id"], new, None, session_id=session_id)
        pay_with_wallet(ctx, tx, bill, wallet, None)
        done = session_store.get_session_any(tx, session_id)
        assert done is not None
        return done
