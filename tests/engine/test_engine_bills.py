"""bnpl_core bill lives that only the local engine can show: a boundary to the second
(its fake wall clock stands still between calls) and a fresh genesis (bill ids from 1,
the genesis pool's shares, the built-in wallets' exact balances).

The bill lives a real chain shows as well run over both gateways in
``tests/chain_parity/test_bills.py``.
"""

from __future__ import annotations

from engine_support import DAY, T0, USDC, World, refused

BILL = 1_000 * USDC  # 10_000_000_000
POOL_SHARES = (
    10_000_000 * USDC + 1_000_000 * USDC + 1_111_111_112
)  # LP provider + approve + limited


def test_a_fresh_ledger_numbers_bills_from_one(world: World) -> None:
    user = world.approve
    assert world.bill(user, BILL) == 1
    assert world.bill(user, 5 * USDC) == 2
    assert world.gw.read("bnpl_core", "get_bill", [1])["created_at"] == T0


def test_genesis_pool_and_limited_wallet(world: World) -> None:
    gw, limited = world.gw, world.g.wallets["limited"]
    power = gw.read("bnpl_core", "get_user_borrowing_power", [limited.public_key])
    assert (power["lp_balance"], power["max_borrowing"]) == (1_111_111_112, 100 * USDC)
    assert gw.read("lp_token", "total_raw_shares") == POOL_SHARES
    world.pay(world.bill(world.approve, BILL), world.approve)
    # The LP part of the fee raises the index: 105_000_000 more over the same shares.
    assert (
        gw.read("lp_token", "exchange_rate") == (POOL_SHARES + 105_000_000) * 10**9 // POOL_SHARES
    )
    assert gw.read("lp_token", "total_borrowed") == BILL


def test_late_fee_counts_a_day_from_its_last_second(world: World) -> None:
    gw, user = world.gw, world.approve
    early, late = world.bill(user, BILL), world.bill(user, BILL)
    world.pay(early, user)
    world.pay(late, user)
    gw.advance_clock(15 * DAY - 1)  # not yet a whole day past the grace period
    before = world.usdc(user.public_key)
    world.repay(early, user)
    assert before - world.usdc(user.public_key) == BILL
    gw.advance_clock(1)
    before = world.usdc(user.public_key)
    world.repay(late, user)
    assert before - world.usdc(user.public_key) == BILL + BILL * 3_000_000 // 3_650_000_000


def test_liquidation_opens_at_28_days_to_the_second(world: World) -> None:
    gw, user, liq = world.gw, world.approve, world.g.liquidity_provider
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(28 * DAY - 1)
    with refused("grace_period_not_expired", "Grace period not expired", contract="bnpl_core"):
        gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    gw.advance_clock(1)
    gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    assert world.bill_status(bill_id) == "Liquidated"


def test_a_bill_is_payable_until_one_day_to_the_second(world: World) -> None:
    gw, user = world.gw, world.approve
    first, second = world.bill(user, BILL), world.bill(user, BILL)
    gw.advance_clock(DAY)  # now == created_at + 1 day: still payable
    world.pay(first, user)
    gw.advance_clock(1)
    with refused("bill_expired", "Bill expired", contract="bnpl_core"):
        world.pay(second, user)
