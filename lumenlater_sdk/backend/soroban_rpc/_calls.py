"""A submitted or simulated envelope, decoded into one contract call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stellar_sdk import Address, TransactionEnvelope, xdr
from stellar_sdk.operation import InvokeHostFunction

from ..chain import CONTRACTS
from ..chain.local import RpcLedger
from ..chain.soroban import decode_args
from ._jsonrpc import INVALID_PARAMS, RpcError

__all__ = ["Call", "HostFailure", "decode_call", "decode_envelope"]

PASSPHRASE = "Standalone Network ; February 2017"


class HostFailure(Exception):
    """The host refuses the call before any contract runs (simulation ``error`` text)."""


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

    def engine(self, ledger: RpcLedger) -> tuple[str, list[Any]]:
        """The engine's contract name and Python arguments; :class:`HostFailure` if the
        contract does not exist here or the arguments do not fit the function."""
        names = {ledger.gateway.contract_id(name): name for name in CONTRACTS}
        contract = names.get(self.contract_id)
        if contract is None:
            raise HostFailure("HostError: Error(Storage, MissingValue)")
        try:
            return contract, decode_args(contract, self.function, self.scargs)
        except (TypeError, ValueError):
            raise HostFailure("HostError: Error(Value, UnexpectedType)") from None


def decode_envelope(text: Any) -> TransactionEnvelope:
    """The transaction of a base64 envelope; JSON-RPC invalid params if it is none."""
    if not isinstance(text, str):
        raise RpcError(INVALID_PARAMS, "transaction must be a base64 TransactionEnvelope")
    try:
        raw = xdr.TransactionEnvelope.from_xdr(text)
    except Exception:
        raise RpcError(INVALID_PARAMS, "invalid transaction XDR", "malformed") from None
    if raw.type != xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        raise RpcError(
            INVALID_PARAMS, "only v1 transaction envelopes are supported (no fee bump, no v0)"
        )
    try:
        return TransactionEnvelope.from_xdr(text, PASSPHRASE)
    except Exception:
        raise RpcError(INVALID_PARAMS, "invalid transaction XDR", "malformed") from None


def decode_call(envelope: TransactionEnvelope) -> Call:
    """The envelope's single contract call; JSON-RPC invalid params for anything else."""
    tx = envelope.transaction
    if len(tx.operations) != 1:
        raise RpcError(INVALID_PARAMS, "a Soroban transaction has exactly one operation")
    op = tx.operations[0]
    if not isinstance(op, InvokeHostFunction):
        raise RpcError(INVALID_PARAMS, "only INVOKE_HOST_FUNCTION operations are supported")
    fn = op.host_function
    if fn.type != xdr.HostFunctionType.HOST_FUNCTION_TYPE_INVOKE_CONTRACT:
        raise RpcError(INVALID_PARAMS, "only INVOKE_CONTRACT host functions are supported")
    source = tx.source.account_id
    if op.source is not None and op.source.account_id != source:
        raise RpcError(
            INVALID_PARAMS, "an operation source other than the transaction's is not supported"
        )
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
