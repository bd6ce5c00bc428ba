"""Each call's contract events, in order, exactly as the deployed contracts emit them
(SOROBAN.md §6): USDC transfers and approvals, lp_token borrow/repay/liq_burn, then the
bnpl_core event; lp_token emits nothing for transfer, approve, mint or burn."""

from __future__ import annotations

from typing import Any

from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import TxRecord

from .parity_support import DAY, USDC, Chain

BILL = 1_000 * USDC


def shape(rec: TxRecord) -> list[tuple[Any, ...]]:
    return [(e.contract, *e.topics) for e in rec.events]


def test_pay_bill_bnpl(chain: Chain) -> None:
    user, m = chain.borrower(), chain.merchant
    cfg = chain.config()
    core, lp = chain.id("bnpl_core"), chain.id("lp_token")
    bill_id = chain.bill(user, BILL)
    rec = chain.pay(bill_id, user)
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


def test_repay_bill(chain: Chain) -> None:
    user = chain.borrower()
    cfg = chain.config()
    core, lp = chain.id("bnpl_core"), chain.id("lp_token")
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + 20 * DAY)
    owed = chain.allow(bill_id, user)
    rec = chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
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


def test_repay_on_time_has_no_fee_split(chain: Chain) -> None:
    user = chain.borrower()
    core, lp = chain.id("bnpl_core"), chain.id("lp_token")
    bill_id = chain.bill(user, BILL)
    chain.pay(bill_id, user)
    rec = chain.repay(bill_id, user)
    assert [(e.contract, e.name) for e in rec.events] == [
        ("usdc", "transfer"),
        ("usdc", "approve"),
        ("usdc", "transfer"),
        ("lp_token", "repay"),
        ("bnpl_core", "repayment"),
    ]
    assert rec.events[1].topics == ("approve", core, lp)


def test_liquidate_bill(chain: Chain) -> None:
    user, liq = chain.borrower(), chain.sandbox.liquidator()
    cfg = chain.config()
    core, lp = chain.id("bnpl_core"), chain.id("lp_token")
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + 30 * DAY)
    rec = chain.liquidate(bill_id, liq)
    assert shape(rec) == [
        ("usdc", "transfer", lp, core),
        ("lp_token", "liq_burn", user.public_key),
        ("usdc", "transfer", core, liq.public_key),
        ("usdc", "transfer", core, cfg["treasury"]),
        ("usdc", "transfer", core, cfg["insurance_fund"]),
        ("usdc", "transfer", core, lp),
        ("bnpl_core", "liquidate", liq.public_key, bill_id),
    ]


def test_deposit_withdraw_and_silent_lp_transfers(chain: Chain) -> None:
    user, other = chain.borrower(lp_deposit=0), Keypair.random()
    lp = chain.id("lp_token")
    u = user.public_key
    rec = chain.gw.invoke("lp_token", "deposit", [u, 5 * USDC], signer=user)
    assert shape(rec) == [("usdc", "transfer", u, lp), ("lp_token", "deposit", u)]
    rec = chain.gw.invoke("lp_token", "withdraw", [u, 2 * USDC], signer=user)
    assert shape(rec) == [("usdc", "transfer", lp, u), ("lp_token", "withdraw", u)]
    rec = chain.gw.invoke("lp_token", "transfer", [u, other.public_key, USDC], signer=user)
    assert rec.events == ()
