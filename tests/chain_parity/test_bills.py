"""bnpl_core bill lives, numbers computed by hand from PROTOCOL.md's formulas.

The chain may be shared (over ``soroban`` it is the session's): times are counted from
the bill's own records, balances compared before and after. A refusal is what a real
network reports, (code, name, trapped) of the contract called; the local engine's panic
string is checked too, there only.
"""

from __future__ import annotations

import pytest
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import AUTH_FAILED

from .parity_support import DAY, USDC, Chain

BILL = 1_000 * USDC  # 10_000_000_000
MISSING = 999_999_999
"""A bill id no test creates, even on a shared chain."""


def account(chain: Chain) -> Keypair:
    """A new account on the chain, with nothing: no USDC, no LP."""
    kp = Keypair.random()
    chain.sandbox.fund_wallet(kp)
    return kp


def test_create_bill_returns_counter_and_emits_bill_new(chain: Chain) -> None:
    user, m = chain.borrower(), chain.merchant.public_key
    rec = chain.create(user, BILL, "order-9")
    bill_id = rec.result
    assert isinstance(bill_id, int) and bill_id >= 1
    assert chain.bill(user, 5 * USDC) == bill_id + 1
    (event,) = rec.events
    assert event.contract == "bnpl_core"
    assert event.topics == ("bill_new", m, bill_id)
    assert event.data == {
        "bill_id": bill_id,
        "merchant": m,
        "user": user.public_key,
        "amount": BILL,
        "order_id": "order-9",
        "created_at": rec.timestamp,
    }
    assert chain.get_bill(bill_id) == {
        "id": bill_id,
        "merchant": m,
        "user": user.public_key,
        "principal": BILL,
        "status": "Created",
        "order_id": "order-9",
        "created_at": rec.timestamp,
        "paid_at": 0,
    }


def test_pay_moves_money_and_splits_the_merchant_fee(chain: Chain) -> None:
    user = chain.borrower()
    cfg = chain.config()
    pool, core = chain.id("lp_token"), chain.id("bnpl_core")
    watched = (cfg["treasury"], cfg["insurance_fund"], pool, core)
    before = {a: chain.usdc(a) for a in watched}
    borrowed = chain.read("lp_token", "total_borrowed")
    index = chain.read("lp_token", "exchange_rate")
    supply = chain.read("lp_token", "total_raw_shares")
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.at(created.timestamp + 3600)
    rec = chain.pay(bill_id, user)

    # fee = 10_000_000_000 * 150_000 // 10_000_000 = 150_000_000 (1.5 %)
    assert chain.usdc(chain.merchant.public_key) == 9_850_000_000
    assert {a: chain.usdc(a) - before[a] for a in watched} == {
        cfg["treasury"]: 30_000_000,  # 20 %
        cfg["insurance_fund"]: 15_000_000,  # 10 %
        pool: -10_000_000_000 + 105_000_000,  # 70 % back to LPs
        core: 0,  # no dust on an exact split
    }
    assert chain.read("lp_token", "total_borrowed") == borrowed + BILL
    # The LP part raises the index: total assets grew by 105_000_000 over the same shares.
    assert chain.read("lp_token", "total_raw_shares") == supply
    assets = chain.read("lp_token", "total_underlying") + borrowed + BILL
    assert chain.read("lp_token", "exchange_rate") == assets * 10**9 // supply > index
    bill = chain.get_bill(bill_id)
    assert (bill["status"], bill["paid_at"]) == ("Paid", rec.timestamp)
    assert rec.timestamp >= created.timestamp + 3600
    assert chain.read("bnpl_core", "get_user_bills", user.public_key) == [bill_id]
    assert rec.events[-1].topics == ("payment", user.public_key, bill_id)
    assert rec.events[-1].data == {
        "bill_id": bill_id,
        "user": user.public_key,
        "merchant": chain.merchant.public_key,
        "total_paid": BILL,
    }
    names = [(e.contract, e.name) for e in rec.events]
    assert names == [
        ("usdc", "transfer"),  # pool -> bnpl_core
        ("lp_token", "borrow"),
        ("usdc", "transfer"),  # bnpl_core -> merchant
        ("usdc", "transfer"),  # treasury
        ("usdc", "transfer"),  # insurance
        ("usdc", "transfer"),  # LP share of the fee -> pool
        ("bnpl_core", "payment"),
    ]


def test_repay_twenty_days_after_creation_charges_six_days(chain: Chain) -> None:
    user = chain.borrower()
    cfg = chain.config()
    core = chain.id("bnpl_core")
    created = chain.create(user, BILL)
    bill_id, t0 = int(created.result), created.timestamp
    chain.at(t0 + 3600)  # paid an hour after creation
    chain.pay(bill_id, user)
    chain.at(t0 + 20 * DAY)
    # repay_bill counts from created_at: (20 - 14) = 6 whole days.
    late_fee = BILL * 3_000_000 * 6 // 3_650_000_000
    assert late_fee == 49_315_068
    # get_user_total_debt counts from paid_at: 20 days - 1 h - 14 days = 5 whole days.
    assert chain.read("bnpl_core", "get_user_total_debt", user.public_key) == (
        BILL * 3_000_000 * 5 // 3_650_000_000,
        BILL,
    )
    usdc_before = chain.usdc(user.public_key)
    treasury_before, core_before = chain.usdc(cfg["treasury"]), chain.usdc(core)
    borrowed = chain.read("lp_token", "total_borrowed")
    rec = chain.repay(bill_id, user)
    assert chain.usdc(user.public_key) == usdc_before - BILL - 49_315_068
    assert chain.usdc(cfg["treasury"]) - treasury_before == 9_863_013  # 49_315_068 * 20 %
    # Dust of the late-fee split stays in bnpl_core: 49_315_068 - 9_863_013 - 4_931_506 - 34_520_547
    assert chain.usdc(core) - core_before == 2
    assert chain.read("lp_token", "total_borrowed") == borrowed - BILL
    assert chain.bill_status(bill_id) == "Repaid"
    assert chain.read("bnpl_core", "get_user_bills", user.public_key) == []
    assert rec.events[-1].topics == ("repayment", user.public_key, bill_id)
    assert rec.events[-1].data == {
        "bill_id": bill_id,
        "user": user.public_key,
        "amount_paid": BILL,
        "timestamp": rec.timestamp,
    }


@pytest.mark.parametrize(
    ("elapsed", "fee"),
    [
        (14 * DAY, 0),  # the grace period itself
        (15 * DAY - 60, 0),  # not yet a whole day past it (to the second: test_engine_bills)
        (15 * DAY, 10_000_000_000 * 3_000_000 * 1 // 3_650_000_000),  # 8_219_178
        (45 * DAY + 5, 10_000_000_000 * 3_000_000 * 31 // 3_650_000_000),
    ],
)
def test_late_fee_boundaries(chain: Chain, elapsed: int, fee: int) -> None:
    user = chain.borrower()
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + elapsed)
    before = chain.usdc(user.public_key)
    chain.repay(bill_id, user)
    assert before - chain.usdc(user.public_key) == BILL + fee


def test_liquidation_after_29_days(chain: Chain) -> None:
    user, liquidator = chain.borrower(), chain.sandbox.liquidator()
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + 29 * DAY)
    index = chain.read("lp_token", "exchange_rate")
    shares_before = chain.read("lp_token", "raw_shares", user.public_key)
    liq_usdc_before = chain.usdc(liquidator.public_key)
    borrowed = chain.read("lp_token", "total_borrowed")
    rec = chain.liquidate(bill_id, liquidator)
    late_fee = BILL * 3_000_000 * 15 // 3_650_000_000  # from created_at: 29 - 14 days
    penalty = BILL * 100_000 // 10_000_000  # 1 %
    assert (late_fee, penalty) == (123_287_671, 100_000_000)
    total = BILL + late_fee + penalty
    assert rec.events[-1].topics == ("liquidate", liquidator.public_key, bill_id)
    assert rec.events[-1].data == {
        "bill_id": bill_id,
        "liquidator": liquidator.public_key,
        "total_liquidated": total,
    }
    burned = total * 10**9 // index
    assert chain.read("lp_token", "raw_shares", user.public_key) == shares_before - burned
    assert chain.usdc(liquidator.public_key) - liq_usdc_before == penalty // 2
    assert chain.bill_status(bill_id) == "Liquidated"
    assert chain.read("lp_token", "total_borrowed") == borrowed - BILL
    assert chain.read("bnpl_core", "get_user_bills", user.public_key) == []
    burn = next(e for e in rec.events if e.name == "liq_burn")
    assert burn.data == {"user": user.public_key, "amount_burned": total, "fee": late_fee + penalty}


def test_liquidation_fee_split(chain: Chain) -> None:
    user, liquidator = chain.borrower(), chain.sandbox.liquidator()
    cfg = chain.config()
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + 29 * DAY)
    treasury_before = chain.usdc(cfg["treasury"])
    insurance_before = chain.usdc(cfg["insurance_fund"])
    chain.liquidate(bill_id, liquidator)
    distributed = 50_000_000 + 123_287_671  # penalty / 2 + late fee
    assert chain.usdc(cfg["treasury"]) - treasury_before == distributed * 2 // 10  # 34_657_534
    assert chain.usdc(cfg["insurance_fund"]) - insurance_before == distributed // 10  # 17_328_767


def test_liquidation_from_28_days_after_creation(chain: Chain) -> None:
    user, liq = chain.borrower(), chain.sandbox.liquidator()
    created = chain.create(user, BILL)
    bill_id = int(created.result)
    chain.pay(bill_id, user)
    chain.at(created.timestamp + 28 * DAY - 60)  # to the second: test_engine_bills
    with chain.refused(message="Grace period not expired"):
        chain.liquidate(bill_id, liq)
    assert chain.bill_status(bill_id) == "Paid"
    chain.at(created.timestamp + 28 * DAY)
    chain.liquidate(bill_id, liq)
    assert chain.bill_status(bill_id) == "Liquidated"


def test_bill_expires_one_day_after_creation(chain: Chain) -> None:
    user = chain.borrower()
    first, second = chain.create(user, BILL), chain.create(user, BILL)
    chain.at(first.timestamp + DAY - 60)  # still payable (to the second: test_engine_bills)
    chain.pay(int(first.result), user)
    chain.at(second.timestamp + DAY + 1)
    with chain.refused(message="Bill expired"):
        chain.pay(int(second.result), user)
    assert chain.bill_status(int(second.result)) == "Created"  # the contract never writes Expired


def test_pay_refusals(chain: Chain) -> None:
    user = chain.borrower()
    with chain.refused(message="Bill not found"):  # a trap, not BillNotFound (20)
        chain.pay(MISSING, user)
    bill_id = chain.bill(user, BILL)
    with chain.refused(name=AUTH_FAILED):
        chain.gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=chain.merchant)
    chain.pay(bill_id, user)
    with chain.refused(message="Bill not payable"):
        chain.pay(bill_id, user)


def test_decline_wallet_has_no_collateral(chain: Chain) -> None:
    decline = chain.wallet("decline")
    bill_id = chain.bill(decline, 1)
    with chain.refused(message="Insufficient collateral"):
        chain.pay(bill_id, decline)
    assert chain.bill_status(bill_id) == "Created"


def test_limited_wallet_borrows_exactly_100_usdc(chain: Chain) -> None:
    limited = chain.wallet("limited")
    power = chain.read("bnpl_core", "get_user_borrowing_power", limited.public_key)
    assert power == {
        "lp_balance": power["lp_balance"],
        "max_borrowing": 100 * USDC,  # lp_balance * 90 // 100
        "current_borrowed": 0,
        "current_debt": 0,
        "available_borrowing": 100 * USDC,
        "required_collateral": 0,
        "overall_health_factor": 1,
    }
    assert power["lp_balance"] * 90 // 100 == 100 * USDC
    too_much = chain.bill(limited, 100 * USDC + 1)
    with chain.refused(message="Insufficient collateral"):
        chain.pay(too_much, limited)
    exact = chain.bill(limited, 100 * USDC)
    chain.pay(exact, limited)
    power = chain.read("bnpl_core", "get_user_borrowing_power", limited.public_key)
    assert power["current_debt"] == 100 * USDC
    assert power["available_borrowing"] == power["max_borrowing"] - 100 * USDC
    assert power["required_collateral"] == 100 * USDC * 11_100_000 // 10_000_000
    assert power["overall_health_factor"] == power["max_borrowing"] // (100 * USDC)


def test_create_bill_refusals(chain: Chain) -> None:
    user, m = chain.borrower(), chain.merchant
    with chain.refused(message="Invalid amount"):
        chain.bill(user, 0)
    with chain.refused(message="Invalid amount"):
        chain.bill(user, -5)
    with chain.refused(name=AUTH_FAILED):
        chain.gw.invoke(
            "bnpl_core", "create_bill", [m.public_key, user.public_key, 1, "x"], signer=user
        )
    stranger = account(chain)
    args = [stranger.public_key, user.public_key, 1, "x"]
    with chain.refused(message="Merchant not approved"):
        chain.gw.invoke("bnpl_core", "create_bill", args, signer=stranger)
    chain.gw.invoke("bnpl_core", "enroll_merchant", [stranger.public_key, "mi_2"], signer=stranger)
    with chain.refused(message="Merchant not approved"):  # Pending is not Approved
        chain.gw.invoke("bnpl_core", "create_bill", args, signer=stranger)


def test_repay_refusals(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    with chain.refused(message="Bill not paid"):
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
    chain.pay(bill_id, user)
    chain.allow(bill_id, user)
    with chain.refused(name=AUTH_FAILED):  # only the signer is wrong (else: differences)
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=chain.merchant)
    chain.repay(bill_id, user)
    with chain.refused(message="Bill not paid"):
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)


def test_repay_without_usdc_is_refused_by_the_token(chain: Chain) -> None:
    poor = chain.borrower(usdc=0, lp_deposit=10_000 * USDC)  # collateral, no spendable USDC
    bill_id = chain.bill(poor, BILL)
    chain.pay(bill_id, poor)
    chain.allow(bill_id, poor)
    with chain.refused(contract=None, message="Insufficient balance"):
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=poor)
    assert chain.bill_status(bill_id) == "Paid"


def test_repay_pulls_with_transfer_from_and_needs_the_users_approval(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    chain.pay(bill_id, user)
    with chain.refused(contract=None, message="Insufficient allowance"):
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)  # no approve first
    core = chain.id("bnpl_core")
    chain.gw.invoke("usdc", "approve", [user.public_key, core, BILL - 1, 0], signer=user)
    with chain.refused(contract=None, message="Insufficient allowance"):
        chain.gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)  # one stroop short
    assert chain.bill_status(bill_id) == "Paid"
    chain.repay(bill_id, user)
    assert chain.read("usdc", "allowance", user.public_key, core) == 0  # all spent
    assert chain.bill_status(bill_id) == "Repaid"


def test_liquidate_refusals(chain: Chain) -> None:
    user, liq = chain.borrower(), chain.sandbox.liquidator()
    nobody = account(chain)
    created = chain.create(user, BILL)
    repaid = chain.bill(user, BILL)
    chain.pay(repaid, user)
    chain.repay(repaid, user)
    with chain.refused(message="Not LP token holder"):
        chain.liquidate(repaid, nobody)
    with chain.refused(message="Bill not found"):
        chain.liquidate(MISSING, liq)
    paid = chain.bill(user, BILL)
    chain.pay(paid, user)
    chain.at(created.timestamp + 30 * DAY)
    for bill_id in (int(created.result), repaid):
        with chain.refused(message="Liquidation not possible"):
            chain.liquidate(bill_id, liq)
    with chain.refused(name=AUTH_FAILED):  # only the signer is wrong (else: differences)
        chain.gw.invoke("bnpl_core", "liquidate_bill", [paid, liq.public_key], signer=user)
    chain.liquidate(paid, liq)
