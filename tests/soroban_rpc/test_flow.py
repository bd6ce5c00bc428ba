"""The BNPL flow over the sandbox's Soroban RPC, driven by stellar-sdk's own client."""

from __future__ import annotations

import time
from typing import Any

from stellar_sdk import Keypair, Network, SorobanServer, TransactionBuilder, scval, xdr
from stellar_sdk.auth import authorize_entry
from stellar_sdk.soroban_rpc import GetTransactionStatus, SendTransactionStatus

from lumenlater_sdk.backend.chain.soroban import decode_result
from lumenlater_sdk.backend.testing import SandboxHandle

from .conftest import friend

PASS = Network.STANDALONE_NETWORK_PASSPHRASE
USDC = 10_000_000


def build(server: SorobanServer, source: Keypair, contract: str, fn: str, args: list[Any]) -> Any:
    account = server.load_account(source.public_key)
    return (
        TransactionBuilder(account, PASS, base_fee=100)
        .append_invoke_contract_function_op(contract, fn, args)
        .set_timeout(300)
        .build()
    )


def wait(server: SorobanServer, tx_hash: str) -> Any:
    for _ in range(50):
        got = server.get_transaction(tx_hash)
        if got.status != GetTransactionStatus.NOT_FOUND:
            return got
        time.sleep(0.05)
    raise AssertionError("transaction never applied")


def submit(server: SorobanServer, tx: Any, *signers: Keypair) -> Any:
    for kp in signers:
        tx.sign(kp)
    sent = server.send_transaction(tx)
    assert sent.status == SendTransactionStatus.PENDING, sent
    return wait(server, sent.hash)


def call(server: SorobanServer, source: Keypair, contract: str, fn: str, args: list[Any]) -> Any:
    tx = server.prepare_transaction(build(server, source, contract, fn, args))
    return submit(server, tx, source)


def result_value(got: Any) -> xdr.SCVal:
    meta = xdr.TransactionMeta.from_xdr(got.result_meta_xdr)
    return meta.v3.soroban_meta.return_value


def read(server: SorobanServer, source: Keypair, contract: str, fn: str, args: list[Any]) -> Any:
    sim = server.simulate_transaction(build(server, source, contract, fn, args))
    assert sim.error is None, sim.error
    return xdr.SCVal.from_xdr(sim.results[0].xdr)


def test_network_methods(server: SorobanServer) -> None:
    assert server.get_health().status == "healthy"
    net = server.get_network()
    assert net.passphrase == PASS and net.friendbot_url.endswith("/friendbot")
    latest = server.get_latest_ledger()
    header = xdr.LedgerHeader.from_xdr(latest.header_xdr)
    assert header.ledger_seq.uint32 == latest.sequence
    assert server.get_version_info().protocol_version == net.protocol_version
    assert server.get_fee_stats().soroban_inclusion_fee.p50 == 100


def test_bill_flow(sandbox: SandboxHandle, server: SorobanServer) -> None:
    ids = sandbox.backend.genesis.contract_ids
    core, lp, usdc = ids["bnpl_core"], ids["lp_token"], ids["usdc"]
    merchant, user, payer = friend(sandbox), friend(sandbox), friend(sandbox)
    admin = sandbox.backend.genesis.admin
    m, u = scval.to_address(merchant.public_key), scval.to_address(user.public_key)

    got = call(server, merchant, core, "enroll_merchant", [m, scval.to_string("shop-1")])
    assert got.status == GetTransactionStatus.SUCCESS
    assert result_value(got).type == xdr.SCValType.SCV_VOID
    got = call(
        server,
        admin,
        core,
        "update_merchant_status",
        [scval.to_address(admin.public_key), m, scval.to_enum("Approved", None)],
    )
    assert got.status == GetTransactionStatus.SUCCESS

    # The payer pays the fee; the merchant signs create_bill's auth entry.
    tx = server.prepare_transaction(
        build(
            server,
            payer,
            core,
            "create_bill",
            [m, u, scval.to_int128(100 * USDC), scval.to_string("ORD-1")],
        )
    )
    op = tx.transaction.operations[0]
    assert len(op.auth) == 1
    assert op.auth[0].credentials.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_ADDRESS
    latest = server.get_latest_ledger().sequence
    op.auth = [authorize_entry(op.auth[0], merchant, latest + 50, PASS)]
    got = submit(server, tx, payer)
    assert got.status == GetTransactionStatus.SUCCESS, got
    bill_id = scval.from_uint64(result_value(got))

    # Borrowing power from an LP deposit (its auth tree has the USDC transfer below it).
    tx = server.prepare_transaction(
        build(server, user, lp, "deposit", [u, scval.to_int128(1_000 * USDC)])
    )
    entry = tx.transaction.operations[0].auth[0]
    assert entry.credentials.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT
    assert len(entry.root_invocation.sub_invocations) == 1
    assert submit(server, tx, user).status == GetTransactionStatus.SUCCESS

    power = read(server, user, core, "get_user_borrowing_power", [u])
    assert (
        decode_result("bnpl_core", "get_user_borrowing_power", power)["max_borrowing"] == 900 * USDC
    )

    got = call(server, user, core, "pay_bill_bnpl", [scval.to_uint64(bill_id)])
    assert got.status == GetTransactionStatus.SUCCESS
    assert got.events.contract_events_xdr and got.events.contract_events_xdr[0]
    got = call(
        server,
        user,
        usdc,
        "approve",
        [u, scval.to_address(core), scval.to_int128(200 * USDC), scval.to_uint32(1000)],
    )
    assert got.status == GetTransactionStatus.SUCCESS
    got = call(server, user, core, "repay_bill", [scval.to_uint64(bill_id)])
    assert got.status == GetTransactionStatus.SUCCESS

    bill = decode_result(
        "bnpl_core", "get_bill", read(server, user, core, "get_bill", [scval.to_uint64(bill_id)])
    )
    engine = sandbox.backend.gateway.read("bnpl_core", "get_bill", [bill_id])
    assert bill == engine and bill["status"] == "Repaid"
