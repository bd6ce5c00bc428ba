"""What a Soroban RPC says when a call fails, as :class:`ContractError` (SOROBAN.md §3).

The same refusal reaches the services the same way whichever gateway made it:
``Error(Contract, #n)`` is bnpl_core's typed error (code and variant name, as the
local gateway raises them), ``Error(WasmVm, InvalidAction)`` a trap,
``Error(Auth, …)`` a failed authorisation, ``Error(Value, …)`` arguments the host
refused. Any other host error keeps its type and code as the name (code 0).
"""

from __future__ import annotations

import re

from stellar_sdk import xdr

from .._gateway import AUTH_FAILED, INVALID_INPUT, TRAPPED, ChainUnavailableError, ContractError
from ._errors import decode_contract_error, encode_contract_error

__all__ = [
    "ChainOutcomeUnknownError",
    "result_code",
    "simulation_refusal",
    "submission_refusal",
]

_HOST_ERROR = re.compile(r"Error\((\w+),\s*(#?\w+)\)")


def simulation_refusal(contract: str, error: str) -> ContractError:
    """The refusal a simulation's ``error`` text (``HostError: Error(Contract, #110)``…) means."""
    message = error.strip().splitlines()[0] if error.strip() else "simulation failed"
    found = _HOST_ERROR.search(error)
    if found is None:
        return ContractError(contract, 0, TRAPPED, message)
    kind, code = found.groups()
    if kind == "Contract":
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        number = int(code.lstrip("#")) if code.lstrip("#").isdecimal() else 0
        try:
            number, name = decode_contract_error(encode_contract_error(number))
        except ValueError:
            name = f"Contract.#{number}"
        return ContractError(contract, number, name, message)
    if kind == "WasmVm":
        return ContractError(contract, 0, TRAPPED, message)
    if kind == "Auth":
        return ContractError(contract, 0, AUTH_FAILED, message)
    if kind == "Value":
        return ContractError(contract, 0, INVALID_INPUT, message)
    return ContractError(contract, 0, f"{kind}.{code}", message)


def submission_refusal(contract: str, result_xdr: str | None) -> ContractError | None:
    """A ContractError when a transaction's result says the *call* failed (the host function
    trapped or ran out of resources), else ``None`` (a transaction-level refusal: bad
    sequence, fee, signature, time bounds… nothing ran)."""
    if not result_xdr:
        return None
    result = xdr.TransactionResult.from_xdr(result_xdr)
    code = result.result.code
    if code != xdr.TransactionResultCode.txFAILED:
        return None
    for op in result.result.results or []:
        tr = op.tr
        inner = tr.invoke_host_function_result if tr is not None else None
        if (
            inner is not None
            and inner.code != xdr.InvokeHostFunctionResultCode.INVOKE_HOST_FUNCTION_SUCCESS
        ):
            return ContractError(contract, 0, TRAPPED, f"transaction failed: {inner.code.name}")
    return ContractError(contract, 0, TRAPPED, "transaction failed: txFAILED")


def result_code(result_xdr: str | None) -> str:
    """The transaction result code's name (``txBAD_SEQ``…), for messages."""
    if not result_xdr:
        return "unknown"
    return str(xdr.TransactionResult.from_xdr(result_xdr).result.code.name)


class ChainOutcomeUnknownError(ChainUnavailableError):
    """A transaction was sent but its outcome is not known yet (the poll timed out or the
    RPC stopped answering). It is never sent again: :meth:`SorobanGateway.reconcile`
    settles it by hash, and its events, if it applied, arrive through ``events_after``.
    A :class:`ChainUnavailableError`, so the API answers 503 ``chain_unavailable``."""

    def __init__(self, tx_hash: str, message: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash
