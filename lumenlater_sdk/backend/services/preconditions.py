"""Why the contracts would refuse a call, decided from chain state read before it.

On a real network only ``enroll_merchant`` and ``update_merchant_status`` return a
typed error; every other refusal traps and its reason never reaches the caller
(SOROBAN.md §3). So the API's reasons (``bill_expired``, ``insufficient_collateral``
...) are decided here, from what the chain says through the relay (``get_bill``,
``get_merchant``, ``get_user_borrowing_power``, LP balances, the ledger clock), in
the contracts' own order of checks, identically on every gateway. Each check raises
the :class:`ChainRefused` the contract's refusal used to become; a call that passes
and still traps (the state changed in between) is the relay's ``contract_trapped``.
"""

from __future__ import annotations

from typing import Any

from ..chain import SCALE
from ..db import Tx
from .context import ServiceContext
from .errors import ChainRefused
from .objects import late_fee

__all__ = [
    "check_collateral",
    "check_create_bill",
    "check_liquidate",
    "check_pay",
    "check_repay",
]


def _bill(ctx: ServiceContext, tx: Tx, bill_number: int) -> dict[str, Any]:
    bill = ctx.chain.read_optional("bnpl_core", "get_bill", [bill_number], tx=tx)
    if not isinstance(bill, dict):
        raise ChainRefused(f"Bill {bill_number} is not on chain.", code="bill_not_found")
    return bill


def check_create_bill(ctx: ServiceContext, tx: Tx, merchant: str, amount: int) -> None:
    """``create_bill``: "Merchant not approved", then "Invalid amount" (≤ 0)."""
    data = ctx.chain.read_optional("bnpl_core", "get_merchant", [merchant], tx=tx)
    if not isinstance(data, dict) or data.get("status") != "Approved":
        raise ChainRefused("Merchant not approved", code="merchant_not_approved")
    if amount <= 0:
        raise ChainRefused("Invalid amount", code="invalid_amount")


def check_pay(ctx: ServiceContext, tx: Tx, bill_number: int) -> dict[str, Any]:
    """``pay_bill_bnpl``: "Bill not payable", "Bill expired", "Insufficient collateral".

    Returns the chain's bill."""
    bill = _bill(ctx, tx, bill_number)
    if bill["status"] != "Created":
        raise ChainRefused("Bill not payable", code="bill_not_payable")
    if ctx.chain.now(tx) > int(bill["created_at"]) + ctx.constants.bill_duration:
        raise ChainRefused("Bill expired", code="bill_expired")
    check_collateral(ctx, tx, bill["user"], int(bill["principal"]))
    return bill


def check_collateral(ctx: ServiceContext, tx: Tx, user: str, amount: int) -> None:
    """``pay_bill_bnpl``'s "Insufficient collateral": *user* can borrow less than *amount*
    (also asked before a bill exists, so no bill is made for a wallet that cannot pay)."""
    power = ctx.chain.read("bnpl_core", "get_user_borrowing_power", [user], tx=tx)
    if int(power["available_borrowing"]) < amount:
        raise ChainRefused("Insufficient collateral", code="insufficient_collateral")


def check_repay(ctx: ServiceContext, tx: Tx, bill_number: int) -> int:
    """``repay_bill``: "Bill not paid". Returns what it will pull: principal + late fee
    (from ``created_at``, as the contract computes it)."""
    bill = _bill(ctx, tx, bill_number)
    if bill["status"] != "Paid":
        raise ChainRefused("Bill not paid", code="bill_not_paid")
    principal = int(bill["principal"])
    now = ctx.chain.now(tx)
    return principal + late_fee(principal, int(bill["created_at"]), now, ctx.constants)


def check_liquidate(ctx: ServiceContext, tx: Tx, bill_number: int, liquidator: str) -> None:
    """``liquidate_bill``: "Not LP token holder", "Grace period not expired",
    "Liquidation not possible", then the pool's "insufficient balance for liquidation"
    (the customer's LP balance below principal + late fee + penalty).

    Not decided here: a principal under 200 units, whose liquidator half of the 1 %
    penalty rounds to 0, traps on USDC's refusal of the zero transfer, on both
    gateways alike; the relay reports it as ``contract_trapped``."""
    if int(ctx.chain.read("lp_token", "balance", [liquidator], tx=tx)) == 0:
        raise ChainRefused("Not LP token holder", code="not_lp_token_holder")
    bill = _bill(ctx, tx, bill_number)
    c = ctx.constants
    now = ctx.chain.now(tx)
    if now < int(bill["created_at"]) + c.liquidation_after:
        raise ChainRefused("Grace period not expired", code="grace_period_not_expired")
    if bill["status"] not in ("Paid", "Overdue"):
        raise ChainRefused("Liquidation not possible", code="liquidation_not_possible")
    principal = int(bill["principal"])
    owed = (
        principal
        + late_fee(principal, int(bill["created_at"]), now, c)
        + principal * c.liquidation_penalty // SCALE
    )
    if int(ctx.chain.read("lp_token", "balance", [bill["user"]], tx=tx)) < owed:
        raise ChainRefused("insufficient balance for liquidation", code="insufficient_balance")
