"""The XDR a transaction applied on the local ledger leaves: its contract events, its
``TransactionResult`` (success, failure, refusal) and its ``TransactionMeta``, as core
writes them (the sandbox's Soroban RPC endpoint serves them as they are)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from stellar_sdk import Address, xdr

from .._gateway import ContractEvent
from ..soroban import encode_event

__all__ = [
    "b64",
    "contract_event",
    "diagnostic",
    "failed_result",
    "refused_result",
    "success_meta",
    "success_result",
]


def b64(value: Any) -> str:
    """Base64 XDR of any stellar-sdk XDR value."""
    return str(value.to_xdr())


def contract_event(event: ContractEvent) -> xdr.ContractEvent:
    """An engine event as the ``ContractEvent`` XDR the network emits."""
    topics, data = encode_event(event.contract, event.topics, event.data)
    contract = Address(event.contract_id).to_xdr_sc_address()
    return xdr.ContractEvent(
        ext=xdr.ExtensionPoint(0),
        contract_id=contract.contract_id,
        type=xdr.ContractEventType.CONTRACT,
        body=xdr.ContractEventBody(0, v0=xdr.ContractEventV0(topics=topics, data=data)),
    )


def diagnostic(events: Sequence[xdr.ContractEvent], *, successful: bool = True) -> list[str]:
    """Events wrapped as base64 ``DiagnosticEvent``s (what simulation returns)."""
    return [b64(xdr.DiagnosticEvent(successful, e)) for e in events]


def _op_result(
    code: xdr.InvokeHostFunctionResultCode, success: bytes | None
) -> xdr.OperationResult:
    return xdr.OperationResult(
        xdr.OperationResultCode.opINNER,
        tr=xdr.OperationResultTr(
            xdr.OperationType.INVOKE_HOST_FUNCTION,
            invoke_host_function_result=xdr.InvokeHostFunctionResult(
                code, success=None if success is None else xdr.Hash(success)
            ),
        ),
    )


def success_result(
    fee: int, value: xdr.SCVal, events: Sequence[xdr.ContractEvent]
) -> xdr.TransactionResult:
    """``txSUCCESS`` whose op result hashes the return value and events, as core does."""
    preimage = xdr.InvokeHostFunctionSuccessPreImage(value, list(events))
    digest = hashlib.sha256(preimage.to_xdr_bytes()).digest()
    return xdr.TransactionResult(
        xdr.Int64(fee),
        xdr.TransactionResultResult(
            xdr.TransactionResultCode.txSUCCESS,
            results=[
                _op_result(xdr.InvokeHostFunctionResultCode.INVOKE_HOST_FUNCTION_SUCCESS, digest)
            ],
        ),
        xdr.TransactionResultExt(0),
    )


def failed_result(fee: int, code: xdr.InvokeHostFunctionResultCode) -> xdr.TransactionResult:
    """``txFAILED`` with the operation's code (``INVOKE_HOST_FUNCTION_TRAPPED``...)."""
    return xdr.TransactionResult(
        xdr.Int64(fee),
        xdr.TransactionResultResult(
            xdr.TransactionResultCode.txFAILED, results=[_op_result(code, None)]
        ),
        xdr.TransactionResultExt(0),
    )


def refused_result(code: xdr.TransactionResultCode, fee: int = 0) -> xdr.TransactionResult:
    """A transaction refused before it was applied (``txBAD_SEQ``, ``txBAD_AUTH``...)."""
    return xdr.TransactionResult(
        xdr.Int64(fee), xdr.TransactionResultResult(code, results=[]), xdr.TransactionResultExt(0)
    )


def success_meta(
    value: xdr.SCVal | None, events: Sequence[xdr.ContractEvent]
) -> xdr.TransactionMeta:
    """``TransactionMeta`` v3 with ``sorobanMeta`` (return value, contract events)."""
    return xdr.TransactionMeta(
        3,
        v3=xdr.TransactionMetaV3(
            ext=xdr.ExtensionPoint(0),
            tx_changes_before=xdr.LedgerEntryChanges([]),
            operations=[xdr.OperationMeta(xdr.LedgerEntryChanges([]))],
            tx_changes_after=xdr.LedgerEntryChanges([]),
            soroban_meta=xdr.SorobanTransactionMeta(
                ext=xdr.SorobanTransactionMetaExt(0),
                events=list(events),
                return_value=value or xdr.SCVal(xdr.SCValType.SCV_VOID),
                diagnostic_events=[],
            ),
        ),
    )
