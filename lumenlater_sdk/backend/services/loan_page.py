"""The shopper's loan after checkout, on the session's hosted page (``/pay/{id}`` once the
session is complete): what is owed and until when (:func:`loan_view`), and repaying it
from the shopper's own wallet, which signs what the backend prepares
(:func:`prepare_repayment`, :func:`submit_repayment`).

As deployed, ``repay_bill`` pulls principal + late fee with USDC ``transfer_from``, so the
shopper's wallet signs two transactions (SOROBAN.md §8): a USDC ``approve`` of bnpl_core,
then ``repay_bill``. The approval is for what the bill will cost a day from now, so a day
boundary between the two signatures does not make the second fail for want of allowance,
and never for more. An allowance that already covers the bill skips the first step. The
bill is repaid only from the contract's ``repayment`` event of the submitted transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..chain import PreparedTransaction
from ..db import Row, Tx
from ..store import bills as bill_store
from ..store import sessions as session_store
from ..store import wallets as wallet_store
from . import shopper_signed
from .checkout_page import check_form_token, shopper_address
from .context import ServiceContext
from .errors import ChainRefused, Conflict, InvalidRequest, NotFound
from .objects import bill_object, late_fee
from .preconditions import check_repay
from .wallets import holds_key

__all__ = ["APPROVE", "REPAY", "LoanView", "loan_view", "prepare_repayment", "submit_repayment"]

APPROVE = "approve"
"""The first step's function (USDC ``approve`` of bnpl_core)."""
REPAY = "repay_bill"
"""The second step's function (bnpl_core ``repay_bill``)."""

_DAY = 86_400
# About a day of ledgers at 5 s: USDC here ignores the expiration, a Stellar asset
# contract requires one at or after the current ledger.
_APPROVAL_LEDGERS = 17_280


@dataclass(frozen=True)
class LoanView:
    """The session's bill as its shopper sees it after paying."""

    bill: dict[str, Any]
    """The bill object (status, ``amount_due``, ``grace_period_ends_at``,
    ``liquidatable_at``, ``late_fee``)."""
    outstanding: bool
    """Paid (or overdue) and not yet repaid or liquidated."""
    own_wallet: bool
    """The sandbox holds no key for the bill's customer: the shopper's own wallet repays."""


def _completed_bill(ctx: ServiceContext, tx: Tx, session_id: str, *, lock: bool) -> Row:
    row = session_store.get_session_any(tx, session_id)
    if row is None:
        raise NotFound("No such checkout session.", param="id")
    if row["status"] != "complete" or not row["bill_id"]:
        raise Conflict("This checkout has not been paid.", code="session_not_complete")
    bill = bill_store.get_bill(tx, row["merchant_id"], row["bill_id"], lock=lock)
    assert bill is not None
    return bill


def loan_view(ctx: ServiceContext, session_id: str) -> LoanView | None:
    """The loan of complete session *session_id*, or ``None`` if it has none."""
    with ctx.db.transaction(write=False) as tx:
        try:
            bill = _completed_bill(ctx, tx, session_id, lock=False)
        except (NotFound, Conflict):
            return None
        shown = bill_object(bill, ctx.chain.now(tx), ctx.constants)
        held = wallet_store.customer_wallet(tx, bill["merchant_id"], bill["customer"])
        return LoanView(
            bill=shown,
            outstanding=shown["status"] in ("paid", "overdue"),
            own_wallet=held is None or not holds_key(held),
        )


def _next_step(ctx: ServiceContext, tx: Tx, bill: Row, address: str) -> tuple[str, list[Any]]:
    """The function and arguments the shopper signs next: the approval while the
    allowance does not cover what is owed now, else the repayment."""
    number = int(bill["bill_number"])
    owed = check_repay(ctx, tx, number)
    balance = int(ctx.chain.read("usdc", "balance", [address], tx=tx))
    if balance < owed:
        raise ChainRefused(
            f"The wallet holds {balance} USDC stroops; repaying takes {owed}.",
            code="insufficient_funds",
        )
    spender = ctx.contract_id
    allowance = int(ctx.chain.read("usdc", "allowance", [address, spender], tx=tx))
    if allowance >= owed:
        return REPAY, [number]
    principal = int(bill["amount"])
    later = ctx.chain.now(tx) + _DAY
    cap = principal + late_fee(principal, int(bill["created"]), later, ctx.constants)
    expiration = ctx.chain.latest_ledger(tx=tx) + _APPROVAL_LEDGERS
    return APPROVE, [address, spender, cap, expiration]


def prepare_repayment(
    ctx: ServiceContext, session_id: str, token: str, address: str
) -> tuple[str, PreparedTransaction]:
    """``POST /pay/{id}/repay/prepare``: the next unsigned transaction of the repayment
    for the bill's customer *address* (``approve`` or ``repay_bill``), kept so that
    :func:`submit_repayment` submits only that one."""
    check_form_token(ctx, session_id, token)
    address = shopper_address(address)
    with ctx.db.transaction() as tx:
        bill = _completed_bill(ctx, tx, session_id, lock=True)
        if bill["customer"] != address:
            customer = str(bill["customer"])
            raise InvalidRequest(
                f"This loan is owed by another wallet ({customer[:6]}…{customer[-4:]}):"
                " switch to it in your wallet and try again.",
                code="wallet_not_customer",
                param="address",
            )
        function, args = _next_step(ctx, tx, bill, address)
        contract = "usdc" if function == APPROVE else "bnpl_core"
        prepared = ctx.chain.prepare_transaction(contract, function, args, source=address, tx=tx)
        shopper_signed.keep(tx, session_id, bill["id"], prepared, ctx.chain.now(tx))
        return function, prepared


def submit_repayment(
    ctx: ServiceContext, session_id: str, token: str, signed_xdr: str
) -> tuple[str, dict[str, Any]]:
    """``POST /pay/{id}/repay/submit``: submit the step the shopper's wallet signed.

    Returns the function submitted and the bill as it then stands (``repaid`` once the
    contract's ``repayment`` event of a ``repay_bill`` was applied)."""
    check_form_token(ctx, session_id, token)
    signed_xdr = shopper_signed.require_signed_xdr(signed_xdr)
    with ctx.db.transaction() as tx:
        bill = _completed_bill(ctx, tx, session_id, lock=True)
        expected = shopper_signed.submit_kept(
            ctx, tx, session_id, signed_xdr, functions=(APPROVE, REPAY), flow="repay"
        )
        after = bill_store.get_bill(tx, bill["merchant_id"], bill["id"])
        assert after is not None
        return expected.function, bill_object(after, ctx.chain.now(tx), ctx.constants)
