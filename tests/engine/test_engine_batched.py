"""Many calls in one database transaction (a batch, as the history fill makes them) leave
the ledger's tables exactly as the same calls each in a transaction of its own: the
calls' writes wait in the transaction's ledger hold (``_ledger_hold``) and are made at
the COMMIT, and everything the transaction reads meanwhile sees them."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import nullcontext
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from engine_support import DAY, SEALER, USDC, FakeClock
from stellar_sdk import Keypair, TransactionEnvelope

from lumenlater_sdk.backend.chain import ContractError, TxRecord
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.local._ledger_hold import LedgerHold
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.db._recording import RecordingTx

_MERCHANT = Keypair.from_raw_ed25519_seed(bytes([1]) * 32)
_NEWCOMER = Keypair.from_raw_ed25519_seed(bytes([2]) * 32)


def _copy(url: str, tag: str) -> str:
    """A copy of the (closed) database at *url*."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        target = f"{path}.{tag}"
        with sqlite3.connect(path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"sqlite:///{target}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}_{tag}" TEMPLATE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}_{tag}"))


def _scenario(db: Database, *, one_transaction: bool) -> list[Any]:
    """Bills made, paid (one refused on the way), a wallet funded, time moved, a signed
    envelope that fails when applied, the events read, a repayment and a liquidation;
    with *one_transaction*, all in one transaction. What each step answered."""
    gw = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    g = gw.genesis()
    user = g.wallets["approve"]
    out: list[Any] = []
    with db.transaction() if one_transaction else nullcontext() as tx:

        def call(contract: str, function: str, args: list[Any], signer: Keypair) -> TxRecord:
            record = gw.invoke(contract, function, args, signer=signer, tx=tx)
            out.append(dataclasses.replace(record, fresh=False))
            return record

        bills = [
            int(
                call(
                    "bnpl_core",
                    "create_bill",
                    [_MERCHANT.public_key, user.public_key, (5 + i) * USDC, f"o-{i}"],
                    _MERCHANT,
                ).result
            )
            for i in range(3)
        ]
        for bill in bills[:2]:
            call("bnpl_core", "pay_bill_bnpl", [bill], user)
        with pytest.raises(ContractError):  # paid already: the refusal keeps nothing
            call("bnpl_core", "pay_bill_bnpl", [bills[0]], user)
        out.append(gw.fund_wallet(_NEWCOMER, usdc=50 * USDC, lp_deposit=20 * USDC, tx=tx))
        out.append(gw.advance_clock(3600, tx=tx))
        prepared = gw.prepare_transaction(
            "bnpl_core", "pay_bill_bnpl", [bills[2]], source=user.public_key, tx=tx
        )
        call("bnpl_core", "pay_bill_bnpl", [bills[2]], user)
        envelope = TransactionEnvelope.from_xdr(prepared.xdr, prepared.network_passphrase)
        envelope.sign(user)
        with pytest.raises(ContractError):  # no longer payable: a FAILED transaction
            gw.submit_transaction(envelope.to_xdr(), expected=prepared, tx=tx)
        # A read of the event table sees every call so far, then calls go on.
        out.append([(e.cursor, e.name, e.ledger) for e in gw.events_after(0, limit=999, tx=tx)])
        out.append(gw.read("bnpl_core", "get_user_bills", [user.public_key], tx=tx))
        owed = int(gw.read("bnpl_core", "get_user_total_debt", [user.public_key], tx=tx)[1])
        core = gw.contract_id("bnpl_core")
        call("usdc", "approve", [user.public_key, core, owed, 0], user)
        call("bnpl_core", "repay_bill", [bills[0]], user)
        out.append(gw.advance_clock(30 * DAY, tx=tx))
        lp = g.liquidity_provider
        call("bnpl_core", "liquidate_bill", [bills[1], lp.public_key], lp)
        out.append(gw.now(tx=tx))
        out.append(gw.latest_ledger(tx=tx))
    return out


def _tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    queries = {
        "chain_state": "SELECT * FROM chain_state ORDER BY contract, key",
        "chain_events": "SELECT * FROM chain_events ORDER BY event_id",
        "chain_transactions": "SELECT * FROM chain_transactions ORDER BY ledger",
        "chain_ledger": "SELECT sequence, event_id, clock_offset, last_time, genesis"
        " FROM chain_ledger",
        "chain_stellar_accounts": "SELECT * FROM chain_stellar_accounts ORDER BY account_id",
        "chain_rpc_transactions": "SELECT hash, ledger, status, result, events"
        " FROM chain_rpc_transactions ORDER BY ledger",
    }
    with db.transaction(write=False) as tx:
        return {name: tx.fetchall(sql) for name, sql in queries.items()}


def test_calls_in_one_transaction_write_what_single_calls_write(db_url: str) -> None:
    with connect(db_url) as db:
        gw = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
        gw.genesis()
        gw.enroll_and_approve_merchant(_MERCHANT, "mi_1")
    single, batched = _copy(db_url, "single"), _copy(db_url, "batched")
    with connect(single) as a, connect(batched) as b:
        answers = _scenario(a, one_transaction=False)
        assert _scenario(b, one_transaction=True) == answers
        tables = _tables(a)
        assert len(tables["chain_transactions"]) > 10 and tables["chain_rpc_transactions"]
        assert _tables(b) == tables


def test_two_gateways_in_one_transaction_read_each_others_calls(db: Database) -> None:
    """A second gateway (another process's, say: a cache that knows nothing) reading in
    the transaction reads the calls the first kept there, not the database's state."""
    first = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    g = first.genesis()
    first.enroll_and_approve_merchant(_MERCHANT, "mi_1")
    second = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    user = g.wallets["approve"]
    args = [_MERCHANT.public_key, user.public_key, 5 * USDC, "o-1"]
    with db.transaction() as tx:
        bill = int(first.invoke("bnpl_core", "create_bill", args, signer=_MERCHANT, tx=tx).result)
        assert second.read("bnpl_core", "get_bill", [bill], tx=tx)["status"] == "Created"
        second.invoke("bnpl_core", "pay_bill_bnpl", [bill], signer=user, tx=tx)
        assert first.read("bnpl_core", "get_bill", [bill], tx=tx)["status"] == "Paid"
        assert first.latest_ledger(tx=tx) == second.latest_ledger(tx=tx)
    assert LocalGateway(db, clock=FakeClock(), sealer=SEALER).read("bnpl_core", "get_bill", [bill])[
        "status"
    ] == ("Paid")


def test_a_batch_writes_its_chain_rows_in_statements_of_few_parameters(db: Database) -> None:
    """On PostgreSQL each chain table's rows go as one jsonb parameter, however many: psycopg
    rewrites the placeholders of a statement of more than 50 parameters in Python on every
    call (~5 us each), which a batch's multi-row VALUES went through. SQLite keeps them
    (its driver binds in C), in statements within its parameter limit."""
    gw = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    user = gw.genesis().wallets["approve"]
    gw.enroll_and_approve_merchant(_MERCHANT, "mi_1")
    with db.transaction() as tx:
        recording = RecordingTx(tx)
        for i in range(120):  # 120 transactions, events and bill states: past a VALUES batch
            args = [_MERCHANT.public_key, user.public_key, 5 * USDC, f"o-{i}"]
            gw.invoke("bnpl_core", "create_bill", args, signer=_MERCHANT, tx=recording)
        recording.flush_deferred()
    inserts = {
        sql.split()[2]: len(params)
        for sql, params in recording.statements
        if sql.startswith("INSERT INTO chain_")
    }
    assert {"chain_state", "chain_events", "chain_transactions"} <= set(inserts)
    limit = 1 if db.dialect == "postgresql" else 999
    assert max(inserts.values()) <= limit, inserts
    with db.transaction(write=False) as tx:
        assert (
            tx.scalar(
                "SELECT count(*) FROM chain_transactions WHERE function = ?", ("create_bill",)
            )
            == 120
        )


def test_a_rolled_back_transaction_leaves_nothing_of_its_calls(db: Database) -> None:
    gw = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    g = gw.genesis()
    gw.enroll_and_approve_merchant(_MERCHANT, "mi_1")
    before = _tables(db)
    user = g.wallets["approve"]
    args = [_MERCHANT.public_key, user.public_key, 5 * USDC, "o-1"]
    with pytest.raises(RuntimeError), db.transaction() as tx:
        gw.invoke("bnpl_core", "create_bill", args, signer=_MERCHANT, tx=tx)
        gw.advance_clock(DAY, tx=tx)
        raise RuntimeError("the caller failed")
    assert _tables(db) == before
    record = gw.invoke("bnpl_core", "create_bill", args, signer=_MERCHANT)
    assert record.ledger == before["chain_ledger"][0]["sequence"] + 1


def test_a_rollback_to_a_savepoint_takes_back_the_calls_after_it(db: Database) -> None:
    """A keyed request's savepoint (set through Tx.savepoint, as services/idempotency
    sets it) rolled back: the calls after it are gone, those before it stay."""
    gw = LocalGateway(db, clock=FakeClock(), sealer=SEALER)
    g = gw.genesis()
    gw.enroll_and_approve_merchant(_MERCHANT, "mi_1")
    user = g.wallets["approve"]
    start = gw.latest_ledger()

    def bill(tx: Any, order_id: str) -> int:
        args = [_MERCHANT.public_key, user.public_key, 5 * USDC, order_id]
        return int(gw.invoke("bnpl_core", "create_bill", args, signer=_MERCHANT, tx=tx).result)

    with db.transaction() as tx:
        first = bill(tx, "kept")
        tx.savepoint("request")
        gone = bill(tx, "undone")
        gw.invoke("bnpl_core", "pay_bill_bnpl", [first], signer=user, tx=tx)
        tx.rollback_to("request")
        assert gw.latest_ledger(tx=tx) == start + 1
        again = bill(tx, "after")
        tx.release("request")
    assert again == gone
    assert gw.read("bnpl_core", "get_bill", [again])["order_id"] == "after"
    assert gw.read("bnpl_core", "get_bill", [first])["status"] == "Created"
    assert gw.latest_ledger() == start + 2
    with db.transaction(write=False) as tx:
        calls = tx.fetchall("SELECT ledger FROM chain_transactions WHERE ledger > ?", (start,))
    assert [r["ledger"] for r in calls] == [start + 1, start + 2]
    with db.transaction() as tx:
        tx.savepoint("request")  # before any call, as a keyed request's: no hold saw it
        bill(tx, "all undone")
        tx.rollback_to("request")
    assert gw.latest_ledger() == start + 2


def _kept(hold: LedgerHold) -> dict[str, Any]:
    return {"row": hold.row, "state": dict(hold.state)}


def test_a_span_undone_leaves_the_hold_as_it_was(gw: LocalGateway, db: Database) -> None:
    hold = LedgerHold()
    with db.transaction(write=False) as tx:
        hold.row = tx.fetchone("SELECT * FROM chain_ledger WHERE id = 1")
        hold.record({("c", "a"): 1}, [], (1,), sequence=1)
        kept = _kept(hold)
        mark = hold.mark()
        hold.record({("c", "a"): 2, ("c", "b"): [3]}, [(9,)], (2,), sequence=2)
        inner = hold.mark()
        hold.record({("c", "b"): [4]}, [], (3,), sequence=3)
        hold.restore(inner)
        hold.unmark()
        assert hold.state == {("c", "a"): 2, ("c", "b"): [3]}
        hold.restore(mark)
        hold.unmark()
        assert _kept(hold) == kept
        with pytest.raises(RuntimeError):  # a span that may be undone never writes
            hold.mark()
            hold.flush(tx)
