"""The sandbox endpoint's own ``lumenlater_*`` methods, through stellar-sdk's HTTP client
and JSON-RPC 2.0 as any tool would send them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from stellar_sdk import Keypair, SorobanServer
from stellar_sdk.exceptions import AccountNotFoundException
from stellar_sdk.soroban_rpc import EventFilter, EventFilterType

from lumenlater_sdk.backend.chain import ContractError
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.local._rpc_ledger import RpcLedger
from lumenlater_sdk.backend.chain.soroban import Rpc
from lumenlater_sdk.backend.db._recording import RecordingTx
from lumenlater_sdk.backend.soroban_rpc import SANDBOX_METHODS
from lumenlater_sdk.backend.testing import SandboxHandle

from .conftest import friend
from .test_flow import USDC


def call(sandbox: SandboxHandle, method: str, **params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    answer = httpx.post(f"{sandbox.base_url}/soroban/rpc", json=body)
    assert answer.status_code == 200
    got: dict[str, Any] = answer.json()
    assert got["id"] == 7 and got["jsonrpc"] == "2.0"
    return got


def error(sandbox: SandboxHandle, method: str, **params: Any) -> tuple[int, str]:
    got = call(sandbox, method, **params)
    assert "result" not in got, got
    return got["error"]["code"], got["error"]["message"]


def test_the_methods_are_listed(sandbox: SandboxHandle, server: SorobanServer) -> None:
    got = call(sandbox, "lumenlater_sandbox")["result"]
    assert got["methods"] == list(SANDBOX_METHODS)
    assert got["contracts"] == sandbox.backend.genesis.contract_ids  # type: ignore[union-attr]
    latest = server.get_latest_ledger()
    assert (got["latestLedger"], got["closeTime"]) == (latest.sequence, int(latest.close_time))
    # What a client of a network without them sees: method not found.
    assert error(sandbox, "lumenlater_nope")[0] == -32601
    rpc = Rpc(f"{sandbox.base_url}/soroban/rpc")
    assert rpc.extension("lumenlater_nope", {}) is None
    assert rpc.extension("lumenlater_sandbox", {})["methods"] == list(SANDBOX_METHODS)  # type: ignore[index]


def test_advance_clock_closes_a_ledger_later(sandbox: SandboxHandle, server: SorobanServer) -> None:
    before = server.get_latest_ledger()
    moved = call(sandbox, "lumenlater_advanceClock", seconds=3 * 86_400)["result"]
    after = server.get_latest_ledger()
    assert moved == {"latestLedger": after.sequence, "closeTime": int(after.close_time)}
    assert after.sequence == before.sequence + 1
    assert int(before.close_time) + 3 * 86_400 <= int(after.close_time)
    assert int(after.close_time) < int(before.close_time) + 3 * 86_400 + 60
    assert sandbox.backend.gateway.now() >= int(after.close_time)


@pytest.mark.parametrize(
    "params",
    [{}, {"seconds": -1}, {"seconds": 1.5}, {"seconds": "60"}, {"seconds": True}],
    ids=["missing", "negative", "float", "string", "bool"],
)
def test_advance_clock_refuses_what_is_not_seconds(
    sandbox: SandboxHandle, params: dict[str, Any]
) -> None:
    before = sandbox.backend.gateway.latest_ledger()
    if not params:  # no seconds is a move of none: allowed
        assert "result" in call(sandbox, "lumenlater_advanceClock")
        return
    code, message = error(sandbox, "lumenlater_advanceClock", **params)
    assert code == -32602 and "seconds" in message
    assert sandbox.backend.gateway.latest_ledger() == before  # nothing closed
    code, message = error(sandbox, "lumenlater_advanceClock", seconds=11 * 365 * 86_400)
    assert code == -32602 and "at most" in message


def test_fund_makes_the_account_and_mints_exactly(
    sandbox: SandboxHandle, server: SorobanServer
) -> None:
    kp = Keypair.random()
    got = call(sandbox, "lumenlater_fund", address=kp.public_key, usdc=123 * USDC)["result"]
    assert got == {"account": kp.public_key, "created": True, "usdc": 123 * USDC}
    assert server.load_account(kp.public_key).sequence > 0
    gateway = sandbox.backend.gateway
    assert gateway.read("usdc", "balance", [kp.public_key]) == 123 * USDC
    again = call(sandbox, "lumenlater_fund", address=kp.public_key, usdc=2 * USDC)["result"]
    assert again["created"] is False
    assert gateway.read("usdc", "balance", [kp.public_key]) == 125 * USDC
    for bad in ({"address": "GNOPE", "usdc": 1}, {"address": kp.public_key, "usdc": 1.0}):
        assert error(sandbox, "lumenlater_fund", **bad)[0] == -32602
    assert gateway.read("usdc", "balance", [kp.public_key]) == 125 * USDC


def test_approve_merchant_needs_its_own_enrollment(
    sandbox: SandboxHandle, server: SorobanServer
) -> None:
    gateway = sandbox.backend.gateway
    merchant = friend(sandbox)
    code, message = error(sandbox, "lumenlater_approveMerchant", merchant=merchant.public_key)
    assert code == -32602 and "enroll_merchant" in message
    with pytest.raises(ContractError):  # never enrolled on the admin's say-so
        gateway.read("bnpl_core", "get_merchant", [merchant.public_key])
    gateway.invoke("bnpl_core", "enroll_merchant", [merchant.public_key, "mi_1"], signer=merchant)
    start = server.get_latest_ledger().sequence
    got = call(sandbox, "lumenlater_approveMerchant", merchant=merchant.public_key)["result"]
    assert got == {"merchant": merchant.public_key, "status": "Approved"}
    assert gateway.read("bnpl_core", "get_merchant", [merchant.public_key]) == {
        "merchant_info_id": "mi_1",
        "status": "Approved",
    }
    # The admin's approval is a real transaction: its event is on the ledger.
    core = sandbox.backend.genesis.contract_ids["bnpl_core"]  # type: ignore[union-attr]
    events = server.get_events(
        start, filters=[EventFilter(event_type=EventFilterType.CONTRACT, contract_ids=[core])]
    ).events
    assert [e.topic[0] for e in events][-1:] == ["AAAADwAAAAhtX3N0YXR1cw=="]  # Symbol("m_status")
    # Approving again is harmless and writes nothing.
    call(sandbox, "lumenlater_approveMerchant", merchant=merchant.public_key)
    assert len(server.get_events(start, filters=[EventFilter(contract_ids=[core])]).events) == len(
        events
    )


def test_a_wallet_that_signs_after_a_sync_has_its_account(
    sandbox: SandboxHandle, server: SorobanServer
) -> None:
    # A wallet the sandbox signs for (a shop's shopper) has a Stellar account once it
    # signed a call: the lookup syncs the signers of the calls since the last sync
    # only, so each round's wallet is found from that round's calls alone.
    gw = sandbox.backend.gateway
    for _ in range(2):
        wallet = Keypair.random()
        gw.fund_wallet(wallet, lp_deposit=10 * USDC)  # type: ignore[attr-defined]
        assert server.load_account(wallet.public_key).sequence > 0
    with pytest.raises(AccountNotFoundException):
        server.load_account(Keypair.random().public_key)  # signed nothing: no account


def test_a_sync_writes_only_the_accounts_it_lacks(sandbox: SandboxHandle) -> None:
    # A sync finds the accounts it lacks in one read by key and writes those only; with
    # no call since the last sync it reads none of the contract state (the merchants'
    # scan reads every key of the core contract: 220 ms at a million bills).
    gw = sandbox.backend.gateway
    assert isinstance(gw, LocalGateway)
    ledger = RpcLedger(gw, sync=False)
    ledger.sync_accounts()

    def recorded_sync() -> list[tuple[str, list[Any]]]:
        with sandbox.backend.db.transaction() as tx:
            recording = RecordingTx(tx)
            ledger.sync_accounts(tx=recording)
        return recording.statements

    def inserted(statements: list[tuple[str, list[Any]]]) -> set[str]:
        return {p[0] for sql, p in statements if sql.lstrip().upper().startswith("INSERT")}

    idle = recorded_sync()
    assert inserted(idle) == set()
    assert not [sql for sql, _ in idle if "chain_state" in sql]
    wallets = [Keypair.random() for _ in range(3)]
    for wallet in wallets:
        gw.fund_wallet(wallet, lp_deposit=10 * USDC)
    with sandbox.backend.db.transaction() as tx:
        for wallet in wallets:  # the new wallets only, as the sync is asked to find them
            tx.execute(
                "DELETE FROM chain_stellar_accounts WHERE account_id = ?", (wallet.public_key,)
            )
    assert inserted(recorded_sync()) == {w.public_key for w in wallets}
    assert inserted(recorded_sync()) == set()
