"""The ledger around the contracts: sequence, hashes, events, atomicity, restart, clock, threads."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from engine_support import DAY, SEALER, T0, USDC, FakeClock, World, refused
from stellar_sdk import Keypair, StrKey

from lumenlater_sdk.backend._crypto import SealError, SecretBox
from lumenlater_sdk.backend.chain import TRAPPED, ContractError
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.db import Database, Migration, connect, migrate


def ledger_sequence(db: Database) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.scalar("SELECT sequence FROM chain_ledger WHERE id = 1"))


def test_contract_ids_are_deterministic_strkeys(db: Database, gw: LocalGateway) -> None:
    ids = {name: gw.contract_id(name) for name in ("bnpl_core", "lp_token", "usdc")}
    assert all(StrKey.is_valid_contract(i) for i in ids.values())
    assert len(set(ids.values())) == 3
    assert LocalGateway(db, sealer=SEALER).contract_id("usdc") == ids["usdc"]
    with pytest.raises(ValueError):
        gw.contract_id("nope")


def test_genesis_is_idempotent_and_persisted(db: Database, gw: LocalGateway) -> None:
    g = gw.genesis()
    again = LocalGateway(db, sealer=SEALER).genesis()
    assert again.admin.secret == g.admin.secret
    assert again.liquidity_provider.secret == g.liquidity_provider.secret
    assert {k: v.secret for k, v in again.wallets.items()} == {
        k: v.secret for k, v in g.wallets.items()
    }
    assert set(g.wallets) == {"approve", "decline", "limited"}


def _stored_secrets(db: Database) -> dict[str, str]:
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT name, secret FROM chain_accounts")
    return {r["name"]: r["secret"] for r in rows}


def test_genesis_seeds_are_sealed_at_rest(db: Database, gw: LocalGateway) -> None:
    g = gw.genesis()
    stored = _stored_secrets(db)
    seeds = [g.admin.secret, g.treasury.secret, *(kp.secret for kp in g.wallets.values())]
    assert len(stored) == 7
    assert all(value.startswith("v2:") for value in stored.values())
    assert not any(seed in value for seed in seeds for value in stored.values())
    assert SEALER.open(stored["admin"]) == g.admin.secret
    with pytest.raises(SealError):  # another backend key cannot open them
        LocalGateway(db, sealer=SecretBox(bytes(range(1, 33)))).genesis()


def test_seeds_stored_in_the_clear_are_sealed_when_loaded(db: Database, gw: LocalGateway) -> None:
    g = gw.genesis()
    sealed = _stored_secrets(db)
    with db.transaction() as tx:  # a ledger made before seeds were sealed
        for name, value in sealed.items():
            clear = SEALER.open(value)
            tx.execute("UPDATE chain_accounts SET secret = ? WHERE name = ?", (clear, name))
    again = LocalGateway(db, sealer=SEALER).genesis()
    assert again.admin.secret == g.admin.secret
    assert again.wallets["approve"].secret == g.wallets["approve"].secret
    stored = _stored_secrets(db)
    assert all(value.startswith("v2:") for value in stored.values())
    assert SEALER.open(stored["wallet:limited"]) == g.wallets["limited"].secret
    assert g.contract_ids == {n: gw.contract_id(n) for n in ("bnpl_core", "lp_token", "usdc")}
    assert gw.read("lp_token", "balance", [g.liquidity_provider.public_key]) == 10_000_000 * USDC
    assert gw.read("lp_token", "balance", [g.wallets["approve"].public_key]) == 1_000_000 * USDC
    assert gw.read("lp_token", "balance", [g.wallets["decline"].public_key]) == 0
    inits = [e for e in gw.events_after(0, limit=1000) if e.name == "init"]
    assert len(inits) == 1


def test_genesis_pool_liquidity_is_configurable(gw: LocalGateway) -> None:
    g = gw.genesis(pool_liquidity=5 * USDC)
    assert gw.read("lp_token", "balance", [g.liquidity_provider.public_key]) == 5 * USDC


def test_fund_wallet_needs_genesis_and_returns_records(gw: LocalGateway) -> None:
    kp = Keypair.random()
    with pytest.raises(RuntimeError):
        gw.fund_wallet(kp, usdc=1)
    gw.genesis()
    records = gw.fund_wallet(kp, usdc=3 * USDC, lp_deposit=5 * USDC)
    assert [r.events[-1].name for r in records] == ["mint", "deposit"]
    assert gw.read("usdc", "balance", [kp.public_key]) == 3 * USDC
    assert gw.read("lp_token", "balance", [kp.public_key]) == 5 * USDC
    with pytest.raises(ValueError):
        gw.fund_wallet(kp, usdc=-1)


def test_sequence_hash_and_events_of_a_transaction(world: World, db: Database) -> None:
    gw, user, m = world.gw, world.approve, world.merchant
    before = ledger_sequence(db)
    cursor = gw.events_after(0, limit=10_000)[-1].cursor
    args = [m.public_key, user.public_key, 3 * USDC, "o-7"]
    rec = gw.invoke("bnpl_core", "create_bill", args, signer=m)
    assert rec.ledger == before + 1 == ledger_sequence(db)
    assert rec.timestamp == T0
    canonical = json.dumps(
        {
            "network": "LumenLater local engine ; 2026",
            "contract": gw.contract_id("bnpl_core"),
            "function": "create_bill",
            "args": args,
            "signer": m.public_key,
            "ledger": rec.ledger,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert rec.hash == hashlib.sha256(canonical.encode()).hexdigest()
    stored = gw.events_after(cursor)
    assert stored == list(rec.events)
    assert [e.cursor for e in stored] == [cursor + 1]
    assert stored[0].tx_hash == rec.hash and stored[0].ledger == rec.ledger
    assert stored[0].contract_id == gw.contract_id("bnpl_core")


def test_refusal_changes_nothing(world: World, db: Database) -> None:
    gw, limited, liq = world.gw, world.g.wallets["limited"], world.g.liquidity_provider
    bill_id = world.bill(limited, 100 * USDC)
    world.pay(bill_id, limited)
    seq = ledger_sequence(db)
    last = gw.events_after(0, limit=10_000)[-1].cursor
    with refused("unauthorized"):
        gw.invoke("bnpl_core", "repay_bill", [bill_id], signer=world.merchant)
    # Two years on, the late fee outgrows the collateral: bnpl_core has already marked
    # the bill Liquidated and emitted nothing yet when lp_token refuses the burn.
    gw.advance_clock(730 * DAY)
    with refused("insufficient_balance", "insufficient balance for liquidation") as e:
        gw.invoke("bnpl_core", "liquidate_bill", [bill_id, liq.public_key], signer=liq)
    assert e.value.contract == "lp_token"
    assert ledger_sequence(db) == seq
    assert gw.events_after(last) == []
    assert world.bill_status(bill_id) == "Paid"
    assert gw.read("bnpl_core", "get_user_bills", [limited.public_key]) == [bill_id]
    assert gw.read("lp_token", "total_borrowed") == 100 * USDC


def test_refusal_inside_callers_transaction_keeps_callers_writes(
    world: World, db: Database
) -> None:
    gw, user = world.gw, world.approve
    migrate(db, "engine_test", [Migration(1, "t", "CREATE TABLE caller_rows (k TEXT)")])
    bill_id = world.bill(user, 5 * USDC)
    seq = ledger_sequence(db)
    last = gw.events_after(0, limit=10_000)[-1].cursor
    with db.transaction() as tx:
        tx.execute("INSERT INTO caller_rows (k) VALUES ('before')")
        with refused("unauthorized"):
            gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=world.merchant, tx=tx)
        with refused("missing_record"):
            gw.invoke("bnpl_core", "pay_bill_bnpl", [999], signer=user, tx=tx)
        tx.execute("INSERT INTO caller_rows (k) VALUES ('after')")
    with db.transaction(write=False) as tx:
        assert [r["k"] for r in tx.fetchall("SELECT k FROM caller_rows ORDER BY k")] == [
            "after",
            "before",
        ]
    assert ledger_sequence(db) == seq
    assert gw.events_after(last) == []
    assert world.bill_status(bill_id) == "Created"


def test_ledger_change_commits_and_rolls_back_with_the_caller(world: World, db: Database) -> None:
    gw, user = world.gw, world.approve
    bill_id = world.bill(user, 5 * USDC)
    seq = ledger_sequence(db)
    with pytest.raises(RuntimeError, match="caller failed"), db.transaction() as tx:
        rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user, tx=tx)
        assert gw.read("bnpl_core", "get_bill", [bill_id], tx=tx)["status"] == "Paid"
        assert gw.events_after(rec.events[0].cursor - 1, tx=tx) == list(rec.events)
        raise RuntimeError("caller failed")
    assert world.bill_status(bill_id) == "Created"
    assert ledger_sequence(db) == seq
    with db.transaction() as tx:
        rec = gw.invoke("bnpl_core", "pay_bill_bnpl", [bill_id], signer=user, tx=tx)
    assert rec.ledger == seq + 1
    assert world.bill_status(bill_id) == "Paid"


def test_restart_keeps_the_ledger(db_url: str, clock: FakeClock) -> None:
    with connect(db_url) as db:
        gw = LocalGateway(db, clock=clock, sealer=SEALER)
        g = gw.genesis()
        m = Keypair.random()
        gw.enroll_and_approve_merchant(m, "mi")
        user = g.wallets["approve"]
        rec = gw.invoke(
            "bnpl_core", "create_bill", [m.public_key, user.public_key, USDC, "o"], signer=m
        )
        gw.invoke("bnpl_core", "pay_bill_bnpl", [rec.result], signer=user)
        gw.advance_clock(3 * DAY)
        events = gw.events_after(0, limit=10_000)
    with connect(db_url) as db:
        gw2 = LocalGateway(db, clock=clock, sealer=SEALER)
        assert gw2.now() == T0 + 3 * DAY
        assert gw2.read("bnpl_core", "get_bill", [rec.result])["status"] == "Paid"
        assert gw2.events_after(0, limit=10_000) == events
        assert gw2.genesis().admin.secret == g.admin.secret
        again = gw2.invoke(
            "bnpl_core", "create_bill", [m.public_key, user.public_key, USDC, "o2"], signer=m
        )
        assert again.result == rec.result + 1
        assert again.events[0].cursor == events[-1].cursor + 1


def test_clock_never_goes_back(gw: LocalGateway, clock: FakeClock) -> None:
    assert gw.now() == T0
    assert gw.advance_clock(100) == T0 + 100 == gw.now()
    clock.now = T0 + 50  # wall clock moves forward less than the offset already added
    assert gw.now() == T0 + 150
    clock.now = T0 - 1_000  # the wall clock jumps back
    assert gw.now() == T0 + 150
    assert gw.advance_clock(10) == T0 + 160
    clock.now = T0 - 500  # moves on from there, offset kept
    assert gw.now() == T0 + 160 + 500
    with pytest.raises(ValueError):
        gw.advance_clock(-1)


def test_timestamps_follow_the_ledger_clock(world: World) -> None:
    world.gw.advance_clock(7)
    rec = world.gw.invoke(
        "usdc",
        "transfer",
        [world.approve.public_key, world.merchant.public_key, 1],
        signer=world.approve,
    )
    assert rec.timestamp == T0 + 7 == rec.events[0].timestamp


def test_bad_calls(world: World) -> None:
    gw, user = world.gw, world.approve
    with pytest.raises(ValueError):
        gw.invoke("nope", "f", [], signer=user)
    with refused("invalid_input"):
        gw.invoke("bnpl_core", "no_such_function", [], signer=user)
    with refused("invalid_input"):
        gw.invoke("bnpl_core", "pay_bill_bnpl", [], signer=user)
    with refused("invalid_input"):
        gw.invoke("bnpl_core", "pay_bill_bnpl", [-1], signer=user)
    with refused("invalid_input"):
        gw.invoke("bnpl_core", "pay_bill_bnpl", ["1"], signer=user)
    with refused("invalid_input"):
        gw.invoke("usdc", "transfer", ["GABC", user.public_key, 1], signer=user)
    with refused("invalid_input"):
        gw.invoke("usdc", "transfer", [user.public_key, user.public_key, True], signer=user)
    with refused("invalid_input"):
        gw.invoke("usdc", "transfer", [user.public_key, user.public_key, 1 << 127], signer=user)
    with pytest.raises(ValueError):
        gw.read("bnpl_core", "pay_bill_bnpl", [1])


def test_events_after_pages_in_order(world: World) -> None:
    everything = world.gw.events_after(0, limit=10_000)
    assert [e.cursor for e in everything] == list(range(1, len(everything) + 1))
    page = world.gw.events_after(3, limit=4)
    assert page == everything[3:7]
    assert world.gw.events_after(everything[-1].cursor) == []
    assert world.gw.events_after(0, limit=0) == []


def test_concurrent_invocations_serialise(world: World, db: Database) -> None:
    gw, user, m = world.gw, world.approve, world.merchant
    start = ledger_sequence(db)
    records: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                rec = gw.invoke(
                    "bnpl_core",
                    "create_bill",
                    [m.public_key, user.public_key, USDC, "c"],
                    signer=m,
                )
                gw.invoke("bnpl_core", "pay_bill_bnpl", [rec.result], signer=user)
                records.append(rec)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ledger_sequence(db) == start + 40
    assert sorted(r.result for r in records) == list(range(1, 21))  # type: ignore[attr-defined]
    assert gw.read("lp_token", "total_borrowed") == 20 * USDC
    cursors = [e.cursor for e in gw.events_after(0, limit=100_000)]
    assert cursors == list(range(1, len(cursors) + 1))


def test_concurrent_genesis_happens_once(db_url: str, clock: FakeClock) -> None:
    with connect(db_url) as db:
        gateways = [LocalGateway(db, clock=clock, sealer=SEALER) for _ in range(3)]
        results: list[str] = []

        def run(g: LocalGateway) -> None:
            results.append(g.genesis().admin.public_key)

        threads = [threading.Thread(target=run, args=(g,)) for g in gateways]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 3 and len(set(results)) == 1
        inits = [e for e in gateways[0].events_after(0, limit=10_000) if e.name == "init"]
        assert len(inits) == 1


def test_contract_error_is_the_shared_type(world: World) -> None:
    with pytest.raises(ContractError) as info:
        world.pay(12345, world.approve)
    assert (info.value.contract, info.value.code, info.value.name) == ("bnpl_core", 0, TRAPPED)
