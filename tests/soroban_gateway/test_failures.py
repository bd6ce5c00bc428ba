"""Traps, an unreachable RPC, and submissions whose outcome arrives late or after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from stellar_sdk import SorobanServer, TransactionBuilder, scval

from lumenlater_sdk.backend.chain import ChainUnavailableError, ContractError
from lumenlater_sdk.backend.chain.soroban import SorobanGateway
from lumenlater_sdk.backend.chain.soroban._journal import Journal, Submission
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

from .conftest import PASSPHRASE, contracts, friend
from .test_gateway import USDC, approved_merchant


def test_paying_an_expired_bill_traps(chain: SandboxHandle, gateway: SorobanGateway) -> None:
    merchant, user = approved_merchant(chain, gateway), friend(chain)
    assert chain.backend.sandbox is not None
    chain.backend.sandbox.fund_wallet(user, lp_deposit=1_000 * USDC)
    bill = gateway.invoke(
        "bnpl_core",
        "create_bill",
        [merchant.public_key, user.public_key, 10 * USDC, "ORD-X"],
        signer=merchant,
    )
    chain.backend.sandbox.advance_clock(2 * 86_400)
    with pytest.raises(ContractError) as refused:
        gateway.invoke("bnpl_core", "pay_bill_bnpl", [bill.result], signer=user)
    assert refused.value.trapped and refused.value.code == 0
    # The local gateway refuses the same call the same way.
    with pytest.raises(ContractError) as local:
        chain.backend.gateway.invoke("bnpl_core", "pay_bill_bnpl", [bill.result], signer=user)
    assert (local.value.code, local.value.name) == (refused.value.code, refused.value.name)


def test_a_signer_that_is_not_the_authoriser_is_refused(
    chain: SandboxHandle, gateway: SorobanGateway
) -> None:
    merchant, other = approved_merchant(chain, gateway), friend(chain)
    with pytest.raises(ContractError) as refused:
        gateway.invoke(
            "bnpl_core",
            "create_bill",
            [merchant.public_key, other.public_key, 10 * USDC, "ORD-Y"],
            signer=other,
        )
    assert refused.value.name == "Auth.InvalidAction"


def test_rpc_down_is_chain_unavailable(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'gw.db'}")
    try:
        with run_sandbox(f"sqlite:///{tmp_path / 'c.db'}", webhook_url=None, soroban_rpc=True) as c:
            source, user = friend(c), friend(c)
            gw = SorobanGateway(
                rpc_url=f"{c.base_url}/soroban/rpc",
                network_passphrase=PASSPHRASE,
                contracts=contracts(c),
                source=source,
                db=db,
                rpc_timeout=2.0,
            )
        with pytest.raises(ChainUnavailableError):
            gw.read("usdc", "balance", [user.public_key])
        with pytest.raises(ChainUnavailableError):
            gw.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
        with pytest.raises(ChainUnavailableError):
            gw.events_after(0)
        assert gw.submissions() == []  # nothing was sent
        with pytest.raises(ChainUnavailableError):
            SorobanGateway(
                rpc_url=f"{c.base_url}/soroban/rpc",
                network_passphrase=PASSPHRASE,
                contracts=contracts(c),
                source=source,
                db=db,
                rpc_timeout=2.0,
            )
    finally:
        db.close()


def test_poll_timeout_reconciles_by_hash_without_resending(
    chain: SandboxHandle, gateway: SorobanGateway
) -> None:
    user = friend(chain)
    before = {s.hash for s in gateway.submissions()}
    balance = gateway.read("usdc", "balance", [user.public_key])
    gateway.poll_timeout = 0.0  # no polling at all: only the reconcile by hash
    try:
        record = gateway.invoke("usdc", "mint", [user.public_key, 5 * USDC], signer=user)
    finally:
        gateway.poll_timeout = 30.0
    new = [s for s in gateway.submissions() if s.hash not in before]
    assert [(s.hash, s.status) for s in new] == [(record.hash, "applied")]
    assert gateway.read("usdc", "balance", [user.public_key]) == balance + 5 * USDC
    assert [e.name for e in record.events] == ["mint"]


def test_restart_reconciles_in_flight_submissions(chain: SandboxHandle, tmp_path: Path) -> None:
    """A process that died between send and outcome: its journal still says ``sent``."""
    db: Database = connect(f"sqlite:///{tmp_path / 'gw.db'}")
    try:
        journal = Journal(db)
        server = SorobanServer(f"{chain.base_url}/soroban/rpc")
        user = friend(chain)
        close = server.get_latest_ledger().close_time

        def envelope(max_time: int) -> object:
            tx = (
                TransactionBuilder(server.load_account(user.public_key), PASSPHRASE, base_fee=100)
                .append_invoke_contract_function_op(
                    contracts(chain)["usdc"],
                    "mint",
                    [scval.to_address(user.public_key), scval.to_int128(USDC)],
                )
                .add_time_bounds(0, max_time)
                .build()
            )
            tx = server.prepare_transaction(tx)
            tx.sign(user)
            return tx

        sent = envelope(close + 300)
        journal.record_sent(
            Submission(sent.hash_hex(), "usdc", "mint", sent.to_xdr(), close + 300, "sent")  # type: ignore[attr-defined]
        )
        server.send_transaction(sent)  # type: ignore[arg-type]
        lost = envelope(close - 1)  # never sent, and past its time bounds already
        journal.record_sent(
            Submission(lost.hash_hex(), "usdc", "mint", lost.to_xdr(), close - 1, "sent")  # type: ignore[attr-defined]
        )
        gw = SorobanGateway(
            rpc_url=f"{chain.base_url}/soroban/rpc",
            network_passphrase=PASSPHRASE,
            contracts=contracts(chain),
            source=friend(chain),
            db=db,
        )
        settled = {s.hash: s.status for s in gw.submissions()}
        assert settled == {sent.hash_hex(): "applied", lost.hash_hex(): "expired"}  # type: ignore[attr-defined]
    finally:
        db.close()


def test_an_operation_is_sent_once(chain: SandboxHandle, gateway: SorobanGateway) -> None:
    user = friend(chain)
    balance = gateway.read("usdc", "balance", [user.public_key])
    first = gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user, operation="op-1")
    sent = len(gateway.submissions())
    again = gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user, operation="op-1")
    assert again == first and len(gateway.submissions()) == sent
    assert gateway.read("usdc", "balance", [user.public_key]) == balance + USDC
    other = gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user, operation="op-2")
    assert other.hash != first.hash and len(gateway.submissions()) == sent + 1
    plain = gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
    assert plain.hash not in {first.hash, other.hash}
    assert gateway.read("usdc", "balance", [user.public_key]) == balance + 3 * USDC
