"""A shopper signs the whole transaction in their own wallet; the gateway prepares and submits it.

Over both gateways: ``prepare_transaction`` builds ``pay_bill_bnpl`` with the shopper's
account as the source (its next sequence number, simulated and assembled, the auth
entry ``SOURCE_ACCOUNT``), the test signs the envelope with stellar-sdk as a wallet's
``signTransaction`` would, and ``submit_transaction`` applies it: the record and the
``payment`` event as ``invoke`` gives them. Envelopes signed by another key, altered
after preparing, or replayed are refused before they run, and nothing moves.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from stellar_sdk import Keypair, TransactionEnvelope, scval, xdr
from stellar_sdk.operation import InvokeHostFunction

from lumenlater_sdk.backend.chain import (
    AUTH_FAILED,
    ENVELOPE_DUPLICATE,
    ENVELOPE_NOT_PREPARED,
    EnvelopeRefusedError,
    PreparedTransaction,
    TxRecord,
)
from lumenlater_sdk.backend.chain.soroban import ChainOutcomeUnknownError, SorobanGateway

from .parity_support import USDC, Chain

BILL = 100 * USDC


def new_operation() -> str:
    """An operation name (a request's idempotency key): unique, as the soroban gateway's
    journal outlives a test."""
    return f"op_{uuid.uuid4().hex}"


def prepare_payment(chain: Chain, user: Keypair, bill_id: int) -> PreparedTransaction:
    return chain.gw.prepare_transaction(
        "bnpl_core", "pay_bill_bnpl", [bill_id], source=user.public_key
    )


def envelope(prepared: PreparedTransaction) -> TransactionEnvelope:
    return TransactionEnvelope.from_xdr(prepared.xdr, prepared.network_passphrase)


def signed(prepared: PreparedTransaction, *signers: Keypair) -> str:
    """What a wallet's ``signTransaction(xdr, {networkPassphrase})`` gives back."""
    env = envelope(prepared)
    for kp in signers:
        env.sign(kp)
    return env.to_xdr()


def operation_of(env: TransactionEnvelope) -> InvokeHostFunction:
    op = env.transaction.operations[0]
    assert isinstance(op, InvokeHostFunction)
    return op


def with_bill_id(env: TransactionEnvelope, bill_id: int) -> None:
    """Point the envelope's ``pay_bill_bnpl`` (and its auth entry) at another bill."""
    op = operation_of(env)
    invoke = op.host_function.invoke_contract
    assert invoke is not None
    invoke.args = [scval.to_uint64(bill_id)]
    for entry in op.auth:
        fn = entry.root_invocation.function.contract_fn
        assert fn is not None
        fn.args = [scval.to_uint64(bill_id)]


def expect_refusal(info: pytest.ExceptionInfo[EnvelopeRefusedError], name: str) -> None:
    e = info.value
    assert (e.name, e.code, e.contract) == (name, 0, "bnpl_core"), e


def shape(record: TxRecord) -> list[tuple[str, str, tuple[type, ...], list[str]]]:
    """The events of a record without their values: contract, name, topic types, data keys."""
    return [
        (
            e.contract,
            e.name,
            tuple(type(t) for t in e.topics),
            sorted(e.data) if isinstance(e.data, dict) else [type(e.data).__name__],
        )
        for e in record.events
    ]


# --- prepare ----------------------------------------------------------------------------


def test_prepare_gives_the_unsigned_assembled_transaction(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    p = prepare_payment(chain, user, bill_id)
    env = envelope(p)
    tx = env.transaction
    assert env.signatures == []
    assert p.hash == env.hash_hex()
    assert p.network_passphrase == chain.gw.describe().network_passphrase
    assert (p.source, p.contract, p.function) == (user.public_key, "bnpl_core", "pay_bill_bnpl")
    assert p.contract_id == chain.id("bnpl_core")
    assert tx.source.account_id == user.public_key
    assert (tx.sequence, tx.fee) == (p.sequence, p.fee)
    assert tx.preconditions is not None and tx.preconditions.time_bounds is not None
    assert tx.preconditions.time_bounds.max_time == p.max_time > chain.time()
    # Simulated and assembled: footprint with the bill written, resource fee on top.
    assert tx.soroban_data is not None
    assert tx.soroban_data.resources.footprint.read_write
    assert p.fee > tx.soroban_data.resource_fee.int64 > 0
    (entry,) = operation_of(env).auth
    assert entry.credentials.type == xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT
    fn = entry.root_invocation.function.contract_fn
    assert fn is not None and fn.function_name.sc_symbol == b"pay_bill_bnpl"
    # Preparing writes nothing: the same transaction again, the bill unpaid.
    assert prepare_payment(chain, user, bill_id).sequence == p.sequence
    assert chain.bill_status(bill_id) == "Created"


def test_prepare_refuses_what_simulation_refuses(chain: Chain) -> None:
    user = chain.borrower()
    with chain.refused():
        prepare_payment(chain, user, 999_999_999)  # no such bill: a trap, as invoke says
    # create_bill needs the merchant's authorization: a shopper's wallet cannot give it.
    args = [chain.merchant.public_key, user.public_key, BILL, "o-1"]
    with chain.refused(name=AUTH_FAILED):
        chain.gw.prepare_transaction("bnpl_core", "create_bill", args, source=user.public_key)
    with pytest.raises(EnvelopeRefusedError) as info:
        prepare_payment(chain, Keypair.random(), 1)
    assert info.value.name == "txNO_ACCOUNT"


# --- submit -----------------------------------------------------------------------------


def test_the_shoppers_signature_pays_the_bill_as_invoke_does(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    merchant_before = chain.usdc(chain.merchant.public_key)
    p = prepare_payment(chain, user, bill_id)
    record = chain.gw.submit_transaction(signed(p, user), expected=p)

    assert record.hash == p.hash
    assert chain.bill_status(bill_id) == "Paid"
    assert chain.usdc(chain.merchant.public_key) - merchant_before == BILL - BILL * 15 // 1000
    payment = [e for e in record.events if e.name == "payment"]
    assert len(payment) == 1
    assert payment[0].contract == "bnpl_core"
    assert payment[0].tx_hash == record.hash
    assert payment[0].timestamp == record.timestamp
    # The same call through invoke (the backend signing): the same result and events.
    other = chain.bill(user, BILL, "o-2")
    invoked = chain.pay(other, user)
    assert record.result == invoked.result
    assert shape(record) == shape(invoked)
    # The events are the chain's: events_after finds them under the transaction's hash.
    seen = chain.gw.events_after(payment[0].cursor - 1, limit=1)
    assert [(e.name, e.tx_hash) for e in seen] == [("payment", p.hash)]


def test_an_envelope_signed_by_another_key_is_refused(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    p = prepare_payment(chain, user, bill_id)
    for signers in [(Keypair.random(),), (), (user, Keypair.random())]:
        with pytest.raises(EnvelopeRefusedError) as info:
            chain.gw.submit_transaction(signed(p, *signers), expected=p)
        name = "txBAD_AUTH_EXTRA" if len(signers) == 2 else "txBAD_AUTH"
        expect_refusal(info, name)
    assert chain.bill_status(bill_id) == "Created"
    # Nothing was spent: the shopper's own signature still pays.
    chain.gw.submit_transaction(signed(p, user), expected=p)
    assert chain.bill_status(bill_id) == "Paid"


def test_an_altered_envelope_is_refused(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    other = chain.bill(user, BILL, "o-2")
    p = prepare_payment(chain, user, bill_id)

    def altered(change: Any, *, sign_after: bool = True) -> str:
        env = envelope(p)
        if not sign_after:
            env.sign(user)
        change(env)
        if sign_after:
            env.sign(user)
        return env.to_xdr()

    def bump_fee(env: TransactionEnvelope) -> None:
        env.transaction.fee += 1

    def bump_sequence(env: TransactionEnvelope) -> None:
        env.transaction.sequence += 1

    def other_bill(env: TransactionEnvelope) -> None:
        with_bill_id(env, other)

    # The shopper signed something else than what was prepared: not the prepared hash.
    for change in (other_bill, bump_fee, bump_sequence):
        with pytest.raises(EnvelopeRefusedError) as info:
            chain.gw.submit_transaction(altered(change), expected=p)
        expect_refusal(info, ENVELOPE_NOT_PREPARED)
    # Changed after the shopper signed: the signature no longer covers the transaction.
    with pytest.raises(EnvelopeRefusedError) as info:
        chain.gw.submit_transaction(altered(other_bill, sign_after=False))
    expect_refusal(info, "txBAD_AUTH")
    # Without an expected transaction, the ledger refuses a sequence number out of turn.
    with pytest.raises(EnvelopeRefusedError) as info:
        chain.gw.submit_transaction(altered(bump_sequence))
    expect_refusal(info, "txBAD_SEQ")
    assert (chain.bill_status(bill_id), chain.bill_status(other)) == ("Created", "Created")
    chain.gw.submit_transaction(signed(p, user), expected=p)
    assert (chain.bill_status(bill_id), chain.bill_status(other)) == ("Paid", "Created")


def test_a_replayed_envelope_is_refused(chain: Chain) -> None:
    user = chain.borrower()
    p = prepare_payment(chain, user, chain.bill(user, BILL))
    envelope_xdr = signed(p, user)
    chain.gw.submit_transaction(envelope_xdr, expected=p, operation=new_operation())
    for operation in (None, new_operation()):
        with pytest.raises(EnvelopeRefusedError) as info:
            chain.gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
        expect_refusal(info, ENVELOPE_DUPLICATE)


def test_a_retry_with_the_same_operation_returns_the_first_record(chain: Chain) -> None:
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    p = prepare_payment(chain, user, bill_id)
    envelope_xdr = signed(p, user)
    operation = new_operation()
    first = chain.gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
    again = chain.gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
    assert again == first
    assert chain.bill_status(bill_id) == "Paid"
    # The operation is done: another transaction under its name is not sent either.
    other = chain.bill(user, BILL, "o-2")
    q = prepare_payment(chain, user, other)
    assert chain.gw.submit_transaction(signed(q, user), expected=q, operation=operation) == first
    assert chain.bill_status(other) == "Created"


def test_a_failing_call_spends_the_transaction(chain: Chain) -> None:
    """Prepared while payable, applied after the bill was paid: the call traps on chain,
    the sequence number is spent, and the envelope cannot be sent again."""
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    p = prepare_payment(chain, user, bill_id)
    chain.pay(bill_id, user)
    envelope_xdr = signed(p, user)
    with chain.refused():
        chain.gw.submit_transaction(envelope_xdr, expected=p)
    with pytest.raises(EnvelopeRefusedError) as info:
        chain.gw.submit_transaction(envelope_xdr, expected=p)
    expect_refusal(info, ENVELOPE_DUPLICATE)
    assert prepare_payment(chain, user, chain.bill(user, BILL, "o-2")).sequence == p.sequence + 1


# Only over RPC: the in-process ledger applies a transaction within the call, so its
# outcome is never unknown.
@pytest.mark.parametrize("chain", ["soroban"], indirect=True)
def test_an_unknown_outcome_retry_finds_the_first_submission(
    chain: Chain, request: pytest.FixtureRequest
) -> None:
    """The node takes the envelope but applies it only later: the first submission's
    outcome is unknown; the retry with the same operation waits for that transaction
    rather than refusing it as a replay, and the bill is paid once."""
    from lumenlater_sdk.backend.soroban_rpc._congestion import congestion

    gw = chain.gw
    assert isinstance(gw, SorobanGateway)
    node = congestion(request.getfixturevalue("soroban_chain").backend.gateway)
    user = chain.borrower()
    bill_id = chain.bill(user, BILL)
    p = prepare_payment(chain, user, bill_id)
    envelope_xdr = signed(p, user)
    operation = new_operation()
    timeout, gw.poll_timeout = gw.poll_timeout, 0.2
    node.hold()
    try:
        with pytest.raises(ChainOutcomeUnknownError) as info:
            gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
        assert info.value.tx_hash == p.hash
        # Still unknown: the retry is not sent again, and its outcome is still unknown.
        with pytest.raises(ChainOutcomeUnknownError):
            gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
    finally:
        gw.poll_timeout = timeout
        applied = node.release()
    assert applied == [p.hash]
    record = gw.submit_transaction(envelope_xdr, expected=p, operation=operation)
    assert record.hash == p.hash
    assert [e.name for e in record.events].count("payment") == 1
    assert chain.bill_status(bill_id) == "Paid"
    with pytest.raises(EnvelopeRefusedError) as refused:
        gw.submit_transaction(envelope_xdr, expected=p, operation=new_operation())
    expect_refusal(refused, ENVELOPE_DUPLICATE)
