"""Each call's contract events, in order, exactly as the deployed contracts emit them
(SOROBAN.md §6): USDC transfers and approvals, lp_token borrow/repay/liq_burn, then the
bnpl_core event; lp_token emits nothing for transfer, approve, mint or burn."""

from __future__ import annotations

from typing import Any

from engine_support import DAY, USDC, World
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import TxRecord

BILL = 1_000 * USDC


def shape(rec: TxRecord) -> list[tuple[Any, ...]]:
    return [(e.contract, *e.topics) for e in rec.events]


def test_pay_bill_bnpl(world: World) -> None:
    gw, user = world.gw, world.approve
    cfg = gw.read("bnpl_core", "get_config")
    core, lp, m = gw.contract_id("bnpl_core"), gw.contract_id("lp_token"), world.merchant
    bill_id = world.bill(user, BILL)
    rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
    assert shape(rec) == [
        ("usdc", "transfer", lp, core),
        ("lp_token", "borrow", core),
        ("usdc", "transfer", core, m.public_key),
        ("usdc", "transfer", core, cfg["treasury"]),
        ("usdc", "transfer", core, cfg["insurance_fund"]),
        ("usdc", "transfer", core, lp),
        ("bnpl_core", "payment", user.public_key, bill_id),
    ]
    assert [e.data for e in rec.events[:4]] == [
        BILL,
        {"borrower": core, "amount": BILL},
        BILL - BILL * 150_000 // 10_000_000,
        BILL * 150_000 // 10_000_000 * 2 // 10,
    ]


def test_repay_bill(world: World) -> None:
    gw, user = world.gw, world.approve
    cfg = gw.read("bnpl_core", "get_config")
    core, lp = gw.contract_id("bnpl_core"), gw.contract_id("lp_token")
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(20 * DAY)
    owed = world.allow(bill_id, user)
    rec = gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
    assert shape(rec) == [
        ("usdc", "transfer", user.public_key, core),
        ("usdc", "approve", core, lp),
        ("usdc", "transfer", core, lp),
        ("lp_token", "repay", core),
        ("usdc", "transfer", core, cfg["treasury"]),
        ("usdc", "transfer", core, cfg["insurance_fund"]),
        ("usdc", "transfer", core, lp),
        ("bnpl_core", "repayment", user.public_key, bill_id),
    ]
    assert [e.data for e in rec.events[:4]] == [
        owed,
        [owed, 200],
        BILL,
        {"repayer": core, "amount": BILL},
    ]


def test_repay_on_time_has_no_fee_split(world: World) -> None:
    gw, user = world.gw, world.approve
    core, lp = gw.contract_id("bnpl_core"), gw.contract_id("lp_token")
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    rec = world.repay(bill_id, user)
    assert [(e.contract, e.name) for e in rec.events] == [
        ("usdc", "transfer"),
        ("usdc", "approve"),
        ("usdc", "transfer"),
        ("lp_token", "repay"),
        ("bnpl_core", "repayment"),
    ]
    assert rec.events[1].topics == ("approve", core, lp)


def test_liquidate_bill(world: World) -> None:
    gw, user, liq = world.gw, world.approve, world.g.liquidity_provider
    cfg = gw.read("bnpl_core", "get_config")
    core, lp = gw.contract_id("bnpl_core"), gw.contract_id("lp_token")
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(30 * DAY)
    rec = gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    assert shape(rec) == [
        ("usdc", "transfer", lp, core),
        ("lp_token", "liq_burn", user.public_key),
        ("usdc", "transfer", core, liq.public_key),
        ("usdc", "transfer", core, cfg["treasury"]),
        ("usdc", "transfer", core, cfg["insurance_fund"]),
        ("usdc", "transfer", core, lp),
        ("bnpl_core", "liquidate", liq.public_key, bill_id),
    ]


def test_deposit_withdraw_and_silent_lp_transfers(world: World) -> None:
    gw, user, other = world.gw, world.approve, Keypair.random()
    lp = gw.contract_id("lp_token")
    u = user.public_key
    rec = gw.invoke("lp_token", "deposit", [u, 5 * USDC], signer=user)
    assert shape(rec) == [("usdc", "transfer", u, lp), ("lp_token", "deposit", u)]
    rec = gw.invoke("lp_token", "withdraw", [u, 2 * USDC], signer=user)
    assert shape(rec) == [("usdc", "transfer", lp, u), ("lp_token", "withdraw", u)]
    rec = gw.invoke("lp_token", "transfer", [u, other.public_key, USDC], signer=user)
    assert rec.events == ()
