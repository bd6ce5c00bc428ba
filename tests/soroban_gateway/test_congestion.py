"""A congested RPC node, for real over loopback: ``TRY_AGAIN_LATER`` answers, and a
transaction accepted (``PENDING``) that fails when its ledger closes because the state it
was simulated against changed in between."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stellar_sdk import Keypair, SorobanServer
from stellar_sdk.soroban_rpc import GetTransactionStatus

from lumenlater_sdk.backend.chain import ChainUnavailableError, ContractError
from lumenlater_sdk.backend.chain.local import LocalGateway
from lumenlater_sdk.backend.chain.soroban import SorobanGateway
from lumenlater_sdk.backend.chain.soroban._failures import ChainOutcomeUnknownError
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.soroban_rpc._congestion import Congestion, congestion
from lumenlater_sdk.backend.testing import SandboxHandle

from .conftest import PASSPHRASE, contracts, friend
from .test_gateway import USDC, approved_merchant


def node(chain: SandboxHandle) -> Congestion:
    """The congestion knob of *chain*'s RPC endpoint."""
    ledger = chain.backend.gateway
    assert isinstance(ledger, LocalGateway)
    return congestion(ledger)


@pytest.fixture
def busy_node(chain: SandboxHandle) -> Iterator[Congestion]:
    """The knob, left uncongested whatever the test did."""
    knob = node(chain)
    try:
        yield knob
    finally:
        knob.answer_busy(0)
        knob.release()


def sequence(chain: SandboxHandle, account: Keypair) -> int:
    return SorobanServer(f"{chain.base_url}/soroban/rpc").load_account(account.public_key).sequence


def test_try_again_later_is_retried_with_backoff(
    chain: SandboxHandle, gateway: SorobanGateway, source: Keypair, busy_node: Congestion
) -> None:
    user = friend(chain)
    before = {s.hash for s in gateway.submissions()}
    balance = gateway.read("usdc", "balance", [user.public_key])
    seq = sequence(chain, source)
    answered = busy_node.busy_answered
    busy_node.answer_busy(2)
    started = time.monotonic()
    record = gateway.invoke("usdc", "mint", [user.public_key, 3 * USDC], signer=user)
    assert time.monotonic() - started >= 0.25 + 0.5  # waited before each resend
    assert busy_node.busy_answered - answered == 2 and busy_node.busy == 0
    # Sent three times, one envelope, applied once.
    assert [(s.hash, s.status) for s in gateway.submissions() if s.hash not in before] == [
        (record.hash, "applied")
    ]
    assert gateway.read("usdc", "balance", [user.public_key]) == balance + 3 * USDC
    assert sequence(chain, source) == seq + 1
    assert [e.name for e in record.events] == ["mint"]


def test_busy_longer_than_the_send_attempts_is_chain_unavailable(
    chain: SandboxHandle, busy_node: Congestion, tmp_path: Path
) -> None:
    db = connect(f"sqlite:///{tmp_path / 'gw.db'}")
    source, user = friend(chain), friend(chain)
    try:
        gw = SorobanGateway(
            rpc_url=f"{chain.base_url}/soroban/rpc",
            network_passphrase=PASSPHRASE,
            contracts=contracts(chain),
            source=source,
            db=db,
            poll_interval=0.05,
            send_attempts=3,
        )
        balance = gw.read("usdc", "balance", [user.public_key])
        seq = sequence(chain, source)
        busy_node.answer_busy(4)
        with pytest.raises(ChainUnavailableError) as refused:
            gw.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
        # Not "outcome unknown": the node said it did not take it.
        assert not isinstance(refused.value, ChainOutcomeUnknownError)
        assert "TRY_AGAIN_LATER" in str(refused.value)
        assert busy_node.busy == 1  # three sends, three busy answers
        [lost] = gw.submissions()
        assert lost.status == "refused"
        server = SorobanServer(f"{chain.base_url}/soroban/rpc")
        assert server.get_transaction(lost.hash).status == GetTransactionStatus.NOT_FOUND
        assert gw.read("usdc", "balance", [user.public_key]) == balance
        assert sequence(chain, source) == seq  # the sequence number was not used

        # The node still owes one busy answer: the next call is retried past it and
        # applies, with the sequence number the refused one would have used.
        record = gw.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
        assert busy_node.busy == 0
        assert gw.read("usdc", "balance", [user.public_key]) == balance + USDC
        assert sequence(chain, source) == seq + 1
        assert {(s.hash, s.status) for s in gw.submissions()} == {
            (lost.hash, "refused"),
            (record.hash, "applied"),
        }
    finally:
        db.close()


def test_a_transaction_that_fails_on_chain_after_send(
    chain: SandboxHandle, gateway: SorobanGateway, source: Keypair, busy_node: Congestion
) -> None:
    """Simulated and sent while the bill is payable; paid by another submission before
    the node applies it: the send said PENDING, the chain says FAILED."""
    merchant, user = approved_merchant(chain, gateway), friend(chain)
    sandbox = chain.backend.sandbox
    assert sandbox is not None
    sandbox.fund_wallet(user, lp_deposit=1_000 * USDC)
    bill = gateway.invoke(
        "bnpl_core",
        "create_bill",
        [merchant.public_key, user.public_key, 10 * USDC, "ORD-RACE"],
        signer=merchant,
    )
    before = {s.hash for s in gateway.submissions()}
    seq = sequence(chain, source)
    busy_node.hold()
    outcome: list[BaseException] = []

    def pay() -> None:
        try:
            gateway.invoke("bnpl_core", "pay_bill_bnpl", [bill.result], signer=user)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    payer = threading.Thread(target=pay)
    payer.start()
    deadline = time.monotonic() + 10
    while not busy_node.source_queued(source.public_key):
        assert time.monotonic() < deadline, "the gateway never sent its payment"
        time.sleep(0.02)
    # Meanwhile the customer pays the same bill another way (the chain's own API).
    chain.backend.gateway.invoke("bnpl_core", "pay_bill_bnpl", [bill.result], signer=user)
    [applied] = busy_node.release()
    payer.join(30)
    assert not payer.is_alive()

    [refused] = outcome
    assert isinstance(refused, ContractError) and refused.trapped and refused.code == 0
    [sub] = [s for s in gateway.submissions() if s.hash not in before]
    assert (sub.hash, sub.status) == (applied, "failed")
    got = SorobanServer(f"{chain.base_url}/soroban/rpc").get_transaction(applied)
    assert got.status == GetTransactionStatus.FAILED
    assert sequence(chain, source) == seq + 1  # a failed transaction uses its sequence
    # Paid once, by the other submission; no event of the failed one.
    assert gateway.read("bnpl_core", "get_bill", [bill.result])["status"] == "Paid"
    assert not [e for e in gateway.events_after(0, limit=10_000) if e.tx_hash == applied]
    # And the gateway's next call goes through (its cached sequence is right).
    gateway.invoke("usdc", "mint", [user.public_key, USDC], signer=user)
    assert sequence(chain, source) == seq + 2
