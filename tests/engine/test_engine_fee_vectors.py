"""Fees whose exact value is a fraction of a stroop: every part truncates, never rounds.

Each expected number is written out and derived in a comment from PROTOCOL.md's
formula, so a formula that rounds up (or to nearest) is caught by amounts whose
1.5 %, 30 % APR, 1 % or 111 % is not a whole number of stroops.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from engine_support import DAY, T0, World
from hypothesis import given, settings
from hypothesis import strategies as st

from lumenlater_sdk.backend.chain.local import ProtocolConstants
from lumenlater_sdk.backend.chain.local._math import (
    amount_for_shares,
    borrowing_power,
    late_fee,
    liquidation_penalty,
    merchant_fee,
    required_collateral,
    shares_for_amount,
    split_fee,
)

C = ProtocolConstants()


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        (1, 0),  # 0.015
        (66, 0),  # 0.99
        (67, 1),  # 1.005
        (133, 1),  # 1.995
        (134, 2),  # 2.01
        (10_000_001, 150_000),  # 150_000.015
        (10_000_066, 150_000),  # 150_000.99
        (999_999_999, 14_999_999),  # 14_999_999.985
        (123_456_789, 1_851_851),  # 1_851_851.835
    ],
)
def test_merchant_fee_truncates(amount: int, fee: int) -> None:
    assert merchant_fee(amount, C) == fee


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**15))
def test_merchant_fee_is_the_floor_of_one_and_a_half_percent(amount: int) -> None:
    exact = Fraction(amount * 15, 1000)
    assert merchant_fee(amount, C) == int(exact)  # int() truncates a positive Fraction
    assert merchant_fee(amount, C) <= exact < merchant_fee(amount, C) + 1


@pytest.mark.parametrize(
    ("fee", "parts"),
    [
        (1, (0, 0, 0)),  # 0.2 / 0.1 / 0.7
        (4, (0, 0, 2)),  # 0.8 / 0.4 / 2.8
        (9, (1, 0, 6)),  # 1.8 / 0.9 / 6.3
        (10, (2, 1, 7)),
        (149_999, (29_999, 14_999, 104_999)),  # .8 / .9 / .3
    ],
)
def test_fee_split_truncates_each_part_and_leaves_dust(
    fee: int, parts: tuple[int, int, int]
) -> None:
    split = split_fee(fee, C)
    assert (split.treasury, split.insurance, split.lp) == parts
    assert split.dust(fee) == fee - sum(parts)


@pytest.mark.parametrize(
    ("principal", "days_late", "fee"),
    [
        (12_345_679, 1, 10_147),  # 12_345_679 * 0.3 / 365 = 10_147.13
        (12_345_679, 6, 60_882),  # 60_882.80: truncated, not rounded up
        (1_000, 1, 0),  # 0.82
        (1_217, 1, 1),  # 1.0002
        (1_216, 1, 0),  # 0.9994
    ],
)
def test_late_fee_truncates(principal: int, days_late: int, fee: int) -> None:
    start = T0
    now = start + (14 + days_late) * DAY
    assert late_fee(principal, start, now, C) == fee
    assert late_fee(principal, start, now + DAY - 1, C) == fee  # whole days only


@pytest.mark.parametrize(
    ("principal", "penalty"),
    [(99, 0), (100, 1), (10_000_099, 100_000), (12_345_679, 123_456)],
)
def test_liquidation_penalty_truncates(principal: int, penalty: int) -> None:
    assert liquidation_penalty(principal, C) == penalty


@pytest.mark.parametrize(
    ("debt", "collateral"),
    [(1, 1), (9, 9), (10, 11), (1_001, 1_111), (10_000_001, 11_100_001)],
)
def test_required_collateral_truncates(debt: int, collateral: int) -> None:
    # 111 % of debt: 1.11, 9.99, 11.1, 1_111.11, 11_100_001.11
    assert required_collateral(debt, C) == collateral


def test_borrowing_power_truncates_and_never_goes_negative() -> None:
    bp = borrowing_power(lp_balance=1_001, interest=0, principal=0, c=C)
    assert bp.max_borrowing == 900  # 900.9
    assert bp.available_borrowing == 900
    assert bp.overall_health_factor == 1  # no debt
    assert bp.required_collateral == 0
    bp = borrowing_power(lp_balance=1_001, interest=1, principal=899, c=C)
    assert (bp.current_debt, bp.current_borrowed, bp.available_borrowing) == (900, 899, 0)
    assert bp.overall_health_factor == 1
    assert bp.required_collateral == 999  # 999.0
    bp = borrowing_power(lp_balance=1_001, interest=1, principal=900, c=C)
    assert bp.available_borrowing == 0 and bp.overall_health_factor == 0
    assert bp.as_dict() == {
        "lp_balance": 1_001,
        "max_borrowing": 900,
        "current_borrowed": 900,
        "current_debt": 901,
        "available_borrowing": 0,
        "required_collateral": 1_000,  # 1_000.11
        "overall_health_factor": 0,
    }


@pytest.mark.parametrize(
    ("amount", "index", "shares", "back"),
    [
        (10, 1_000_000_000, 10, 10),
        (10, 1_500_000_000, 6, 9),  # 6.67 shares; 6 shares are worth 9.0
        (7, 3_000_000_000, 2, 6),  # 2.33 shares; worth 6
        (1, 1_000_000_001, 0, 0),
    ],
)
def test_share_conversions_truncate(amount: int, index: int, shares: int, back: int) -> None:
    assert shares_for_amount(amount, index) == shares
    assert amount_for_shares(shares, index) == back


# --- the same numbers through the contracts ----------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fee", "parts"),
    [
        (10_000_001, 150_000, (30_000, 15_000, 105_000)),
        (10_000_066, 150_000, (30_000, 15_000, 105_000)),
        (123_456_789, 1_851_851, (370_370, 185_185, 1_296_295)),  # dust 1
        (134, 2, (0, 0, 1)),  # 0.4 / 0.2 / 1.4: an LP part of exactly 1 stroop
        (334, 5, (1, 0, 3)),  # a treasury part of exactly 1
        (667, 10, (2, 1, 7)),  # an insurance part of exactly 1
    ],
)
def test_paying_a_bill_pays_the_merchant_the_truncated_net(
    world: World, amount: int, fee: int, parts: tuple[int, int, int]
) -> None:
    gw, user = world.gw, world.approve
    cfg = gw.read("bnpl_core", "get_config")
    core = gw.contract_id("bnpl_core")
    pool = gw.contract_id("lp_token")
    before = {a: world.usdc(a) for a in (cfg["treasury"], cfg["insurance_fund"], core, pool)}
    bill_id = world.bill(user, amount)
    world.pay(bill_id, user)
    assert world.usdc(pool) - before[pool] == -amount + parts[2]
    assert world.usdc(world.merchant.public_key) == amount - fee
    treasury, insurance, _lp = parts
    assert world.usdc(cfg["treasury"]) - before[cfg["treasury"]] == treasury
    assert world.usdc(cfg["insurance_fund"]) - before[cfg["insurance_fund"]] == insurance
    assert world.usdc(core) - before[core] == fee - sum(parts)  # the dust stays in bnpl_core


def test_a_fee_too_small_to_split_moves_nothing_but_the_net(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, 67)  # fee 1 stroop: every part truncates to 0
    rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
    assert world.usdc(world.merchant.public_key) == 66
    assert world.usdc(gw.contract_id("bnpl_core")) == 1
    transfers = [e for e in rec.events if (e.contract, e.name) == ("usdc", "transfer")]
    assert len(transfers) == 2  # pool -> bnpl_core, bnpl_core -> merchant; no zero transfers
    names = [e.name for e in rec.events if e.contract == "lp_token"]
    assert names == ["borrow"]  # no index update without an LP part


def test_a_free_bill_has_no_fee_transfers(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, 66)  # fee 0.99 stroop -> 0
    rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
    assert world.usdc(world.merchant.public_key) == 66
    assert [(e.contract, e.name) for e in rec.events] == [
        ("usdc", "transfer"),
        ("lp_token", "borrow"),
        ("usdc", "transfer"),
        ("bnpl_core", "payment"),
    ]


def test_repaying_late_charges_the_truncated_fee(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, 12_345_679)
    world.pay(bill_id, user)
    gw.advance_clock(20 * DAY + 3_600)  # 6 whole days late, and an hour
    before = world.usdc(user.public_key)
    world.repay(bill_id, user)
    assert before - world.usdc(user.public_key) == 12_345_679 + 60_882


def test_repay_approves_the_pool_as_deployed(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, 12_345_679)
    world.pay(bill_id, user)
    gw.advance_clock(20 * DAY)
    rec = world.repay(bill_id, user)
    (approve,) = [e for e in rec.events if (e.contract, e.name) == ("usdc", "approve")]
    # principal + late fee, expiration ledger 200: the deployed contract's literal.
    assert approve.data == [12_345_679 + 60_882, 200]


def test_closing_one_bill_keeps_the_users_other_open_bills(world: World) -> None:
    gw, user = world.gw, world.approve
    first, second, third = (world.bill(user, 1_000_000 * (i + 1)) for i in range(3))
    for bill_id in (first, second, third):
        world.pay(bill_id, user)
    world.repay(second, user)
    assert gw.read("bnpl_core", "get_user_bills", [user.public_key]) == [first, third]
    assert gw.read("bnpl_core", "get_user_total_debt", [user.public_key]) == (0, 4_000_000)
