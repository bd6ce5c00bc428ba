"""Transactions a wallet signs itself: prepared by a gateway, signed where the key is.

A shopper's wallet (Freighter's ``signTransaction(xdr, {networkPassphrase})``) signs a
whole ``TransactionEnvelope`` whose source is the shopper's own account; the backend
never sees the key. A gateway prepares that envelope (built with the source's next
sequence number, simulated, assembled: footprint, resource fee and the call's auth
entries with ``SOURCE_ACCOUNT`` credentials, which the envelope signature covers) as a
:class:`PreparedTransaction`, and submits what the wallet signed. The checks every
gateway makes before it submits (one contract call of this chain, the prepared
transaction, signed by its source) are here, I/O free, so both gateways refuse the same
envelopes the same way (:class:`EnvelopeRefusedError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stellar_sdk import Address, Keypair, TransactionEnvelope, xdr
from stellar_sdk.operation import InvokeHostFunction

from ._gateway import AUTH_FAILED, ContractError

__all__ = [
    "ENVELOPE_DUPLICATE",
    "ENVELOPE_MALFORMED",
    "ENVELOPE_NOT_PREPARED",
    "Call",
    "EnvelopeInvalid",
    "EnvelopeRefusedError",
    "PreparedTransaction",
    "assemble",
    "check_signed",
    "decode_call",
    "decode_envelope",
    "prepared",
    "signature_problem",
]

ENVELOPE_NOT_PREPARED = "Envelope.NotPrepared"
"""``EnvelopeRefusedError.name``: not the transaction that was prepared (another hash)."""
ENVELOPE_DUPLICATE = "Envelope.Duplicate"
"""``EnvelopeRefusedError.name``: this transaction was submitted already (a replay)."""
ENVELOPE_MALFORMED = "txMALFORMED"
"""``EnvelopeRefusedError.name``: not a v1 envelope of one call of this chain's contracts."""


@dataclass(frozen=True)
class PreparedTransaction:
    """An unsigned transaction for its *source* to sign in its own wallet.

    ``xdr`` is the base64 ``TransactionEnvelope`` (no signatures), simulated and
    assembled; ``hash`` the hex transaction hash the source signs (network id and
    transaction body: the same once signed); ``network_passphrase`` what the wallet
    signs for. ``contract``/``contract_id``, ``function``, ``sequence``, ``fee``
    (stroops, inclusion plus resource fee) and ``max_time`` (the last ledger close time
    it may apply at) say what it does and until when, for a page that shows it or a
    checker that compares what comes back.
    """

    xdr: str
    hash: str
    network_passphrase: str
    source: str
    contract: str
    contract_id: str
    function: str
    sequence: int
    fee: int
    max_time: int


class EnvelopeRefusedError(ContractError):
    """A signed envelope that was refused before it ran: nothing changed on chain.

    ``name`` is the Stellar transaction result code the network refuses it with
    (``txBAD_AUTH``: not signed by its source alone; ``txBAD_SEQ``; ``txTOO_LATE``;
    ``txNO_ACCOUNT``; ``txINSUFFICIENT_FEE``; :data:`ENVELOPE_MALFORMED`...), or one of
    the gateway's own: :data:`ENVELOPE_NOT_PREPARED`, :data:`ENVELOPE_DUPLICATE`.
    ``code`` is 0. A :class:`ContractError`, so whoever handles refusals handles it.
    """

    def __init__(self, contract: str, name: str, message: str) -> None:
        super().__init__(contract, 0, name, message)

    def __repr__(self) -> str:
        return f"EnvelopeRefusedError({self.contract!r}, {self.name!r}, {self.message!r})"


class EnvelopeInvalid(ValueError):
    """Not an envelope of one contract call (``message``; ``data`` for the RPC's error)."""

    def __init__(self, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


@dataclass(frozen=True)
class Call:
    """One ``INVOKE_HOST_FUNCTION`` / ``INVOKE_CONTRACT`` operation and its transaction."""

    envelope: TransactionEnvelope
    source: str
    contract_id: str
    function: str
    scargs: list[xdr.SCVal]
    auth: list[xdr.SorobanAuthorizationEntry]

    def invocation(self) -> xdr.InvokeContractArgs:
        return xdr.InvokeContractArgs(
            Address(self.contract_id).to_xdr_sc_address(),
            xdr.SCSymbol(self.function.encode()),
            list(self.scargs),
        )


def decode_envelope(text: object, network_passphrase: str) -> TransactionEnvelope:
    """The v1 transaction envelope of base64 *text*, or :class:`EnvelopeInvalid`."""
    if not isinstance(text, str):
        raise EnvelopeInvalid("transaction must be a base64 TransactionEnvelope")
    try:
        raw = xdr.TransactionEnvelope.from_xdr(text)
    except Exception:
        raise EnvelopeInvalid("invalid transaction XDR", "malformed") from None
    if raw.type != xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        raise EnvelopeInvalid("only v1 transaction envelopes are supported (no fee bump, no v0)")
    try:
        return TransactionEnvelope.from_xdr(text, network_passphrase)
    except Exception:
        raise EnvelopeInvalid("invalid transaction XDR", "malformed") from None


def decode_call(envelope: TransactionEnvelope) -> Call:
    """The envelope's single contract call, or :class:`EnvelopeInvalid`."""
    tx = envelope.transaction
    if len(tx.operations) != 1:
        raise EnvelopeInvalid("a Soroban transaction has exactly one operation")
    op = tx.operations[0]
    if not isinstance(op, InvokeHostFunction):
        raise EnvelopeInvalid("only INVOKE_HOST_FUNCTION operations are supported")
    fn = op.host_function
    if fn.type != xdr.HostFunctionType.HOST_FUNCTION_TYPE_INVOKE_CONTRACT:
        raise EnvelopeInvalid("only INVOKE_CONTRACT host functions are supported")
    source = tx.source.account_id
    if op.source is not None and op.source.account_id != source:
        raise EnvelopeInvalid("an operation source other than the transaction's is not supported")
    args = fn.invoke_contract
    assert args is not None
    address = Address.from_xdr_sc_address(args.contract_address)
    return Call(
        envelope=envelope,
        source=source,
        contract_id=address.address,
        function=args.function_name.sc_symbol.decode(errors="replace"),
        scargs=list(args.args),
        auth=list(op.auth or []),
    )


def signature_problem(envelope: TransactionEnvelope) -> xdr.TransactionResultCode | None:
    """Why the network refuses the envelope's signatures, or ``None``: it must carry
    exactly one signature, a valid one by its source account's (master) key."""
    digest = envelope.hash()
    key = Keypair.from_public_key(envelope.transaction.source.account_id)
    valid = 0
    for sig in envelope.signatures:
        try:
            if sig.signature_hint != key.signature_hint():
                raise ValueError
            key.verify(digest, sig.signature)
            valid += 1
        except Exception:
            return (
                xdr.TransactionResultCode.txBAD_AUTH_EXTRA
                if valid
                else xdr.TransactionResultCode.txBAD_AUTH
            )
    return None if valid == 1 else xdr.TransactionResultCode.txBAD_AUTH


def assemble(
    envelope: TransactionEnvelope,
    data: xdr.SorobanTransactionData,
    min_resource_fee: int,
    auth: list[xdr.SorobanAuthorizationEntry],
) -> TransactionEnvelope:
    """What ``SorobanServer.prepare_transaction`` does with a simulation: install the
    transaction data, add the resource fee, and use the recorded auth entries unless the
    operation has its own. Changes and returns *envelope* (unsigned)."""
    tx = envelope.transaction
    tx.soroban_data = data
    tx.fee += min_resource_fee
    op = tx.operations[0]
    assert isinstance(op, InvokeHostFunction)
    if not op.auth:
        op.auth = list(auth)
    return envelope


def prepared(
    envelope: TransactionEnvelope, *, contract: str, function: str, max_time: int
) -> PreparedTransaction:
    """The :class:`PreparedTransaction` of an assembled, unsigned envelope. Its source
    must be the only address the call needs authorised (its auth entries all
    ``SOURCE_ACCOUNT``), else :class:`ContractError` ``Auth.InvalidAction``: a wallet's
    ``signTransaction`` signs the envelope, not other accounts' entries."""
    call = decode_call(envelope)
    for entry in call.auth:
        kind = entry.credentials.type
        if kind != xdr.SorobanCredentialsType.SOROBAN_CREDENTIALS_SOURCE_ACCOUNT:
            raise ContractError(
                contract,
                0,
                AUTH_FAILED,
                f"{contract}.{function} needs another account's authorization than its source's",
            )
    tx = envelope.transaction
    return PreparedTransaction(
        xdr=envelope.to_xdr(),
        hash=envelope.hash_hex(),
        network_passphrase=envelope.network_passphrase,
        source=call.source,
        contract=contract,
        contract_id=call.contract_id,
        function=function,
        sequence=tx.sequence,
        fee=tx.fee,
        max_time=max_time,
    )


def check_signed(
    signed_xdr: object,
    *,
    network_passphrase: str,
    contracts: Mapping[str, str],
    expected: PreparedTransaction | None,
) -> tuple[Call, str]:
    """The call of a signed envelope and its contract's name (*contracts*: ``C…`` id →
    name), checked as a gateway checks it before submitting: a v1 envelope of one call
    of these contracts, the *expected* transaction when given (same hash: signatures
    aside, nothing changed), signed by its source alone. Else
    :class:`EnvelopeRefusedError`."""
    fallback = expected.contract if expected is not None else "transaction"
    try:
        call = decode_call(decode_envelope(signed_xdr, network_passphrase))
    except EnvelopeInvalid as exc:
        raise EnvelopeRefusedError(fallback, ENVELOPE_MALFORMED, exc.message) from None
    contract = contracts.get(call.contract_id)
    if contract is None:
        raise EnvelopeRefusedError(
            fallback, ENVELOPE_MALFORMED, f"{call.contract_id} is not a contract of this chain"
        )
    if expected is not None and call.envelope.hash_hex() != expected.hash:
        raise EnvelopeRefusedError(
            contract,
            ENVELOPE_NOT_PREPARED,
            f"the signed transaction is not the one prepared ({expected.hash})",
        )
    problem = signature_problem(call.envelope)
    if problem is not None:
        raise EnvelopeRefusedError(
            contract, problem.name, f"the transaction is not signed by its source {call.source}"
        )
    return call, contract
