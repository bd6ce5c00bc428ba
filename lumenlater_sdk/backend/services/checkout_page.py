"""The hosted page's side of a checkout session (``/pay/{id}``), reached without an API
key: what the page shows (:func:`page_view`, :func:`page_state`), the shopper connecting a
wallet for a self-custody merchant (:func:`connect_wallet`), paying with a sandbox wallet
(:func:`pay_session`), and paying from the shopper's own wallet, which signs a transaction
the backend prepared (:func:`prepare_payment`, :func:`submit_payment`). Every form carries
:func:`form_token`, a MAC of the session id.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from .._strkeys import is_account
from ..chain import SCALE, PreparedTransaction
from ..db import Row, Tx
from ..store import bills as bill_store
from ..store import merchants as merchant_store
from ..store import sessions as session_store
from ..store import wallets as wallet_store
from . import events, shopper_signed
from .bills import issue_bill, require_on_chain, require_payable
from .checkout import (
    AUTHORIZATION_REQUIRED,
    new_bill,
    release_bill,
    self_custody,
    shown_session,
)
from .context import ServiceContext
from .errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from .payment_failures import attempt
from .preconditions import check_collateral, check_pay
from .wallets import holds_key, pay_with_wallet, resolve_wallet

__all__ = [
    "BorrowingTerms",
    "PageView",
    "PreparedTransaction",  # what prepare_payment returns, for the hosted page
    "Row",  # the row type session_for_page returns, for the hosted page
    "borrowing_terms",
    "check_form_token",
    "connect_wallet",
    "embed_origins",
    "form_token",
    "page_state",
    "page_view",
    "pay_open_session",
    "pay_session",
    "prepare_payment",
    "session_for_page",
    "shopper_address",
    "submit_payment",
]


def form_token(ctx: ServiceContext, session_id: str) -> str:
    """The hosted page's per-session form token (a MAC, so nothing is stored)."""
    return ctx.box.mac("pay:" + session_id)


def check_form_token(ctx: ServiceContext, session_id: str, token: str) -> None:
    """Refuse a form of the hosted page whose token is not *session_id*'s."""
    if not hmac.compare_digest(token.encode(), form_token(ctx, session_id).encode()):
        raise PermissionDenied("The form has expired; reload the page.", code="invalid_token")


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


@dataclass(frozen=True)
class BorrowingTerms:
    """What a shopper takes on by paying *amount* later from ledger time *now*: the
    deadlines (the bill is made when they pay, and the contract counts from it) and the
    protocol's rates, scaled by 10^7 as the contracts keep them."""

    due: int
    """End of the interest-free period."""
    liquidation: int
    """From then on the collateral may be sold."""
    collateral: int
    """The LP value that stays locked while the amount is owed (stroops)."""
    late_interest_apr: int
    collateral_ratio: int
    liquidation_penalty: int


def borrowing_terms(ctx: ServiceContext, amount: int, now: int) -> BorrowingTerms:
    """The terms of paying *amount* later, starting at *now*."""
    c = ctx.constants
    return BorrowingTerms(
        due=now + c.grace_period,
        liquidation=now + c.liquidation_after,
        collateral=amount * c.collateral_ratio // SCALE,
        late_interest_apr=c.late_interest_apr,
        collateral_ratio=c.collateral_ratio,
        liquidation_penalty=c.liquidation_penalty,
    )


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


def _wallet_address(ctx: ServiceContext, session_id: str, wallet_ref: str) -> str | None:
    """Who tried to pay session *session_id* with the sandbox wallet *wallet_ref* (else
    the session's customer), for the record of a refusal."""
    with ctx.db.reads() as tx:
        row = session_store.get_session_any(tx, session_id)
        if row is None:
            return None
        if wallet_ref:
            found = wallet_store.find_wallet(tx, row["merchant_id"], wallet_ref)
            if found is not None:
                return str(found["address"])
        return str(row["customer"]) if row["customer"] else None


def _prepared_source(ctx: ServiceContext, session_id: str) -> str | None:
    """The account the session's prepared transaction is for (who tried to pay)."""
    with ctx.db.reads() as tx:
        stored = wallet_store.get_prepared(tx, session_id)
        return None if stored is None else str(stored["source"])


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
    check_form_token(ctx, session_id, token)
    with (
        attempt(ctx, session_id, lambda: _wallet_address(ctx, session_id, wallet_ref)),
        ctx.db.transaction() as tx,
    ):
        row, now = _open_session(ctx, tx, session_id)
        if not self_custody(tx, row["merchant_id"]):
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
        check_collateral(ctx, tx, wallet["address"], int(row["amount"]))
        bill = issue_bill(
            ctx,
            tx,
            row["merchant_id"],
            new_bill(row, wallet["address"]),
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
            obj=shown_session(ctx, tx, done),
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
    check_form_token(ctx, session_id, token)
    with (
        attempt(ctx, session_id, lambda: _wallet_address(ctx, session_id, wallet_ref)),
        ctx.db.transaction() as tx,
    ):
        return pay_open_session(ctx, tx, session_id, wallet_ref)


def pay_open_session(ctx: ServiceContext, tx: Tx, session_id: str, wallet_ref: str) -> Row:
    """:func:`pay_session`'s work inside *tx*, for a caller that checked the form (or
    has none: a batch of confirms) and records refusals itself."""
    row, now = _open_session(ctx, tx, session_id)
    if self_custody(tx, row["merchant_id"]):
        _pay_own_bill(ctx, tx, row)
    else:
        wallet = resolve_wallet(tx, row["merchant_id"], wallet_ref)
        bill = _managed_bill(ctx, tx, row, wallet["address"], now, param="wallet")
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


def shopper_address(address: str) -> str:
    """*address* if it is a Stellar account address (``G…``), else ``parameter_invalid``."""
    if not isinstance(address, str) or not is_account(address):
        raise InvalidRequest(
            "The wallet's address is not a Stellar account address (G…).",
            code="parameter_invalid",
            param="address",
        )
    return address


def _not_customer(customer: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"This order is for another wallet ({customer[:6]}…{customer[-4:]}): switch to it"
        " in your wallet and try again.",
        code="wallet_not_customer",
        param=param,
    )


def _managed_bill(
    ctx: ServiceContext, tx: Tx, row: Row, address: str, now: int, *, param: str
) -> Row:
    """The bill *address* pays for a managed merchant's session *row*, made now if need be.

    A session its merchant pinned to a ``customer`` is paid by that wallet only. An
    earlier own-wallet attempt left a bill for its wallet: the same wallet pays that one;
    another wallet (the shopper changed their mind) gets a bill of its own and the
    abandoned one is cancelled, in this transaction, so a refusal keeps it as it was.
    """
    if row["customer"] and row["customer"] != address:
        raise _not_customer(str(row["customer"]), param)
    if row["bill_id"]:
        bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
        if bill is not None and bill["customer"] == address and bill["status"] == "created":
            return bill
        release_bill(ctx, tx, row, now, None)
    check_collateral(ctx, tx, address, int(row["amount"]))
    bill = issue_bill(
        ctx, tx, row["merchant_id"], new_bill(row, address), None, session_id=row["id"]
    )
    session_store.update_session(tx, row["id"], bill_id=bill["id"])
    return bill


def _bill_for_shopper(ctx: ServiceContext, tx: Tx, row: Row, address: str, now: int) -> Row:
    """The session's bill that *address* is to pay from its own wallet: a self-custody
    merchant's authorized bill, or a managed merchant's (:func:`_managed_bill`)."""
    if not self_custody(tx, row["merchant_id"]):
        return _managed_bill(ctx, tx, row, address, now, param="address")
    if not row["bill_id"]:
        raise Conflict("Connect a wallet first.", code="wallet_not_connected")
    bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=True)
    assert bill is not None
    if bill["customer"] != address:
        raise _not_customer(str(bill["customer"]), "address")
    if bill["status"] == "requires_authorization":
        raise Conflict(
            "The merchant has not confirmed this order yet; wait a moment and try again.",
            code="bill_requires_authorization",
        )
    return bill


def prepare_payment(
    ctx: ServiceContext, session_id: str, token: str, address: str
) -> PreparedTransaction:
    """``POST /pay/{id}/prepare``: the unsigned ``pay_bill_bnpl`` transaction for the
    shopper *address* to sign in their own wallet (the backend holds no key for it).

    A managed merchant's session gets its bill for *address* first (kept, so the signed
    envelope has a bill to pay; preparing again for the same address reuses it, another
    address replaces it); a self-custody merchant's session pays the bill its merchant
    authorized. The prepared transaction is kept: :func:`submit_payment`
    submits only that one.
    """
    check_form_token(ctx, session_id, token)
    address = shopper_address(address)
    with attempt(ctx, session_id, lambda: address), ctx.db.transaction() as tx:
        row, now = _open_session(ctx, tx, session_id)
        bill = _bill_for_shopper(ctx, tx, row, address, now)
        require_payable(bill)
        number = require_on_chain(bill)
        check_pay(ctx, tx, number)
        prepared = ctx.chain.prepare_transaction(
            "bnpl_core", "pay_bill_bnpl", [number], source=address, tx=tx
        )
        shopper_signed.keep(tx, session_id, bill["id"], prepared, now)
        return prepared


def submit_payment(ctx: ServiceContext, session_id: str, token: str, signed_xdr: str) -> Row:
    """``POST /pay/{id}/submit``: submit the envelope the shopper's wallet signed.

    It must be the transaction :func:`prepare_payment` prepared for this session (same
    hash), signed by its source; the chain's refusals are service errors with the codes
    of :data:`~.relay.ENVELOPE_REFUSALS`. The session completes only from the contract's
    ``payment`` event in the transaction's record (events ingestion), never from what
    the page says; the session row is returned as it then stands.
    """
    check_form_token(ctx, session_id, token)
    signed_xdr = shopper_signed.require_signed_xdr(signed_xdr)
    with (
        attempt(ctx, session_id, lambda: _prepared_source(ctx, session_id)),
        ctx.db.transaction() as tx,
    ):
        _open_session(ctx, tx, session_id)
        shopper_signed.submit_kept(
            ctx, tx, session_id, signed_xdr, functions=("pay_bill_bnpl",), flow="checkout"
        )
        done = session_store.get_session_any(tx, session_id)
        assert done is not None
        return done
