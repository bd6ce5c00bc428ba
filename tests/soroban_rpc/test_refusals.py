"""What the endpoint refuses, each as the network reports it; events and ledger entries."""

from __future__ import annotations

import copy

import httpx
import pytest
from stellar_sdk import Keypair, SorobanServer, TransactionBuilder, scval, xdr
from stellar_sdk.auth import authorize_entry
from stellar_sdk.soroban_rpc import EventFilter, EventFilterType, GetTransactionStatus

from lumenlater_sdk.backend.chain.soroban import (
    data_key,
    decode_data_value,
    instance_ledger_key,
    ledger_key,
)
from lumenlater_sdk.backend.testing import SandboxHandle

from .conftest import friend
from .test_flow import PASS, USDC, build, submit


def _code(sent: object) -> xdr.TransactionResultCode:
    assert sent.status.value == "ERROR", sent  # type: ignore[attr-defined]
    return xdr.TransactionResult.from_xdr(sent.error_result_xdr).result.code  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def shop(sandbox: SandboxHandle, server: SorobanServer) -> Keypair:
    merchant = friend(sandbox)
    sandbox.backend.gateway.enroll_and_approve_merchant(merchant, "shop")  # type: ignore[attr-defined]
    return merchant


def _bill_tx(
    sandbox: SandboxHandle, server: SorobanServer, payer: Keypair, merchant: Keypair
) -> object:
    core = sandbox.backend.genesis.contract_ids["bnpl_core"]
    args = [
        scval.to_address(merchant.public_key),
        scval.to_address(payer.public_key),
        scval.to_int128(10 * USDC),
        scval.to_string("o"),
    ]
    return server.prepare_transaction(build(server, payer, core, "create_bill", args))


def test_envelope_refusals(sandbox: SandboxHandle, server: SorobanServer) -> None:
    kp = friend(sandbox)
    core = sandbox.backend.genesis.contract_ids["bnpl_core"]
    tx = server.prepare_transaction(
        build(
            server,
            kp,
            core,
            "enroll_merchant",
            [scval.to_address(kp.public_key), scval.to_string("x")],
        )
    )
    wrong_net = TransactionBuilder.from_xdr(tx.to_xdr(), "Test SDF Network ; September 2015")
    wrong_net.sign(kp)
    assert _code(server.send_transaction(wrong_net)) == xdr.TransactionResultCode.txBAD_AUTH
    other = copy.deepcopy(tx)
    other.sign(Keypair.random())
    assert _code(server.send_transaction(other)) == xdr.TransactionResultCode.txBAD_AUTH
    cheap = copy.deepcopy(tx)
    cheap.transaction.fee = 100
    cheap.sign(kp)
    assert _code(server.send_transaction(cheap)) == xdr.TransactionResultCode.txINSUFFICIENT_FEE
    seq = copy.deepcopy(tx)
    seq.transaction.sequence += 5
    seq.sign(kp)
    assert _code(server.send_transaction(seq)) == xdr.TransactionResultCode.txBAD_SEQ
    tx.sign(kp)
    assert server.send_transaction(tx).status.value == "PENDING"
    assert server.send_transaction(tx).status.value == "DUPLICATE"


def test_auth_entry_refusals(sandbox: SandboxHandle, server: SorobanServer, shop: Keypair) -> None:
    payer = friend(sandbox)
    latest = server.get_latest_ledger().sequence
    for signer, until in ((Keypair.random(), latest + 50), (shop, latest - 1)):
        tx = _bill_tx(sandbox, server, payer, shop)
        op = tx.transaction.operations[0]  # type: ignore[attr-defined]
        op.auth = [authorize_entry(op.auth[0], signer, until, PASS)]
        got = submit(server, tx, payer)
        assert got.status == GetTransactionStatus.FAILED
        res = xdr.TransactionResult.from_xdr(got.result_xdr).result
        assert res.code == xdr.TransactionResultCode.txFAILED
        assert res.results[0].tr.invoke_host_function_result.code == (
            xdr.InvokeHostFunctionResultCode.INVOKE_HOST_FUNCTION_TRAPPED
        )
        assert got.events.contract_events_xdr == [[]]
    # A replayed entry: the same signed entry in a second transaction.
    tx = _bill_tx(sandbox, server, payer, shop)
    op = tx.transaction.operations[0]  # type: ignore[attr-defined]
    signed = authorize_entry(op.auth[0], shop, latest + 50, PASS)
    op.auth = [signed]
    assert submit(server, tx, payer).status == GetTransactionStatus.SUCCESS
    again = _bill_tx(sandbox, server, payer, shop)
    again.transaction.operations[0].auth = [signed]  # type: ignore[attr-defined]
    assert submit(server, again, payer).status == GetTransactionStatus.FAILED


def test_json_rpc_errors(sandbox: SandboxHandle, server: SorobanServer) -> None:
    url = f"{sandbox.base_url}/soroban/rpc"
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "nope"})
    assert r.status_code == 200 and r.json()["error"]["code"] == -32601
    r = httpx.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 2,
            "method": "sendTransaction",
            "params": {"transaction": "AAAA!!"},
        },
    )
    assert r.json()["error"]["code"] == -32602 and r.json()["id"] == 2
    r = httpx.post(url, content=b"{not json")
    assert r.json()["error"]["code"] == -32700


def test_events_and_entries(sandbox: SandboxHandle, server: SorobanServer, shop: Keypair) -> None:
    core = sandbox.backend.genesis.contract_ids["bnpl_core"]
    payer = friend(sandbox)
    for _ in range(3):
        tx = _bill_tx(sandbox, server, payer, shop)
        op = tx.transaction.operations[0]  # type: ignore[attr-defined]
        op.auth = [
            authorize_entry(op.auth[0], shop, server.get_latest_ledger().sequence + 20, PASS)
        ]
        assert submit(server, tx, payer).status == GetTransactionStatus.SUCCESS
    flt = EventFilter(
        type=EventFilterType.CONTRACT,
        contractIds=[core],
        topics=[["AAAADwAAAAhiaWxsX25ldw==", "*", "*"]],
    )
    first = server.get_events(start_ledger=1, filters=[flt], limit=2)
    assert len(first.events) == 2
    rest = server.get_events(filters=[flt], cursor=first.cursor, limit=100)
    ids = [e.id for e in first.events + rest.events]
    assert len(ids) == len(set(ids)) >= 3 and ids == sorted(ids)
    assert all(e.topic[0] == "AAAADwAAAAhiaWxsX25ldw==" for e in first.events + rest.events)
    assert (
        server.get_events(
            start_ledger=1,
            filters=[
                EventFilter(
                    type=EventFilterType.CONTRACT, topics=[["AAAADwAAAAhiaWxsX25ldw==", "*"]]
                )
            ],
        ).events
        == []
    )

    bill_id = scval.from_uint64(xdr.SCVal.from_xdr(first.events[0].topic[2]))
    entries = server.get_ledger_entries([ledger_key(core, "bnpl_core", "Bill", bill_id)])
    data = xdr.LedgerEntryData.from_xdr(entries.entries[0].xdr).contract_data
    assert data.key == data_key("bnpl_core", "Bill", bill_id)
    bill = decode_data_value("bnpl_core", "Bill", data.val)
    assert bill == sandbox.backend.gateway.read("bnpl_core", "get_bill", [bill_id])
    assert server.load_account(payer.public_key).sequence > 0


def test_trapped_call_fails_without_events_last(
    sandbox: SandboxHandle, server: SorobanServer, shop: Keypair
) -> None:
    user = friend(sandbox)
    gw = sandbox.backend.gateway
    rec = gw.invoke(
        "bnpl_core", "create_bill", [shop.public_key, user.public_key, 5 * USDC, "exp"], signer=shop
    )
    gw.advance_clock(40 * 86400)  # type: ignore[attr-defined]
    core = sandbox.backend.genesis.contract_ids["bnpl_core"]
    sim = server.simulate_transaction(
        build(server, user, core, "pay_bill_bnpl", [scval.to_uint64(rec.result)])
    )
    assert sim.error == "HostError: Error(WasmVm, InvalidAction)"


def _instance_storage(server: SorobanServer, contract_id: str) -> dict[bytes, xdr.SCVal]:
    entries = server.get_ledger_entries([instance_ledger_key(contract_id)])
    data = xdr.LedgerEntryData.from_xdr(entries.entries[0].xdr).contract_data
    storage = data.val.instance.storage.sc_map
    return {entry.key.to_xdr_bytes(): entry.val for entry in storage}


def test_token_instance_entries_hold_every_deployed_value(
    sandbox: SandboxHandle, server: SorobanServer
) -> None:
    gw = sandbox.backend.gateway
    holder = friend(sandbox)  # friendbot mints to it today: a LastMint and a DailyMinted
    usdc = _instance_storage(server, gw.contract_id("usdc"))

    def value(name: str, *key: object) -> object:
        raw = usdc[data_key("usdc", name, *key).to_xdr_bytes()]
        return decode_data_value("usdc", name, raw)

    assert value("Metadata") == {"decimal": 7, "name": "USD Coin", "symbol": "USDC"}
    assert value("MintLimit") == gw.read("usdc", "get_mint_limit")
    assert value("TotalSupply") == gw.read("usdc", "total_supply")
    assert value("Balance", holder.public_key) == gw.read("usdc", "balance", [holder.public_key])
    assert value("DailyMinted", holder.public_key) == gw.read(
        "usdc", "get_daily_minted", [holder.public_key]
    )
    assert value("LastMint", holder.public_key) == gw.now() // 86_400
    lp = _instance_storage(server, gw.contract_id("lp_token"))
    metadata = lp[data_key("lp_token", "metadata").to_xdr_bytes()]
    assert decode_data_value("lp_token", "metadata", metadata) == gw.read("lp_token", "metadata")
    assert data_key("lp_token", "allowance").to_xdr_bytes() in lp
