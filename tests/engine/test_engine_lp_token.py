"""lp_token as deployed (SOROBAN.md §4, §6): metadata and decimals, initialize without a
guard, withdraw paying the requested amount, and the silent SEP-41 functions."""

from __future__ import annotations

from engine_support import USDC, World, refused
from stellar_sdk import Keypair

from lumenlater_sdk.backend.chain.local import Genesis, LocalGateway

METADATA = {"decimal": 7, "name": "BNPL LP Token", "symbol": "BNPLP"}


def test_metadata_and_decimals_as_upstream_initialises_them(gw: LocalGateway) -> None:
    with refused("missing_record", "Metadata not found", contract="lp_token"):
        gw.read("lp_token", "name")  # before initialize: the unwrap traps
    gw.genesis()
    assert gw.read("lp_token", "metadata") == METADATA
    assert gw.read("lp_token", "decimals") == 7
    assert (gw.read("lp_token", "name"), gw.read("lp_token", "symbol")) == (
        "BNPL LP Token",
        "BNPLP",
    )


def test_initialize_takes_token_metadata(gw: LocalGateway, genesis: Genesis) -> None:
    a, usdc = genesis.admin, gw.contract_id("usdc")
    for bad in ({"decimal": 7, "name": "X"}, {**METADATA, "decimal": -1}, "BNPLP"):
        with refused("invalid_input"):
            gw.invoke("lp_token", "initialize", [a.public_key, usdc, bad], signer=a)
    with refused("unauthorized"):  # the admin it names signs
        gw.invoke("lp_token", "initialize", [a.public_key, usdc, METADATA], signer=Keypair.random())


def test_a_second_initialize_resets_the_pool(world: World) -> None:
    gw, a, lp = world.gw, world.g.admin, world.g.liquidity_provider
    u = world.approve.public_key
    gw.invoke("lp_token", "approve", [u, lp.public_key, 5 * USDC, 0], signer=world.approve)
    world.pay(world.bill(world.approve, 100 * USDC), world.approve)
    assert gw.read("lp_token", "total_borrowed") > 0 and world.lp(u) > 0
    other = {"decimal": 9, "name": "Other", "symbol": "OTH"}
    rec = gw.invoke(
        "lp_token", "initialize", [a.public_key, gw.contract_id("usdc"), other], signer=a
    )
    assert rec.events == ()  # no guard, no event: index, supply, balances, allowances reset
    assert gw.read("lp_token", "exchange_rate") == 10**9
    assert gw.read("lp_token", "total_raw_shares") == 0
    assert gw.read("lp_token", "total_borrowed") == 0
    assert gw.read("lp_token", "raw_shares", [u]) == 0
    assert gw.read("lp_token", "raw_shares", [lp.public_key]) == 0
    assert gw.read("lp_token", "allowance", [u, lp.public_key]) == 0
    assert gw.read("lp_token", "metadata") == other
    assert gw.read("lp_token", "decimals") == 7


def test_withdraw_pays_exactly_the_requested_amount(world: World) -> None:
    gw, user = world.gw, Keypair.random()
    u = user.public_key
    gw.fund_wallet(user, lp_deposit=1_000 * USDC)
    world.pay(world.bill(world.approve, 1_000 * USDC), world.approve)  # fee income
    index = gw.read("lp_token", "exchange_rate")
    assert index % 10**9 != 0  # an index at which shares_for_amount truncates
    shares, usdc_before = gw.read("lp_token", "raw_shares", [u]), world.usdc(u)
    amount = 333 * USDC + 7
    rec = gw.invoke("lp_token", "withdraw", [u, amount], signer=user)
    burned = amount * 10**9 // index  # shares worth amount at the index, truncated
    assert rec.result == amount
    assert world.usdc(u) - usdc_before == amount
    assert gw.read("lp_token", "raw_shares", [u]) == shares - burned
    assert rec.events[-1].data == {"user": u, "amount": amount, "shares_burned": burned}
    assert rec.events[0].data == amount  # USDC transfer lp -> user


def test_mint_is_the_stored_admins_and_silent(world: World) -> None:
    gw, a, user = world.gw, world.g.admin, Keypair.random()
    u = user.public_key
    with refused("unauthorized"):
        gw.invoke("lp_token", "mint", [u, 10 * USDC], signer=user)
    world.pay(world.bill(world.approve, 1_000 * USDC), world.approve)
    index = gw.read("lp_token", "exchange_rate")
    supply, pool = gw.read("lp_token", "total_raw_shares"), world.usdc(gw.contract_id("lp_token"))
    rec = gw.invoke("lp_token", "mint", [u, 10 * USDC], signer=a)
    assert rec.events == ()  # no event, no USDC moved
    assert gw.read("lp_token", "raw_shares", [u]) == 10 * USDC * 10**9 // index
    assert gw.read("lp_token", "total_raw_shares") == supply + 10 * USDC * 10**9 // index
    assert world.usdc(gw.contract_id("lp_token")) == pool


def test_approve_transfer_from_burn_and_burn_from(world: World) -> None:
    gw, owner, spender, to = world.gw, Keypair.random(), Keypair.random(), Keypair.random()
    o, s = owner.public_key, spender.public_key
    gw.fund_wallet(owner, lp_deposit=100 * USDC)
    assert gw.read("lp_token", "allowance", [o, s]) == 0
    with refused("unauthorized"):
        gw.invoke("lp_token", "approve", [o, s, 30 * USDC, 0], signer=spender)
    rec = gw.invoke("lp_token", "approve", [o, s, 30 * USDC, 0], signer=owner)
    assert rec.events == ()
    assert gw.read("lp_token", "allowance", [o, s]) == 30 * USDC
    with refused("unauthorized"):  # the spender signs
        gw.invoke("lp_token", "transfer_from", [s, o, to.public_key, USDC], signer=owner)
    with refused("insufficient_balance", "allowance exceeded"):
        gw.invoke("lp_token", "transfer_from", [s, o, to.public_key, 31 * USDC], signer=spender)
    rec = gw.invoke("lp_token", "transfer_from", [s, o, to.public_key, 10 * USDC], signer=spender)
    assert rec.events == ()
    assert world.lp(to.public_key) == 10 * USDC and world.lp(o) == 90 * USDC
    assert gw.read("lp_token", "allowance", [o, s]) == 20 * USDC
    supply = gw.read("lp_token", "total_raw_shares")
    rec = gw.invoke("lp_token", "burn_from", [s, o, 20 * USDC], signer=spender)
    assert rec.events == ()
    assert world.lp(o) == 70 * USDC and gw.read("lp_token", "allowance", [o, s]) == 0
    with refused("insufficient_balance", "allowance exceeded"):
        gw.invoke("lp_token", "burn_from", [s, o, 1], signer=spender)
    # burn_from checks the available balance before the allowance.
    with refused("insufficient_balance", "insufficient available balance"):
        gw.invoke("lp_token", "burn_from", [s, o, 71 * USDC], signer=spender)
    with refused("unauthorized"):
        gw.invoke("lp_token", "burn", [o, USDC], signer=spender)
    with refused("insufficient_balance", "insufficient available balance"):
        gw.invoke("lp_token", "burn", [o, 71 * USDC], signer=owner)
    rec = gw.invoke("lp_token", "burn", [o, 70 * USDC], signer=owner)
    assert rec.events == ()
    assert world.lp(o) == 0
    assert gw.read("lp_token", "total_raw_shares") == supply - 90 * USDC


def test_burn_is_limited_to_the_available_balance(world: World) -> None:
    gw, limited = world.gw, world.g.wallets["limited"]
    world.pay(world.bill(limited, 50 * USDC), limited)
    available = gw.read("lp_token", "available_balance", [limited.public_key])
    with refused("insufficient_balance", "insufficient available balance"):
        gw.invoke("lp_token", "burn", [limited.public_key, available + 1], signer=limited)
