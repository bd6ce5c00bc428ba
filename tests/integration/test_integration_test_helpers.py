"""Sandbox test helpers: wallets, paying, the clock, repayment with a late fee, liquidation."""

from __future__ import annotations

import pytest
from integration_support import DAY, LATE_INTEREST_APR, assert_api_error, wallet

from lumenlater_sdk import APIError, AsyncLumenLater, BadRequestError, ChainError, LumenLater, usdc
from lumenlater_sdk.types import Wallet


def test_wallets_list_and_create(client: LumenLater) -> None:
    wallets = list(client.test_helpers.wallets.list())
    by_name = {w.name: w for w in wallets}
    assert {"approve", "decline", "limited"} <= set(by_name)
    for w in wallets:
        assert isinstance(w, Wallet) and w.id.startswith("wal_") and w.address.startswith("G")
        assert w.object == "test_helpers.wallet"
    assert by_name["approve"].available_borrowing > usdc(1000)
    assert by_name["decline"].available_borrowing == 0
    assert by_name["limited"].available_borrowing == usdc(100)

    made = client.test_helpers.wallets.create(name="alice", collateral=usdc(500))
    assert made.id.startswith("wal_") and made.name == "alice"
    assert made.lp_balance > 0 and made.available_borrowing > 0
    assert made.address not in {w.address for w in wallets}
    assert made.id in {w.id for w in client.test_helpers.wallets.list()}
    assert client.test_helpers.wallets.retrieve("alice").id == made.id
    assert client.test_helpers.wallets.retrieve(made.id).address == made.address
    # A new wallet can pay, by id.
    bill = client.bills.create(customer=made.address, amount=usdc(100))
    assert client.test_helpers.bills.pay(bill.id, wallet=made.id).status == "paid"


def test_pay_with_approve_and_decline(client: LumenLater) -> None:
    approve = wallet(client, "approve").address
    decline = wallet(client, "decline").address
    good = client.bills.create(customer=approve, amount=usdc(40))
    paid = client.test_helpers.bills.pay(good.id, wallet="approve")
    assert paid.id == good.id and paid.status == "paid" and paid.paid_at is not None
    assert paid.grace_period_ends_at == paid.created + 14 * DAY
    assert paid.liquidatable_at == paid.created + 28 * DAY
    assert paid.late_fee == 0 and paid.amount_due == usdc(40)
    assert client.bills.retrieve(good.id).status == "paid"

    bad = client.bills.create(customer=decline, amount=usdc(40))
    with pytest.raises(APIError) as info:
        client.test_helpers.bills.pay(bad.id, wallet="decline")
    err = info.value
    assert err.code == "insufficient_collateral", err.body
    # A contract refusal is final: not a (retryable) chain_error, not a server fault.
    assert not isinstance(err, ChainError) and err.status_code < 500
    assert_api_error(err, err.status_code, err.type or "", "insufficient_collateral")
    assert client.bills.retrieve(bad.id).status == "created"


def test_limited_wallet_has_100_usdc_of_borrowing_power(client: LumenLater) -> None:
    limited = wallet(client, "limited").address
    too_big = client.bills.create(customer=limited, amount=usdc("100.0000001"))
    with pytest.raises(APIError) as info:
        client.test_helpers.bills.pay(too_big.id, wallet="limited")
    assert info.value.code == "insufficient_collateral"
    fits = client.bills.create(customer=limited, amount=usdc(60))
    assert client.test_helpers.bills.pay(fits.id, wallet="limited").status == "paid"


def test_repay_after_20_days_charges_the_late_fee(client: LumenLater) -> None:
    principal = usdc("1234.5678")
    bill = client.bills.create(customer=wallet(client, "approve").address, amount=principal)
    client.test_helpers.bills.pay(bill.id, wallet="approve")
    start = client.test_helpers.clock.retrieve().now
    clock = client.test_helpers.clock.advance(seconds=20 * DAY)
    # Ledger time also follows the wall clock, so allow the seconds the test itself takes.
    assert start + 20 * DAY <= clock.now < start + 21 * DAY

    # 20 days after creation = 6 whole days past the 14-day grace period.
    expected_fee = principal * LATE_INTEREST_APR * 6 // 3_650_000_000
    assert expected_fee > 0
    overdue = client.bills.retrieve(bill.id)
    assert overdue.status == "overdue"
    assert overdue.late_fee == expected_fee
    assert overdue.amount_due == principal + expected_fee

    repaid = client.test_helpers.bills.repay(bill.id)
    assert repaid.status == "repaid"
    assert repaid.repaid_at is not None and clock.now <= repaid.repaid_at < clock.now + DAY
    assert repaid.amount == principal
    assert repaid.late_fee == expected_fee
    assert repaid.amount_due == 0
    assert client.bills.retrieve(bill.id).status == "repaid"
    types = [e.type for e in client.events.list()]
    assert types == ["bill.repaid", "bill.overdue", "bill.paid", "bill.created"]
    assert [b.id for b in client.bills.list(status="repaid")] == [bill.id]


def test_liquidate_after_29_days(client: LumenLater) -> None:
    bill = client.bills.create(customer=wallet(client, "approve").address, amount=usdc(250))
    client.test_helpers.bills.pay(bill.id, wallet="approve")
    client.test_helpers.clock.advance(seconds=27 * DAY)
    with pytest.raises(APIError) as info:  # 28 days must pass first
        client.test_helpers.bills.liquidate(bill.id)
    assert not isinstance(info.value, ChainError) and info.value.status_code < 500
    client.test_helpers.clock.advance(seconds=2 * DAY)
    done = client.test_helpers.bills.liquidate(bill.id)
    assert done.status == "liquidated" and done.liquidated_at is not None
    assert done.amount_due == 0
    # The late fee the liquidation charged: whole days past the 14-day grace, from creation.
    days = (done.liquidated_at - done.created - 14 * DAY) // DAY
    assert days >= 15
    assert done.late_fee == usdc(250) * LATE_INTEREST_APR * days // 3_650_000_000 > 0
    assert client.bills.retrieve(bill.id).status == "liquidated"
    assert [e.type for e in client.events.list(limit=1).data] == ["bill.liquidated"]
    assert [b.id for b in client.bills.list(status="liquidated")] == [bill.id]


def test_unpaid_bill_expires_after_a_day(client: LumenLater) -> None:
    bill = client.bills.create(customer=wallet(client, "approve").address, amount=usdc(9))
    client.test_helpers.clock.advance(seconds=DAY + 1)
    assert client.bills.retrieve(bill.id).status == "expired"
    with pytest.raises(APIError) as info:
        client.test_helpers.bills.pay(bill.id, wallet="approve")
    assert info.value.code == "bill_expired" and info.value.status_code < 500
    assert [e.type for e in client.events.list(limit=1).data] == ["bill.expired"]


async def test_async_pay_repay(aclient: AsyncLumenLater) -> None:
    approve = await aclient.test_helpers.wallets.retrieve("approve")
    principal = usdc(500)
    bill = await aclient.bills.create(customer=approve.address, amount=principal)
    assert (await aclient.test_helpers.bills.pay(bill.id, wallet=approve.id)).status == "paid"
    await aclient.test_helpers.clock.advance(seconds=20 * DAY)
    repaid = await aclient.test_helpers.bills.repay(bill.id)
    assert repaid.status == "repaid"
    assert repaid.late_fee == principal * LATE_INTEREST_APR * 6 // 3_650_000_000


def test_liquidate_as_a_named_liquidator(client: LumenLater) -> None:
    # DESIGN §3: wherever a ``wallet`` parameter is taken, an id or a name is accepted.
    bill = client.bills.create(customer=wallet(client, "limited").address, amount=usdc(50))
    client.test_helpers.bills.pay(bill.id, wallet="limited")
    client.test_helpers.clock.advance(seconds=29 * DAY)
    done = client.test_helpers.bills.liquidate(bill.id, wallet="approve")
    assert done.status == "liquidated"


def test_liquidator_must_hold_lp_tokens(client: LumenLater) -> None:
    # "decline" holds no LP shares, so the contract refuses it as a liquidator.
    bill = client.bills.create(customer=wallet(client, "limited").address, amount=usdc(50))
    client.test_helpers.bills.pay(bill.id, wallet="limited")
    client.test_helpers.clock.advance(seconds=29 * DAY)
    with pytest.raises(BadRequestError) as info:
        client.test_helpers.bills.liquidate(bill.id, wallet="decline")
    assert info.value.code == "not_lp_token_holder"
    assert client.bills.retrieve(bill.id).status in ("paid", "overdue")
