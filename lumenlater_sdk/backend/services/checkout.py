"""Checkout sessions: a hosted page that issues and pays one bill for one order.

A managed merchant's session issues and pays its bill in one step when the shopper
confirms. A self-custody merchant signs every ``create_bill`` itself, so its session's
bill is made before the shopper pays and waits for that signature
(``requires_authorization``):

- customer known: ``POST /v1/checkout/sessions`` with ``customer`` creates the bill at
  once; the session answers with the bill's ``authorization`` entry, which the SDK signs
  as part of ``create``;
- customer unknown: the hosted page asks the shopper for a wallet first
  (:func:`connect_wallet`), then makes the bill and emits
  ``checkout.session.authorization_required``; the merchant's webhook handler signs it
  and the page, polling :func:`page_state`, continues to the payment.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from stellar_sdk import StrKey

from .._ids import new_id
from ..chain import PreparedTransaction
from ..db import Row, Tx
from ..paging import PageRequest
from ..store import bills as bill_store
from ..store import merchants as merchant_store
from ..store import sessions as session_store
from ..store import wallets as wallet_store
from . import events
from .bills import NewBill, issue_bill, require_on_chain, require_payable
from .context import RequestInfo, ServiceContext
from .errors import ChainRefused, Conflict, InvalidRequest, NotFound, PermissionDenied
from .objects import bill_object, session_object
from .preconditions import check_pay
from .validation import check_origins, invalid_field
from .wallets import holds_key, pay_with_wallet, resolve_wallet

__all__ = [
    "AUTHORIZATION_REQUIRED",
    "NewSession",
    "PageView",
    "Row",  # the row type session_for_page returns, for the hosted page
    "connect_wallet",
    "create_session",
    "embed_origins",
    "expire_session",
    "form_token",
    "list_sessions",
    "page_state",
    "page_view",
    "pay_session",
    "prepare_payment",
    "retrieve_session",
    "session_for_page",
    "submit_payment",
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
    origins: list[str] | None = None
    if new.embed_origins is not None:
        try:
            origins = check_origins(new.embed_origins, livemode=ctx.config.livemode)
        except ValueError as exc:
            raise invalid_field("embed_origins", exc) from None
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
            "embed_origins": None if origins is None else json.dumps(origins),
        }
        session_store.insert_session(tx, row)
        if new.customer is not None and _self_custody(tx, merchant_id):
            # The deployed create_bill needs the shopper: the bill exists from the start,
            # waiting for the merchant's own signature (the SDK signs it within create).
            bill = issue_bill(
                ctx, tx, merchant_id, _new_bill(row, new.customer), request, session_id=row["id"]
            )
            session_store.update_session(tx, row["id"], bill_id=bill["id"])
            row["bill_id"] = bill["id"]
        return _shown(ctx, tx, row)


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
        return _shown(ctx, tx, row)


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
        return [_shown(ctx, tx, r) for r in result.rows], result.has_more


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
    _drop_pending_bill(ctx, tx, row, now, request)
    wallet_store.delete_prepared(tx, row["id"])
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


def _drop_pending_bill(
    ctx: ServiceContext, tx: Tx, row: Row, now: int, request: RequestInfo | None
) -> None:
    """A session that closes unpaid cancels its bill still waiting for the merchant's
    signature, so that bill can never be authorized (and go on chain) for nobody."""
    if not row["bill_id"]:
        return
    bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
    if bill is None or bill["status"] != "requires_authorization":
        return
    bill_store.update_bill(tx, bill["id"], status="cancelled", cancelled_at=now)
    bill_store.delete_authorization(tx, bill["id"])
    events.emit(
        tx,
        merchant_id=row["merchant_id"],
        event_type="bill.cancelled",
        obj=bill_object({**bill, "status": "cancelled", "cancelled_at": now}, now, ctx.constants),
        created=now,
        livemode=bool(row["livemode"]),
        previous={"status": "requires_authorization"},
        request=request,
    )


def expire_due(ctx: ServiceContext, tx: Any, now: int) -> int:
    """Expire every open session whose time is up; return how many."""
    due = session_store.due_for_expiry(tx, now)
    for row in due:
        _expire(ctx, tx, row, now, None)
    return len(due)


def form_token(ctx: ServiceContext, session_id: str) -> str:
    """The hosted page's per-session form token (a MAC, so nothing is stored)."""
    return ctx.box.mac("pay:" + session_id)


def _check_token(ctx: ServiceContext, session_id: str, token: str) -> None:
    if not hmac.compare_digest(token.encode(), form_token(ctx, session_id).encode()):
        raise PermissionDenied("The form has expired; reload the page.", code="invalid_token")


def _self_custody(tx: Tx, merchant_id: str) -> bool:
    merchant = merchant_store.get_merchant(tx, merchant_id)
    return merchant is not None and merchant["custody"] == "self"


def _new_bill(row: Row, customer: str) -> NewBill:
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


def _shown(ctx: ServiceContext, tx: Tx, row: Row) -> dict[str, Any]:
    """The session as the API shows it, with the entry its bill waits on, if any."""
    return session_object(row, ctx.config.base_url, _pending_authorization(tx, row))


@dataclass(frozen=True)
class PageView:
    """What the hosted page shows: the session, where it stands, and the wallets."""

    row: Row
    wallets: list[Row]
    now: int
    self_custody: bool
    step: str
    """``pay`` (a managed merchant's page: pick a wallet and pay), ``connect`` (a
    self-custody merchant's page without a shopper yet), ``awaiting_authorization`` (the
    bill waits for the merchant's signature), ``pay_bill`` (the bill is on chain: pay it as
    its customer), ``complete`` or ``expired``."""
    customer_wallet: Row | None
    """The sandbox wallet that is the session bill's customer (self custody), if any."""
    own_wallet: bool
    """The shopper signs in their own wallet (the page's "Pay with your Stellar wallet"):
    the session's customer is known and the sandbox holds no key for it (not a sandbox
    wallet, or an external one)."""
    business_name: str
    embed_origins: list[str]
    """The origins that may frame this page (the session's, else its account's)."""


def _allowed_origins(row: Row, merchant: Row | None) -> list[str]:
    if row["embed_origins"] is not None:
        return list(json.loads(row["embed_origins"]))
    return list(json.loads(merchant["embed_origins"])) if merchant is not None else []


def embed_origins(ctx: ServiceContext, session_id: str) -> list[str]:
    """The origins that may embed session *session_id* (its own list, else its account's),
    for the CORS answers of the widget's session read; ``[]`` for an unknown session."""
    with ctx.db.reads() as tx:
        row = session_store.get_session_any(tx, session_id)
        if row is None:
            return []
        return _allowed_origins(row, merchant_store.get_merchant(tx, row["merchant_id"]))


def _step(tx: Tx, row: Row, now: int, self_custody: bool) -> str:
    if row["status"] == "complete":
        return "complete"
    if row["status"] != "open" or now >= int(row["expires_at"]):
        return "expired"
    if not self_custody:
        return "pay"
    if not row["bill_id"]:
        return "connect"
    if bill_store.get_authorization(tx, row["bill_id"]) is not None:
        return "awaiting_authorization"
    return "pay_bill"


def page_view(ctx: ServiceContext, session_id: str) -> PageView:
    """The hosted page's view of a session (reached without an API key)."""
    with ctx.db.transaction(write=False) as tx:
        row = session_store.get_session_any(tx, session_id)
        if row is None:
            raise NotFound("No such checkout session.", param="id")
        merchant = merchant_store.get_merchant(tx, row["merchant_id"])
        self_custody = merchant is not None and merchant["custody"] == "self"
        now = ctx.chain.now(tx)
        customer = row["customer"]
        held = wallet_store.customer_wallet(tx, row["merchant_id"], customer) if customer else None
        return PageView(
            row=row,
            wallets=wallet_store.list_wallets(tx, row["merchant_id"]),
            now=now,
            self_custody=self_custody,
            step=_step(tx, row, now, self_custody),
            customer_wallet=held if self_custody else None,
            own_wallet=bool(customer) and (held is None or not holds_key(held)),
            business_name=str(merchant["business_name"]) if merchant is not None else "",
            embed_origins=_allowed_origins(row, merchant),
        )


def page_state(ctx: ServiceContext, session_id: str) -> dict[str, Any]:
    """``GET /pay/{id}/state``: where the hosted page stands, for its own polling. Only what
    the page itself shows (no client secret, no addresses)."""
    view = page_view(ctx, session_id)
    return {
        "object": "checkout.page_state",
        "session": view.row["id"],
        "status": view.row["status"],
        "payment_status": view.row["payment_status"],
        "step": view.step,
    }


def session_for_page(ctx: ServiceContext, session_id: str) -> tuple[Row, list[Row], int]:
    """The session, the wallets its page offers, and ledger time."""
    view = page_view(ctx, session_id)
    return view.row, view.wallets, view.now


def _open_session(ctx: ServiceContext, tx: Tx, session_id: str) -> tuple[Row, int]:
    row = session_store.get_session_any(tx, session_id, lock=True)
    if row is None:
        raise NotFound("No such checkout session.", param="id")
    now = ctx.chain.now(tx)
    if row["status"] != "open" or now >= int(row["expires_at"]):
        raise Conflict("This checkout session is no longer open.", code="session_not_open")
    return row, now


def connect_wallet(ctx: ServiceContext, session_id: str, wallet_ref: str, token: str) -> Row:
    """The hosted page's "connect": the shopper of a self-custody merchant's session chose
    a wallet. Creates the session's bill for that address (``requires_authorization``) and
    emits ``checkout.session.authorization_required`` so the merchant's server signs it.

    A wallet that could not pay the bill is refused now (``insufficient_collateral``), before
    the merchant is asked to sign anything. Connecting again with the same wallet changes
    nothing (a double submit); another wallet is refused (``wallet_already_connected``).
    """
    _check_token(ctx, session_id, token)
    with ctx.db.transaction() as tx:
        row, now = _open_session(ctx, tx, session_id)
        if not _self_custody(tx, row["merchant_id"]):
            raise Conflict(
                "This merchant's checkout needs no wallet connection; pay directly.",
                code="connection_not_needed",
            )
        wallet = resolve_wallet(tx, row["merchant_id"], wallet_ref)
        if row["bill_id"]:
            if row["customer"] == wallet["address"]:
                return row
            raise Conflict(
                "A wallet is already connected to this checkout.",
                code="wallet_already_connected",
            )
        power = ctx.chain.read("bnpl_core", "get_user_borrowing_power", [wallet["address"]], tx=tx)
        if int(dict(power).get("available_borrowing", 0)) < int(row["amount"]):
            raise ChainRefused("Insufficient collateral", code="insufficient_collateral")
        bill = issue_bill(
            ctx,
            tx,
            row["merchant_id"],
            _new_bill(row, wallet["address"]),
            None,
            session_id=session_id,
        )
        changes = {"customer": wallet["address"], "bill_id": bill["id"]}
        session_store.update_session(tx, session_id, **changes)
        done = {**row, **changes}
        events.emit(
            tx,
            merchant_id=row["merchant_id"],
            event_type=AUTHORIZATION_REQUIRED,
            obj=_shown(ctx, tx, done),
            created=now,
            livemode=bool(row["livemode"]),
            previous={"customer": row["customer"], "bill": None},
        )
        return done


def pay_session(ctx: ServiceContext, session_id: str, wallet_ref: str, token: str) -> Row:
    """The hosted page's confirm: issue the bill and pay it as *wallet_ref*, all or nothing.

    Both relayed calls and every row they cause share one transaction, so a
    refusal (say, insufficient collateral) leaves the session open and no bill behind.
    A self-custody merchant's session pays the bill it already has (authorized by the
    merchant) as that bill's customer; *wallet_ref* is then not needed.
    """
    _check_token(ctx, session_id, token)
    with ctx.db.transaction() as tx:
        row, _now = _open_session(ctx, tx, session_id)
        if _self_custody(tx, row["merchant_id"]):
            _pay_own_bill(ctx, tx, row)
        elif row["bill_id"]:
            # The page prepared a payment for the shopper's own wallet first: that bill
            # is the session's, paid by its customer only.
            wallet = resolve_wallet(tx, row["merchant_id"], wallet_ref)
            bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
            assert bill is not None
            pay_with_wallet(ctx, tx, bill, wallet, None)
        else:
            wallet = resolve_wallet(tx, row["merchant_id"], wallet_ref)
            bill = issue_bill(
                ctx,
                tx,
                row["merchant_id"],
                _new_bill(row, wallet["address"]),
                None,
                session_id=session_id,
            )
            pay_with_wallet(ctx, tx, bill, wallet, None)
        done = session_store.get_session_any(tx, session_id)
        assert done is not None
        return done


def _pay_own_bill(ctx: ServiceContext, tx: Tx, row: Row) -> None:
    """Pay a self-custody session's bill as its customer's sandbox wallet."""
    if not row["bill_id"]:
        raise Conflict("Connect a wallet first.", code="wallet_not_connected")
    bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
    assert bill is not None
    if bill["status"] == "requires_authorization":
        raise Conflict(
            "The merchant has not confirmed this order yet; wait a moment and try again.",
            code="bill_requires_authorization",
        )
    wallet = wallet_store.customer_wallet(tx, row["merchant_id"], bill["customer"])
    if wallet is None:
        raise InvalidRequest(
            "This order's wallet is not a sandbox wallet: pay it from that wallet.",
            code="wallet_not_customer",
            param="wallet",
        )
    pay_with_wallet(ctx, tx, bill, wallet, None)


def _shopper_address(address: str) -> str:
    if not isinstance(address, str) or not StrKey.is_valid_ed25519_public_key(address):
        raise InvalidRequest(
            "The wallet's address is not a Stellar account address (G…).",
            code="parameter_invalid",
            param="address",
        )
    return address


def _bill_for_shopper(ctx: ServiceContext, tx: Tx, row: Row, address: str) -> Row:
    """The session's bill that *address* is to pay: a self-custody merchant's authorized
    bill, or (a managed merchant) the bill made now for *address*, as :func:`pay_session`
    makes it, if the session has none yet."""
    merchant_id = row["merchant_id"]
    if row["bill_id"]:
        bill = bill_store.get_bill(tx, merchant_id, row["bill_id"], lock=True)
        assert bill is not None
        if bill["customer"] != address:
            raise InvalidRequest(
                "This order is for another wallet"
                f" ({bill['customer'][:6]}…{bill['customer'][-4:]}): switch to it in your"
                " wallet and try again.",
                code="wallet_not_customer",
                param="address",
            )
        if bill["status"] == "requires_authorization":
            raise Conflict(
                "The merchant has not confirmed this order yet; wait a moment and try again.",
                code="bill_requires_authorization",
            )
        return bill
    if _self_custody(tx, merchant_id):
        raise Conflict("Connect a wallet first.", code="wallet_not_connected")
    power = ctx.chain.read("bnpl_core", "get_user_borrowing_power", [address], tx=tx)
    if int(dict(power).get("available_borrowing", 0)) < int(row["amount"]):
        raise ChainRefused("Insufficient collateral", code="insufficient_collateral")
    bill = issue_bill(ctx, tx, merchant_id, _new_bill(row, address), None, session_id=row["id"])
    session_store.update_session(tx, row["id"], customer=address, bill_id=bill["id"])
    return bill


def prepare_payment(
    ctx: ServiceContext, session_id: str, token: str, address: str
) -> PreparedTransaction:
    """``POST /pay/{id}/prepare``: the unsigned ``pay_bill_bnpl`` transaction for the
    shopper *address* to sign in their own wallet (the backend holds no key for it).

    A managed merchant's session gets its bill for *address* first (kept, so the signed
    envelope has a bill to pay; preparing again for the same address reuses it, another
    address is ``wallet_not_customer``); a self-custody merchant's session pays the bill
    its merchant authorized. The prepared transaction is kept: :func:`submit_payment`
    submits only that one.
    """
    _check_token(ctx, session_id, token)
    address = _shopper_address(address)
    with ctx.db.transaction() as tx:
        row, now = _open_session(ctx, tx, session_id)
        bill = _bill_for_shopper(ctx, tx, row, address)
        require_payable(bill)
        number = require_on_chain(bill)
        check_pay(ctx, tx, number)
        prepared = ctx.chain.prepare_transaction(
            "bnpl_core", "pay_bill_bnpl", [number], source=address, tx=tx
        )
        wallet_store.put_prepared(
            tx,
            {
                "session_id": session_id,
                "bill_id": bill["id"],
                **{f.name: getattr(prepared, f.name) for f in fields(PreparedTransaction)},
                "created": now,
            },
        )
        return prepared


def submit_payment(ctx: ServiceContext, session_id: str, token: str, signed_xdr: str) -> Row:
    """``POST /pay/{id}/submit``: submit the envelope the shopper's wallet signed.

    It must be the transaction :func:`prepare_payment` prepared for this session (same
    hash), signed by its source; the chain's refusals are service errors with the codes
    of :data:`~.relay.ENVELOPE_REFUSALS`. The session completes only from the contract's
    ``payment`` event in the transaction's record (events ingestion), never from what
    the page says; the session row is returned as it then stands.
    """
    _check_token(ctx, session_id, token)
    if not isinstance(signed_xdr, str) or not signed_xdr:
        raise InvalidRequest(
            "Missing required param: signed_xdr.", code="parameter_missing", param="signed_xdr"
        )
    with ctx.db.transaction() as tx:
        _open_session(ctx, tx, session_id)
        stored = wallet_store.get_prepared(tx, session_id)
        if stored is None:
            raise Conflict(
                "Nothing was prepared for this checkout; start the payment again.",
                code="transaction_not_prepared",
            )
        expected = PreparedTransaction(
            **{f.name: stored[f.name] for f in fields(PreparedTransaction)}
        )
        record = ctx.chain.submit_transaction(
            signed_xdr,
            expected=expected,
            tx=tx,
            operation=f"checkout:{session_id}:{expected.hash}",
        )
        events.ingest(ctx, tx, record.events, None)
        wallet_store.delete_prepared(tx, session_id)
        done = session_store.get_session_any(tx, session_id)
        assert done is not None
        return done
