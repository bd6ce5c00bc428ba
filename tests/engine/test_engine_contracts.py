"""Merchants, lp_token and USDC functions one by one, with their refusals."""

from __future__ import annotations

from engine_support import DAY, SEALER, T0, USDC, FakeClock, World, refused
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain import INVALID_INPUT, TRAPPED
from lumenlater_sdk.backend.chain.local import Genesis, LocalGateway, ProtocolConstants
from lumenlater_sdk.backend.db import Database

BILL = 1_000 * USDC


# --- bnpl_core: setup, merchants, reads ----------------------------------------------------
def test_initialize_only_once(gw: LocalGateway, genesis: Genesis) -> None:
    cfg = gw.read("bnpl_core", "get_config")
    assert cfg == {
        "admin": genesis.admin.public_key,
        "liquidity_pool": gw.contract_id("lp_token"),
        "usdc_token": gw.contract_id("usdc"),
        "treasury": genesis.treasury.public_key,
        "insurance_fund": genesis.insurance.public_key,
    }
    args = [
        cfg["liquidity_pool"],
        cfg["usdc_token"],
        cfg["admin"],
        cfg["treasury"],
        cfg["treasury"],
    ]
    with refused("already_initialized", "Already initialized", contract="bnpl_core"):
        gw.invoke("bnpl_core", "initialize", args, signer=genesis.admin)
    init = [e for e in gw.events_after(0, limit=1000) if e.name == "init"]
    assert len(init) == 1 and init[0].topics == ("init", genesis.admin.public_key)
    assert init[0].data == cfg


def test_nothing_works_before_initialize(db: Database, clock: FakeClock) -> None:
    gw = LocalGateway(db, clock=clock, sealer=SEALER)  # no genesis
    # As deployed: reading config before initialize traps (no NotInitialized, 2).
    with refused("missing_record", "Config not found", contract="bnpl_core") as e:
        gw.read("bnpl_core", "get_config")
    assert (e.value.code, e.value.name) == (0, TRAPPED)


def test_bill_ids_count_from_one(world: World) -> None:
    assert [world.bill(world.approve, 10 * USDC, f"o-{i}") for i in range(3)] == [1, 2, 3]


def test_is_admin_and_constants(gw: LocalGateway, genesis: Genesis) -> None:
    assert gw.read("bnpl_core", "is_admin", [genesis.admin.public_key]) is True
    assert gw.read("bnpl_core", "is_admin", [genesis.treasury.public_key]) is False
    # As deployed (SOROBAN.md §4): exactly 8 String keys, in map order.
    assert gw.read("bnpl_core", "get_protocol_constants") == {
        "COLLATERAL_RATIO": 11_100_000,
        "FEE_TO_INSURANCE_RATIO": 1_000_000,
        "FEE_TO_LP_RATIO": 7_000_000,
        "FEE_TO_TREASURY_RATIO": 2_000_000,
        "GRACE_PERIOD_DAYS": 14,
        "LATE_INTEREST_APR": 3_000_000,
        "MAX_LTV": 9_000_000,
        "MERCHANT_FEE_RATE": 150_000,
    }
    assert list(gw.read("bnpl_core", "get_protocol_constants")) == sorted(
        gw.read("bnpl_core", "get_protocol_constants")
    )
    # The penalty, bill duration and liquidation threshold are compiled in, named nowhere
    # on chain: the gateway's ProtocolConstants carries them.
    c = gw.constants()
    assert (c.liquidation_penalty, c.bill_duration_days, c.liquidation_threshold_days) == (
        100_000,
        1,
        28,
    )


def test_enroll_then_status_updates(gw: LocalGateway, genesis: Genesis) -> None:
    m = Keypair.random()
    rec = gw.invoke("bnpl_core", "enroll_merchant", [m.public_key, "mi_9"], signer=m)
    assert rec.events[0].topics == ("m_enroll", m.public_key)
    assert rec.events[0].data == {
        "merchant": m.public_key,
        "merchant_info_id": "mi_9",
        "timestamp": T0,
    }
    # As deployed: the MerchantData struct, without the queried address.
    assert gw.read("bnpl_core", "get_merchant", [m.public_key]) == {
        "merchant_info_id": "mi_9",
        "status": "Pending",
    }
    with refused(
        "merchant_already_enrolled", "Merchant already enrolled", contract="bnpl_core"
    ) as e:
        gw.invoke("bnpl_core", "enroll_merchant", [m.public_key, "again"], signer=m)
    assert e.value.code == 110
    admin = genesis.admin
    rec = gw.invoke(
        "bnpl_core",
        "update_merchant_status",
        [admin.public_key, m.public_key, "Suspended"],
        signer=admin,
    )
    assert rec.events[0].topics == ("m_status", m.public_key)
    assert rec.events[0].data == {
        "merchant": m.public_key,
        "old_status": "Pending",
        "new_status": "Suspended",
        "timestamp": T0,
    }
    assert gw.read("bnpl_core", "get_merchant", [m.public_key])["status"] == "Suspended"


def test_enroll_needs_the_merchant_signature(gw: LocalGateway, genesis: Genesis) -> None:
    m = Keypair.random()
    with refused("unauthorized"):
        gw.invoke("bnpl_core", "enroll_merchant", [m.public_key, "x"], signer=genesis.admin)


def test_update_merchant_status_refusals(gw: LocalGateway, genesis: Genesis) -> None:
    m, other = Keypair.random(), Keypair.random()
    gw.invoke("bnpl_core", "enroll_merchant", [m.public_key, "x"], signer=m)
    with refused("not_admin", "Not admin", contract="bnpl_core") as e:
        gw.invoke(
            "bnpl_core",
            "update_merchant_status",
            [other.public_key, m.public_key, "Approved"],
            signer=other,
        )
    assert e.value.code == 11
    with refused("unauthorized"):  # the admin's address, someone else's signature
        gw.invoke(
            "bnpl_core",
            "update_merchant_status",
            [genesis.admin.public_key, m.public_key, "Approved"],
            signer=other,
        )
    with refused("merchant_not_found", contract="bnpl_core") as e:
        gw.invoke(
            "bnpl_core",
            "update_merchant_status",
            [genesis.admin.public_key, other.public_key, "Approved"],
            signer=genesis.admin,
        )
    assert e.value.code == 111
    with refused("invalid_input") as e:
        gw.invoke(
            "bnpl_core",
            "update_merchant_status",
            [genesis.admin.public_key, m.public_key, "Dancing"],
            signer=genesis.admin,
        )
    assert (e.value.code, e.value.name) == (0, INVALID_INPUT)  # the host refuses it


def test_reads_of_missing_things(gw: LocalGateway, genesis: Genesis) -> None:
    # As deployed: unknown records trap (no BillNotFound 20, no MerchantNotFound 111).
    with refused("missing_record", "Bill not found") as e:
        gw.read("bnpl_core", "get_bill", [1])
    assert (e.value.code, e.value.name) == (0, TRAPPED)
    with refused("missing_record", "Merchant not found", contract="bnpl_core") as e:
        gw.read("bnpl_core", "get_merchant", [Keypair.random().public_key])
    assert (e.value.code, e.value.name) == (0, TRAPPED)
    nobody = Keypair.random().public_key
    assert gw.read("bnpl_core", "get_user_bills", [nobody]) == []
    assert gw.read("bnpl_core", "get_user_total_debt", [nobody]) == (0, 0)
    assert gw.read("bnpl_core", "get_user_required_collateral", [nobody]) == 0


def test_required_collateral_includes_interest(world: World) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    gw.advance_clock(16 * DAY)  # 2 whole days past grace, counted from paid_at
    interest = BILL * 3_000_000 * 2 // 3_650_000_000
    assert gw.read("bnpl_core", "get_user_total_debt", [user.public_key]) == (interest, BILL)
    required = (BILL + interest) * 11_100_000 // 10_000_000
    assert gw.read("bnpl_core", "get_user_required_collateral", [user.public_key]) == required
    assert gw.read("lp_token", "get_locked_balance", [user.public_key]) == required


def test_total_debt_sums_every_open_bill(world: World) -> None:
    gw, user = world.gw, world.approve
    first = world.bill(user, BILL, "o-1")
    world.pay(first, user)
    gw.advance_clock(2 * DAY)
    second = world.bill(user, 2 * BILL, "o-2")
    world.pay(second, user)
    gw.advance_clock(16 * DAY)  # 4 and 2 whole days past grace
    late = [BILL * 3_000_000 * 4 // 3_650_000_000, 2 * BILL * 3_000_000 * 2 // 3_650_000_000]
    assert gw.read("bnpl_core", "get_user_total_debt", [user.public_key]) == (sum(late), 3 * BILL)


def test_enroll_and_approve_is_repeatable(gw: LocalGateway, genesis: Genesis) -> None:
    m = Keypair.random()
    assert len(gw.enroll_and_approve_merchant(m, "mi")) == 2
    assert gw.enroll_and_approve_merchant(m, "mi") == []
    gw.invoke(
        "bnpl_core",
        "update_merchant_status",
        [genesis.admin.public_key, m.public_key, "Suspended"],
        signer=genesis.admin,
    )
    (rec,) = gw.enroll_and_approve_merchant(m, "mi")
    assert rec.events[0].data["new_status"] == "Approved"


# --- lp_token --------------------------------------------------------------------------
def test_deposit_mints_shares_at_the_index(world: World) -> None:
    gw, user = world.gw, Keypair.random()
    gw.fund_wallet(user, usdc=500 * USDC)
    rec = gw.invoke("lp_token", "deposit", [user.public_key, 200 * USDC], signer=user)
    assert rec.result == 200 * USDC
    assert rec.events[-1].topics == ("deposit", user.public_key)
    assert rec.events[-1].data == {
        "user": user.public_key,
        "amount": 200 * USDC,
        "shares_minted": 200 * USDC,  # index is still 1.0
    }
    assert world.lp(user.public_key) == 200 * USDC
    assert world.usdc(user.public_key) == 300 * USDC
    # After fee income the index is above 1.0: fewer shares for the same USDC.
    world.pay(world.bill(world.approve, BILL), world.approve)
    index = gw.read("lp_token", "exchange_rate")
    assert index > 10**9
    gw.invoke("lp_token", "deposit", [user.public_key, 100 * USDC], signer=user)
    shares = gw.read("lp_token", "raw_shares", [user.public_key])
    assert shares == 200 * USDC + 100 * USDC * 10**9 // index
    assert world.lp(user.public_key) == shares * index // 10**9


def test_deposit_refusals(world: World) -> None:
    gw, user = world.gw, Keypair.random()
    gw.fund_wallet(user, usdc=10 * USDC)
    with refused("invalid_amount"):
        gw.invoke("lp_token", "deposit", [user.public_key, 0], signer=user)
    with refused("insufficient_balance") as e:
        gw.invoke("lp_token", "deposit", [user.public_key, 11 * USDC], signer=user)
    assert e.value.contract == "usdc"
    with refused("unauthorized"):
        gw.invoke("lp_token", "deposit", [user.public_key, USDC], signer=world.approve)


def test_withdraw_is_limited_to_the_available_balance(world: World) -> None:
    gw, user = world.gw, Keypair.random()
    gw.fund_wallet(user, usdc=2_000 * USDC, lp_deposit=2_000 * USDC)
    bill_id = world.bill(user, BILL)
    world.pay(bill_id, user)
    balance = world.lp(user.public_key)
    locked = BILL * 11_100_000 // 10_000_000  # 1_110 USDC
    assert gw.read("lp_token", "get_balance_info", [user.public_key]) == (
        balance,
        locked,
        balance - locked,
    )
    with refused("insufficient_balance", "insufficient available balance"):
        gw.invoke("lp_token", "withdraw", [user.public_key, balance - locked + 1], signer=user)
    usdc_before = world.usdc(user.public_key)
    rec = gw.invoke("lp_token", "withdraw", [user.public_key, balance - locked], signer=user)
    assert world.usdc(user.public_key) - usdc_before == rec.result
    assert rec.events[-1].topics == ("withdraw", user.public_key)
    assert world.lp(user.public_key) >= locked
    world.repay(bill_id, user)
    rest = world.lp(user.public_key)
    shares = gw.read("lp_token", "raw_shares", [user.public_key])
    index = gw.read("lp_token", "exchange_rate")
    gw.invoke("lp_token", "withdraw", [user.public_key, rest], signer=user)
    # Shares to burn truncate toward zero, as in the contract: at most dust stays behind.
    left = shares - rest * 10**9 // index
    assert gw.read("lp_token", "raw_shares", [user.public_key]) == left
    assert world.lp(user.public_key) == left * index // 10**9 <= 1


def test_transfer_is_limited_to_the_available_balance(world: World) -> None:
    gw, limited, other = world.gw, world.g.wallets["limited"], Keypair.random()
    world.pay(world.bill(limited, 50 * USDC), limited)
    available = gw.read("lp_token", "available_balance", [limited.public_key])
    # The bill's fee raised the index a little, so the balance is read, not assumed.
    assert available == world.lp(limited.public_key) - 50 * USDC * 111 // 100
    with refused("insufficient_balance"):
        gw.invoke(
            "lp_token",
            "transfer",
            [limited.public_key, other.public_key, available + 1],
            signer=limited,
        )
    rec = gw.invoke(
        "lp_token", "transfer", [limited.public_key, other.public_key, available], signer=limited
    )
    assert rec.events == ()  # as deployed: lp_token emits no transfer event
    index = gw.read("lp_token", "exchange_rate")
    moved = available * 10**9 // index  # shares, truncated
    assert gw.read("lp_token", "raw_shares", [other.public_key]) == moved
    assert world.lp(other.public_key) == moved * index // 10**9


def test_pool_functions_are_bnpl_core_only(world: World) -> None:
    gw, lp = world.gw, world.g.liquidity_provider
    for function, args in [
        ("borrow", [lp.public_key, USDC]),
        ("repay", [lp.public_key, USDC]),
        ("repay_with_burn", [lp.public_key, USDC, 0]),
    ]:
        with refused("unauthorized"):
            gw.invoke("lp_token", function, args, signer=lp)


def test_update_index_distributes_a_donation(world: World) -> None:
    gw, lp = world.gw, world.g.liquidity_provider
    pool = gw.contract_id("lp_token")
    supply = gw.read("lp_token", "total_raw_shares")
    assets = world.usdc(pool) + gw.read("lp_token", "total_borrowed")
    gw.fund_wallet(lp, usdc=1_000 * USDC)
    gw.invoke("usdc", "transfer", [lp.public_key, pool, 1_000 * USDC], signer=lp)
    assert gw.read("lp_token", "exchange_rate") == 10**9  # not until update_index
    rec = gw.invoke("lp_token", "update_index", [], signer=lp)
    assert rec.events == ()
    assert gw.read("lp_token", "exchange_rate") == (assets + 1_000 * USDC) * 10**9 // supply
    assert (
        gw.read("lp_token", "total_supply")
        == supply * gw.read("lp_token", "exchange_rate") // 10**9
    )


def test_utilization_ratio_in_basis_points(world: World) -> None:
    gw = world.gw
    assert gw.read("lp_token", "utilization_ratio") == 0
    world.pay(world.bill(world.approve, BILL), world.approve)
    pool_usdc = world.usdc(gw.contract_id("lp_token"))
    assert gw.read("lp_token", "utilization_ratio") == BILL * 10_000 // (pool_usdc + BILL)


# --- usdc ------------------------------------------------------------------------------
def test_usdc_mint_transfer_and_allowance(gw: LocalGateway, genesis: Genesis) -> None:
    a, b, c = Keypair.random(), Keypair.random(), Keypair.random()
    # The faucet: the recipient signs its own mint; the admin only appears in the topics.
    with refused("unauthorized"):
        gw.invoke("usdc", "mint", [a.public_key, USDC], signer=genesis.admin)
    rec = gw.invoke("usdc", "mint", [a.public_key, 7 * USDC], signer=a)
    assert rec.events[0].topics == ("mint", genesis.admin.public_key, a.public_key)
    assert rec.events[0].data == 7 * USDC
    gw.invoke("usdc", "transfer", [a.public_key, b.public_key, 2 * USDC], signer=a)
    assert gw.read("usdc", "balance", [b.public_key]) == 2 * USDC
    with refused("insufficient_balance", "Insufficient balance"):
        gw.invoke("usdc", "transfer", [a.public_key, b.public_key, 6 * USDC], signer=a)
    for amount in (0, -1):  # zero transfers fail too
        with refused("invalid_amount", "Amount must be positive"):
            gw.invoke("usdc", "transfer", [a.public_key, b.public_key, amount], signer=a)
    with refused("unauthorized"):
        gw.invoke("usdc", "transfer", [a.public_key, b.public_key, 1], signer=b)
    gw.invoke("usdc", "approve", [a.public_key, c.public_key, 3 * USDC, 1000], signer=a)
    assert gw.read("usdc", "allowance", [a.public_key, c.public_key]) == 3 * USDC
    gw.invoke(
        "usdc", "transfer_from", [c.public_key, a.public_key, c.public_key, 2 * USDC], signer=c
    )
    assert gw.read("usdc", "allowance", [a.public_key, c.public_key]) == USDC
    with refused("invalid_amount", "Amount must be positive"):
        gw.invoke("usdc", "transfer_from", [c.public_key, a.public_key, c.public_key, 0], signer=c)
    with refused("insufficient_balance", "Insufficient allowance"):
        gw.invoke(
            "usdc", "transfer_from", [c.public_key, a.public_key, c.public_key, 2 * USDC], signer=c
        )
    assert gw.read("usdc", "balance", [a.public_key]) == 3 * USDC
    assert (gw.read("usdc", "decimals"), gw.read("usdc", "symbol")) == (7, "USDC")
    assert gw.read("usdc", "name") == "USD Coin"


def test_usdc_mint_is_limited_per_address_per_utc_day(gw: LocalGateway, genesis: Genesis) -> None:
    a, b = Keypair.random(), Keypair.random()
    limit = gw.read("usdc", "get_mint_limit")
    assert limit == 10_000_000_000_000  # 1,000,000 USDC, as upstream initialises it
    for amount in (0, -1):
        with refused("invalid_amount", "Amount must be positive"):
            gw.invoke("usdc", "mint", [a.public_key, amount], signer=a)
    supply = gw.read("usdc", "total_supply")
    gw.invoke("usdc", "mint", [a.public_key, limit - 1], signer=a)
    assert gw.read("usdc", "get_daily_minted", [a.public_key]) == limit - 1
    with refused("mint_limit", "Daily mint limit exceeded"):
        gw.invoke("usdc", "mint", [a.public_key, 2], signer=a)
    gw.invoke("usdc", "mint", [a.public_key, 1], signer=a)
    gw.invoke("usdc", "mint", [b.public_key, limit], signer=b)  # per address
    assert gw.read("usdc", "total_supply") == supply + 2 * limit
    # A new UTC day (timestamp // 86400) starts a new allowance.
    now = gw.now()
    gw.advance_clock(DAY - now % DAY - 1)
    with refused("mint_limit"):
        gw.invoke("usdc", "mint", [a.public_key, 1], signer=a)
    gw.advance_clock(1)
    assert gw.read("usdc", "get_daily_minted", [a.public_key]) == 0
    gw.invoke("usdc", "mint", [a.public_key, limit], signer=a)


def test_usdc_burn_and_burn_from(gw: LocalGateway, genesis: Genesis) -> None:
    a, s = Keypair.random(), Keypair.random()
    gw.invoke("usdc", "mint", [a.public_key, 10 * USDC], signer=a)
    supply = gw.read("usdc", "total_supply")
    with refused("invalid_amount", "Amount must be positive"):
        gw.invoke("usdc", "burn", [a.public_key, 0], signer=a)
    with refused("insufficient_balance", "Insufficient balance"):
        gw.invoke("usdc", "burn", [a.public_key, 11 * USDC], signer=a)
    rec = gw.invoke("usdc", "burn", [a.public_key, 4 * USDC], signer=a)
    assert [(e.topics, e.data) for e in rec.events] == [(("burn", a.public_key), 4 * USDC)]
    gw.invoke("usdc", "approve", [a.public_key, s.public_key, 3 * USDC, 0], signer=a)
    with refused("unauthorized"):
        gw.invoke("usdc", "burn_from", [s.public_key, a.public_key, USDC], signer=a)
    with refused("insufficient_balance", "Insufficient allowance"):
        gw.invoke("usdc", "burn_from", [s.public_key, a.public_key, 4 * USDC], signer=s)
    rec = gw.invoke("usdc", "burn_from", [s.public_key, a.public_key, 3 * USDC], signer=s)
    assert [(e.topics, e.data) for e in rec.events] == [(("burn", a.public_key), 3 * USDC)]
    assert gw.read("usdc", "balance", [a.public_key]) == 3 * USDC
    assert gw.read("usdc", "total_supply") == supply - 7 * USDC


def test_sandbox_funding_mints_with_the_recipients_authority(gw: LocalGateway) -> None:
    g = gw.genesis()
    limit = gw.read("usdc", "get_mint_limit")
    lp = g.liquidity_provider.public_key
    assert gw.read("lp_token", "balance", [lp]) == 10_000_000 * USDC  # 10 days' limit
    assert gw.read("usdc", "get_daily_minted", [lp]) == limit
    user = Keypair.random()
    records = gw.fund_wallet(user, usdc=limit + 5)
    mints = [e for r in records for e in r.events if e.name == "mint"]
    assert mints[0].topics[2] == user.public_key != mints[1].topics[2]
    assert [e.data for e in mints] == [limit, 5]  # the rest through a one-off faucet account
    assert gw.read("usdc", "balance", [user.public_key]) == limit + 5
    assert gw.read("usdc", "get_daily_minted", [user.public_key]) == limit


def test_liquidating_a_principal_under_200_units_traps_on_the_zero_transfer(
    world: World,
) -> None:
    # As deployed: the liquidator's half of the 1 % penalty rounds to 0 and the USDC
    # refuses the zero transfer, so the whole call traps (the API says contract_trapped).
    gw, lp = world.gw, world.g.liquidity_provider
    bill_id = world.bill(world.approve, 199)
    world.pay(bill_id, world.approve)
    gw.advance_clock(28 * DAY)
    with refused("invalid_amount", "Amount must be positive", contract="usdc"):
        gw.invoke("bnpl_core", "liquidate_bill", [bill_id, lp.public_key], signer=lp)
    assert world.bill_status(bill_id) == "Paid"
    bill_id = world.bill(world.approve, 200)
    world.pay(bill_id, world.approve)
    gw.advance_clock(28 * DAY)
    gw.invoke("bnpl_core", "liquidate_bill", [bill_id, lp.public_key], signer=lp)
    assert world.bill_status(bill_id) == "Liquidated"


# --- configurable constants ------------------------------------------------------------
def test_constants_are_configurable(db, clock) -> None:  # type: ignore[no-untyped-def]
    gw = LocalGateway(
        db, clock=clock, constants=ProtocolConstants(liquidation_penalty=1_000_000), sealer=SEALER
    )
    g = gw.genesis()
    m = Keypair.random()
    gw.enroll_and_approve_merchant(m, "mi")
    user, liq = g.wallets["approve"], g.liquidity_provider
    bill_id = int(
        gw.invoke(
            "bnpl_core", "create_bill", [m.public_key, user.public_key, BILL, "o"], signer=m
        ).result
    )
    gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user)
    gw.advance_clock(28 * DAY)
    rec = gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    late_fee = BILL * 3_000_000 * 14 // 3_650_000_000
    assert rec.events[-1].data["total_liquidated"] == BILL + late_fee + BILL // 10  # 10 %
    assert gw.constants().liquidation_penalty == 1_000_000
    assert "LIQUIDATION_PENALTY" not in gw.read("bnpl_core", "get_protocol_constants")
