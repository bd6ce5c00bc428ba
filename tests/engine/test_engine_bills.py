"""bnpl_core bill lives, numbers computed by hand from PROTOCOL.md's formulas."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import DAY, T0, USDC, World, reason_of
from engine_support import refused as refused_by
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import TRAPPED

BILL = 1_000 * USDC  # 10_000_000_000
POOL_SHARES = (
    10_000_000 * USDC + 1_000_000 * USDC + 1_111_111_112
)  # LP provider + approve + limited


def refused(reason: str, message: str | None = None) -> Any:
    """Every refusal in this file comes from bnpl_core itself."""
    return refused_by(reason, message, contract="bnpl_core")


def test_create_bill_returns_counter_and_emits_bill_new(world: World) -> None:
    user = world.approve
    rec = world.gw.invoke(
        "bnpl_core",
        "create_bill",
        [world.merchant.public_key, user.public_key, BILL, "order-9"],
        signer=world.merchant,
    )
    assert rec.result == 1
    assert world.bill(user, 5 * USDC) == 2
    (event,) = rec.events
    assert event.contract == "bnpl_core"
    assert event.topics == ("bill_new", world.merchant.public_key, 1)
    assert event.data == {
        "bill_id": 1,
        "merchant": world.merchant.public_key,
        "user": user.public_key,
        "amount": BILL,
        "order_id": "order-9",
        "created_at": T0,
    }
    assert world.gw.read("bnpl_core", "get_bill", [1]) == {
        "id": 1,
        "merchant": world.merchant.public_key,
        "user": user.public_key,
        "principal": BILL,
        "status": "Created",
        "order_id": "order-9",
        "created_at": T0,
        "paid_at": 0,
    }


def test_pay_moves_money_and_splits_the_merchant_fee(world: World) -> None:
    gw, user = world.gw, world.approve
    cfg = gw.read("bnpl_core", "get_config")
    pool = gw.contract_id("lp_token")
    pool_before = world.usdc(pool)
    bill_id = world.bill(user, BILL)
    gw.advance_clock(3600)
    rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)

    # fee = 10_000_000_000 * 150_000 // 10_000_000 = 150_000_000 (1.5 %)
    assert world.usdc(world.merchant.public_key) == 9_850_000_000
    assert world.usdc(cfg["treasury"]) == 30_000_000  # 20 %
    assert world.usdc(cfg["insurance_fund"]) == 15_000_000  # 10 %
    assert world.usdc(pool) == pool_before - 10_000_000_000 + 105_000_000  # 70 % back to LPs
    assert world.usdc(gw.contract_id("bnpl_core")) == 0  # no dust on an exact split
    assert gw.read("lp_token", "total_borrowed") == BILL
    # The LP part raises the index: total assets grew by 105_000_000 over the same shares.
    assert (
        gw.read("lp_token", "exchange_rate") == (POOL_SHARES + 105_000_000) * 10**9 // POOL_SHARES
    )
    bill = gw.read("bnpl_core", "get_bill", [bill_id])
    assert (bill["status"], bill["paid_at"]) == ("Paid", T0 + 3600)
    assert gw.read("bnpl_core", "get_user_bills", [user.public_key]) == [bill_id]
    assert rec.events[-1].topics == ("payment", user.public_key, bill_id)
    assert rec.events[-1].data == {
        "bill_id": bill_id,
        "user": user.public_key,
        "merchant": world.merchant.public_key,
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


def test_repay_twenty_days_after_creation_charges_six_days(world: World) -> None:
    gw, user = world.gw, world.approve
    cfg = gw.read("bnpl_core", "get_config")
    bill_id = world.bill(user, BILL)
    gw.advance_clock(3600)  # paid an hour after creation
    world.pay(bill_id, user)
    gw.advance_clock(20 * DAY - 3600)  # now = created_at + 20 days
    # repay_bill counts from created_at: (20 - 14) = 6 whole days.
    late_fee = BILL * 3_000_000 * 6 // 3_650_000_000
    assert late_fee == 49_315_068
    # get_user_total_debt counts from paid_at: 20 days - 1 h - 14 days = 5 whole days.
    assert gw.read("bnpl_core", "get_user_total_debt", [user.public_key]) == (
        BILL * 3_000_000 * 5 // 3_650_000_000,
        BILL,
    )
    usdc_before = world.usdc(user.public_key)
    treasury_before = world.usdc(cfg["treasury"])
    rec = world.repay(bill_id, user)
    assert world.usdc(user.public_key) == usdc_before - BILL - 49_315_068
    assert world.usdc(cfg["treasury"]) - treasury_before == 9_863_013  # 49_315_068 * 20 %
    # Dust of the late-fee split stays in bnpl_core: 49_315_068 - 9_863_013 - 4_931_506 - 34_520_547
    assert world.usdc(gw.contract_id("bnpl_core")) == 2
    assert gw.read("lp_token", "total_borrowed") == 0
    assert world.bill_status(bill_id) == "Repaid"
    assert gw.read("bnpl_core", "get_user_bills", [user.public_key]) == []
    assert rec.events[-1].topics == ("repayment", user.public_key, bill_id)
    assert rec.events[-1].data == {
        "bill_id": bill_id,
        "user": user.public_key,
        "amount_paid": BILL,
        "timestamp": T0 + 20 * DAY,
    }


@pytest.mark.parametrize(
    ("elapsed", "fee"),
    [
        (14 * DAY, 0),  # the grace period itself
        (15 * DAY - 1, 0),  # not yet a whole day past it
        (15 * DAY, 10_000_000_000 * 3_000_000 * 1 // 3_650_000_000),  # 8_219_178
        (45 * DAY + 5, 10_000_000_000 * 3_000_000 * 31 // 3_650_000_000),
    ],
)
def test_late_fee_boundaries(world: World, elapsed: int, fee: int) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(elapsed)
    before = world.usdc(user.public_key)
    world.repay(bill_id, user)
    assert before - world.usdc(user.public_key) == BILL + fee


def test_liquidation_after_29_days(world: World) -> None:
    gw, user, liquidator = world.gw, world.approve, world.g.liquidity_provider
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(29 * DAY)
    index = gw.read("lp_token", "exchange_rate")
    shares_before = gw.read("lp_token", "raw_shares", [user.public_key])
    liq_usdc_before = world.usdc(liquidator.public_key)
    rec = gw.invoke(
        "bnpl_core", "liquidate_bill", [bill_id, liquidator.public_key], signer=liquidator
    )
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
    assert gw.read("lp_token", "raw_shares", [user.public_key]) == shares_before - burned
    assert world.usdc(liquidator.public_key) - liq_usdc_before == penalty // 2
    assert world.bill_status(bill_id) == "Liquidated"
    assert gw.read("lp_token", "total_borrowed") == 0
    assert gw.read("bnpl_core", "get_user_bills", [user.public_key]) == []
    burn = next(e for e in rec.events if e.name == "liq_burn")
    assert burn.data == {"user": user.public_key, "amount_burned": total, "fee": late_fee + penalty}


def test_liquidation_fee_split(world: World) -> None:
    gw, user, liquidator = world.gw, world.approve, world.g.liquidity_provider
    cfg = gw.read("bnpl_core", "get_config")
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(29 * DAY)
    treasury_before = world.usdc(cfg["treasury"])
    insurance_before = world.usdc(cfg["insurance_fund"])
    gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liquidator.public_key], signer=liquidator)
    distributed = 50_000_000 + 123_287_671  # penalty / 2 + late fee
    assert world.usdc(cfg["treasury"]) - treasury_before == distributed * 2 // 10  # 34_657_534
    assert world.usdc(cfg["insurance_fund"]) - insurance_before == distributed // 10  # 17_328_767


def test_liquidation_exactly_at_28_days_is_allowed(world: World) -> None:
    gw, user, liq = world.gw, world.approve, world.g.liquidity_provider
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(28 * DAY - 1)
    with refused("grace_period_not_expired", "Grace period not expired") as e:
        gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    assert (e.value.code, reason_of(e.value)) == (0, "grace_period_not_expired")
    gw.advance_clock(1)
    gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    assert world.bill_status(bill_id) == "Liquidated"


def test_bill_expires_one_day_after_creation(world: World) -> None:
    gw, user = world.gw, world.approve
    first = world.bill(user, BILL)
    second = world.bill(user, BILL)
    gw.advance_clock(DAY)  # now == created_at + 1 day: still payable
    world.pay(first, user)
    gw.advance_clock(DAY)  # 2 days
    with refused("bill_expired", "Bill expired") as e:
        world.pay(second, user)
    assert (e.value.code, e.value.name, reason_of(e.value)) == (0, TRAPPED, "bill_expired")
    assert world.bill_status(second) == "Created"  # the contract never writes Expired


def test_pay_refusals(world: World) -> None:
    user = world.approve
    with refused("missing_record", "Bill not found") as e:  # a trap, not BillNotFound (20)
        world.pay(99, user)
    assert (e.value.code, e.value.name) == (0, TRAPPED)
    bill_id = world.bill(user, BILL)
    with refused("unauthorized") as e:
        world.pay(bill_id, world.merchant)
    assert (e.value.code, reason_of(e.value)) == (0, "unauthorized")
    world.pay(bill_id, user)
    with refused("bill_not_payable", "Bill not payable") as e:
        world.pay(bill_id, user)
    assert reason_of(e.value) == "bill_not_payable"


def test_decline_wallet_has_no_collateral(world: World) -> None:
    decline = world.g.wallets["decline"]
    bill_id = world.bill(decline, 1)
    with refused("insufficient_collateral", "Insufficient collateral") as e:
        world.pay(bill_id, decline)
    assert reason_of(e.value) == "insufficient_collateral"


def test_limited_wallet_borrows_exactly_100_usdc(world: World) -> None:
    limited = world.g.wallets["limited"]
    power = world.gw.read("bnpl_core", "get_user_borrowing_power", [limited.public_key])
    assert power == {
        "lp_balance": 1_111_111_112,
        "max_borrowing": 100 * USDC,  # 1_111_111_112 * 90 // 100
        "current_borrowed": 0,
        "current_debt": 0,
        "available_borrowing": 100 * USDC,
        "required_collateral": 0,
        "overall_health_factor": 1,
    }
    too_much = world.bill(limited, 100 * USDC + 1)
    with refused("insufficient_collateral"):
        world.pay(too_much, limited)
    exact = world.bill(limited, 100 * USDC)
    world.pay(exact, limited)
    power = world.gw.read("bnpl_core", "get_user_borrowing_power", [limited.public_key])
    assert power["current_debt"] == 100 * USDC
    assert power["available_borrowing"] == power["max_borrowing"] - 100 * USDC
    assert power["required_collateral"] == 100 * USDC * 11_100_000 // 10_000_000
    assert power["overall_health_factor"] == power["max_borrowing"] // (100 * USDC)


def test_create_bill_refusals(world: World) -> None:
    gw, user, m = world.gw, world.approve, world.merchant
    with refused("invalid_amount", "Invalid amount") as e:
        world.bill(user, 0)
    assert reason_of(e.value) == "invalid_amount"
    with refused("invalid_amount"):
        world.bill(user, -5)
    with refused("unauthorized") as e:
        gw.invoke("bnpl_core", "create_bill", [m.public_key, user.public_key, 1, "x"], signer=user)
    assert reason_of(e.value) == "unauthorized"
    stranger = Keypair.random()
    with refused("merchant_not_approved", "Merchant not approved") as e:
        gw.invoke(
            "bnpl_core",
            "create_bill",
            [stranger.public_key, user.public_key, 1, "x"],
            signer=stranger,
        )
    assert reason_of(e.value) == "merchant_not_approved"
    gw.invoke("bnpl_core", "enroll_merchant", [stranger.public_key, "mi_2"], signer=stranger)
    with refused("merchant_not_approved"):  # Pending is not Approved
        gw.invoke(
            "bnpl_core",
            "create_bill",
            [stranger.public_key, user.public_key, 1, "x"],
            signer=stranger,
        )


def test_repay_refusals(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, BILL)
    with refused("bill_not_paid", "Bill not paid") as e:
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)
    assert reason_of(e.value) == "bill_not_paid"
    world.pay(bill_id, user)
    with refused("unauthorized"):
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=world.merchant)
    world.repay(bill_id, user)
    with refused("bill_not_paid"):
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)


def test_repay_without_usdc_is_refused_by_the_token(world: World) -> None:
    gw = world.gw
    poor = Keypair.random()
    gw.fund_wallet(poor, lp_deposit=10_000 * USDC)  # collateral, but no spendable USDC
    bill_id = world.bill(poor, BILL)
    world.pay(bill_id, poor)
    world.allow(bill_id, poor)
    with refused_by("insufficient_balance", "Insufficient balance", contract="usdc") as e:
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=poor)
    assert (e.value.contract, reason_of(e.value)) == ("usdc", "insufficient_balance")
    assert world.bill_status(bill_id) == "Paid"


def test_repay_pulls_with_transfer_from_and_needs_the_users_approval(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    with refused_by("insufficient_balance", "Insufficient allowance", contract="usdc") as e:
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)  # no approve first
    assert (e.value.code, e.value.name) == (0, TRAPPED)
    core = gw.contract_id("bnpl_core")
    gw.invoke("usdc", "approve", [user.public_key, core, BILL - 1, 0], signer=user)
    with refused_by("insufficient_balance", "Insufficient allowance", contract="usdc"):
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=user)  # one stroop short
    assert world.bill_status(bill_id) == "Paid"
    world.repay(bill_id, user)
    assert gw.read("usdc", "allowance", [user.public_key, core]) == 0  # all spent
    assert world.bill_status(bill_id) == "Repaid"


def test_liquidate_refusals(world: World) -> None:
    gw, user, liq = world.gw, world.approve, world.g.liquidity_provider
    nobody = Keypair.random()
    created = world.bill(user, BILL)
    repaid = world.bill(user, BILL)
    world.pay(repaid, user)
    world.repay(repaid, user)
    with refused("not_lp_token_holder", "Not LP token holder") as e:
        gw.invoke("bnpl_core", "liquidate_bill", [repaid, nobody.public_key], signer=nobody)
    assert reason_of(e.value) == "not_lp_token_holder"
    with refused("unauthorized"):
        gw.invoke("bnpl_core", "liquidate_bill", [repaid, liq.public_key], signer=user)
    with refused("missing_record"):
        gw.invoke("bnpl_core", "liquidate_bill", [77, liq.public_key], signer=liq)
    gw.advance_clock(30 * DAY)
    for bill_id in (created, repaid):
        with refused("liquidation_not_possible", "Liquidation not possible") as e:
            gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
        assert reason_of(e.value) == "liquidation_not_possible"
