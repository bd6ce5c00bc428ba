"""Sandbox wallets, and acting as a customer or liquidator with them.

Funding a wallet, topping one up to repay and liquidating as the genesis liquidity
provider are sandbox powers (``ctx.sandbox``); on a real chain they are refused
with ``sandbox_only``.

Every merchant pays with its own copies of the built-in wallets (``approve``,
``decline``, ``limited``), funded as the genesis ones are when the merchant is made
(:func:`provide_builtin_wallets`): one merchant spending ``approve``'s borrowing power
down, or ``limited``'s 100 USDC, leaves every other merchant's untouched.
"""

from __future__ import annotations

from typing import Any

from stellar_sdk import Keypair

from .._ids import new_id
from ..chain import INDEX_SCALE, WALLET_NAMES, builtin_wallet_funds, deposit_for_balance
from ..db import Row, Tx
from ..store import bills as bill_store
from ..store import merchants as merchant_store
from ..store import wallets as wallet_store
from . import events
from .bills import check_customer, require_on_chain, require_payable
from .context import RequestInfo, ServiceContext
from .errors import InvalidRequest, NotFound
from .objects import bill_object
from .preconditions import check_liquidate, check_pay, check_repay

__all__ = [
    "act_on_bill",
    "create_wallet",
    "holds_key",
    "install_builtin_wallets",
    "liquidate_as",
    "list_wallets",
    "pay_with_wallet",
    "provide_builtin_wallets",
    "repay_as_wallet",
    "resolve_wallet",
    "retrieve_wallet",
]

_DEFAULT_COLLATERAL = 10_000 * 10_000_000
_APPROVAL_EXPIRATION_LEDGER = 2**32 - 1
"""``expiration_ledger`` of the repayment approval: the deployed USDC test token stores
and checks none (SOROBAN.md §4), so any u32 will do; the largest says "no expiry"."""


def install_builtin_wallets(ctx: ServiceContext, tx: Tx, wallets: dict[str, Keypair]) -> None:
    """Record the genesis wallets (``approve``, ``decline``, ``limited``) once, and give
    every merchant made before merchants had their own copies of them its copies."""
    for name, kp in wallets.items():
        if wallet_store.builtin_wallet_id(tx, name) is None:
            wallet_store.insert_wallet(
                tx,
                wallet_id=new_id("wal"),
                merchant_id=None,
                name=name,
                address=kp.public_key,
                seed_encrypted=ctx.box.seal(kp.secret),
                created=ctx.chain.now(tx),
            )
    for merchant_id in wallet_store.merchants_without_copies(tx):
        provide_builtin_wallets(ctx, tx, merchant_id)


def provide_builtin_wallets(ctx: ServiceContext, tx: Tx, merchant_id: str) -> None:
    """Fund and record the merchant's own ``approve``, ``decline`` and ``limited`` (those
    it lacks), with the balances of the genesis ones; nothing on a real chain.

    The merchant's row is locked first, so two requests never make two copies."""
    sandbox = ctx.sandbox
    if sandbox is None or merchant_store.get_merchant(tx, merchant_id, lock=True) is None:
        return
    missing = [n for n in WALLET_NAMES if n not in wallet_store.builtin_copies(tx, merchant_id)]
    if not missing:
        return
    funds = builtin_wallet_funds(ctx.constants)
    index = _share_index(ctx, tx)
    for name in missing:
        usdc, lp_balance = funds[name]
        kp = Keypair.random()
        deposit = deposit_for_balance(lp_balance, index) if lp_balance else 0
        sandbox.fund_wallet(kp, usdc=usdc, lp_deposit=deposit, tx=tx)
        wallet_store.insert_wallet(
            tx,
            wallet_id=new_id("wal"),
            merchant_id=merchant_id,
            name=name,
            address=kp.public_key,
            seed_encrypted=ctx.box.seal(kp.secret),
            created=ctx.chain.now(tx),
            builtin=name,
        )


def _share_index(ctx: ServiceContext, tx: Tx) -> int:
    """The index a deposit buys LP shares at: lp_token's ``exchange_rate`` as its
    ``update_index`` raises it first (to the pool's assets per share, when fees grew
    them), so ``limited`` gets exactly its borrowing power on an older sandbox too."""

    def read(function: str) -> int:
        return int(ctx.chain.read("lp_token", function, [], tx=tx))

    index, supply = read("exchange_rate"), read("total_raw_shares")
    assets = read("total_underlying") + read("total_borrowed")
    if supply and assets > supply * index // INDEX_SCALE:
        index = assets * INDEX_SCALE // supply
    return index


def _power(ctx: ServiceContext, tx: Tx, address: str) -> dict[str, Any]:
    power = ctx.chain.read("bnpl_core", "get_user_borrowing_power", [address], tx=tx)
    return dict(power) if isinstance(power, dict) else {}


def _object(ctx: ServiceContext, tx: Tx, row: Row) -> dict[str, Any]:
    from .objects import wallet_object

    return wallet_object(row, _power(ctx, tx, row["address"]))


def resolve_wallet(tx: Tx, merchant_id: str, ref: str, *, param: str = "wallet") -> Row:
    """A wallet by id or name, or a 400 naming *param*."""
    row = wallet_store.find_wallet(tx, merchant_id, ref)
    if row is None:
        raise InvalidRequest(f"No such wallet: '{ref}'", code="resource_missing", param=param)
    return row


def create_wallet(
    ctx: ServiceContext,
    merchant_id: str,
    name: str | None,
    collateral: int | None,
    *,
    external: bool = False,
) -> dict[str, Any]:
    """A fresh funded customer with *collateral* stroops of LP tokens (default 10,000 USDC).

    An *external* wallet signs for itself, in the shopper's browser wallet: the sandbox
    uses its key to fund it and nothing else, keeps no seed for it, and hands the seed out
    in this answer only (``secret_seed``; a sandbox test key)."""
    sandbox = ctx.require_sandbox("Funding a test wallet")
    kp = Keypair.random()
    wallet_id = new_id("wal")
    lp = _DEFAULT_COLLATERAL if collateral is None else collateral
    with ctx.db.transaction() as tx:
        sandbox.fund_wallet(kp, usdc=lp + _DEFAULT_COLLATERAL, lp_deposit=lp, tx=tx)
        wallet_store.insert_wallet(
            tx,
            wallet_id=wallet_id,
            merchant_id=merchant_id,
            name=name or wallet_id,
            address=kp.public_key,
            seed_encrypted="" if external else ctx.box.seal(kp.secret),
            created=ctx.chain.now(tx),
            external=external,
        )
        row = resolve_wallet(tx, merchant_id, wallet_id)
        obj = _object(ctx, tx, row)
    if external:
        obj["secret_seed"] = kp.secret
    return obj


def holds_key(wallet: Row) -> bool:
    """Whether the sandbox signs for *wallet* (an external wallet signs for itself)."""
    return not wallet["external"] and bool(wallet["seed_encrypted"])


def _signer(ctx: ServiceContext, wallet: Row) -> Keypair:
    """The key the sandbox signs with as *wallet*; an external wallet has none here."""
    if not holds_key(wallet):
        raise InvalidRequest(
            "This wallet signs for itself: pay or repay from that wallet (the hosted page's"
            " 'Pay with your Stellar wallet').",
            code="wallet_external",
            param="wallet",
        )
    return ctx.keypair(wallet["address"], wallet["seed_encrypted"])


def list_wallets(ctx: ServiceContext, merchant_id: str) -> list[dict[str, Any]]:
    """Built-in wallets, then the merchant's own."""
    with ctx.db.transaction(write=False) as tx:
        return [_object(ctx, tx, r) for r in wallet_store.list_wallets(tx, merchant_id)]


def retrieve_wallet(ctx: ServiceContext, merchant_id: str, ref: str) -> dict[str, Any]:
    """One wallet by id or name."""
    with ctx.db.transaction(write=False) as tx:
        row = wallet_store.find_wallet(tx, merchant_id, ref)
        if row is None:
            raise NotFound(f"No such wallet: '{ref}'", param="id")
        return _object(ctx, tx, row)


def pay_with_wallet(
    ctx: ServiceContext, tx: Tx, bill: Row, wallet: Row, request: RequestInfo | None
) -> None:
    """Relay ``pay_bill_bnpl`` as the wallet, inside *tx*."""
    require_payable(bill)
    check_customer(bill, wallet["address"])
    kp = _signer(ctx, wallet)
    number = require_on_chain(bill)
    check_pay(ctx, tx, number)
    record = ctx.chain.invoke("bnpl_core", "pay_bill_bnpl", [number], signer=kp, tx=tx)
    events.ingest(ctx, tx, record.events, request, known=bill, fresh=record.fresh)


def repay_as_wallet(
    ctx: ServiceContext, tx: Tx, bill: Row, wallet: Row, request: RequestInfo | None
) -> None:
    """Relay ``repay_bill`` as the sandbox *wallet* (the bill's customer), inside *tx*:
    the wallet is given what it owes, approves bnpl_core for it, then repays."""
    sandbox = ctx.require_sandbox("Repaying as a test wallet")
    number = require_on_chain(bill)
    kp = _signer(ctx, wallet)
    owed = check_repay(ctx, tx, number)
    # The customer spent nothing when paying (the pool did); give the sandbox
    # wallet what it owes so a repayment never fails for want of USDC.
    sandbox.fund_wallet(kp, usdc=owed, tx=tx)
    # As deployed, repay_bill pulls principal + late fee with transfer_from: the
    # wallet first approves bnpl_core for it, in a separate call it signs.
    approval = ctx.chain.invoke(
        "usdc",
        "approve",
        [kp.public_key, ctx.contract_id, owed, _APPROVAL_EXPIRATION_LEDGER],
        signer=kp,
        tx=tx,
    )
    events.ingest(ctx, tx, approval.events, request, fresh=approval.fresh)
    record = ctx.chain.invoke("bnpl_core", "repay_bill", [number], signer=kp, tx=tx)
    events.ingest(ctx, tx, record.events, request, known=bill, fresh=record.fresh)


def liquidate_as(
    ctx: ServiceContext, tx: Tx, bill: Row, liquidator: Keypair, request: RequestInfo | None
) -> None:
    """Relay ``liquidate_bill`` for *bill* as *liquidator* (an LP holder), inside *tx*."""
    number = require_on_chain(bill)
    check_liquidate(ctx, tx, number, liquidator.public_key)
    record = ctx.chain.invoke(
        "bnpl_core", "liquidate_bill", [number, liquidator.public_key], signer=liquidator, tx=tx
    )
    events.ingest(ctx, tx, record.events, request, known=bill, fresh=record.fresh)


def act_on_bill(
    ctx: ServiceContext,
    merchant_id: str,
    bill_id: str,
    action: str,
    wallet_ref: str | None,
    request: RequestInfo,
) -> dict[str, Any]:
    """Test helper: ``pay`` / ``repay`` as the customer's wallet, or ``liquidate``."""
    with ctx.db.transaction() as tx:
        bill = bill_store.get_bill(tx, merchant_id, bill_id, lock=True)
        if bill is None:
            raise NotFound(f"No such bill: '{bill_id}'", param="id")
        require_on_chain(bill)
        if action == "pay":
            if wallet_ref is None:
                raise InvalidRequest(
                    "Missing required param: wallet.", code="parameter_missing", param="wallet"
                )
            pay_with_wallet(ctx, tx, bill, resolve_wallet(tx, merchant_id, wallet_ref), request)
        elif action == "repay":
            ctx.require_sandbox("Repaying as a test wallet")  # before the wallet is looked up
            repay_as_wallet(
                ctx, tx, bill, _customer_wallet(tx, merchant_id, bill, wallet_ref), request
            )
        else:
            if wallet_ref is not None:
                chosen = resolve_wallet(tx, merchant_id, wallet_ref)
                liquidator = _signer(ctx, chosen)
            else:
                sandbox = ctx.require_sandbox("Liquidating as the liquidity provider")
                liquidator = sandbox.liquidator(tx=tx)
            liquidate_as(ctx, tx, bill, liquidator, request)
        row = bill_store.get_bill(tx, merchant_id, bill_id)
        assert row is not None
        return bill_object(row, ctx.chain.now(tx), ctx.constants)


def _customer_wallet(tx: Tx, merchant_id: str, bill: Row, ref: str | None) -> Row:
    if ref is not None:
        wallet = resolve_wallet(tx, merchant_id, ref)
        check_customer(bill, wallet["address"])
        return wallet
    found = wallet_store.customer_wallet(tx, merchant_id, bill["customer"])
    if found is None:
        raise InvalidRequest(
            "The bill's customer is not a sandbox wallet.",
            code="wallet_not_customer",
            param="wallet",
        )
    return found
