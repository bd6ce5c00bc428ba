"""bnpl_core's typed errors (SOROBAN.md §3): ``Error(Contract, code)`` ScVals.

Only ``enroll_merchant`` (110) and ``update_merchant_status`` (11, 111) ever
return one; every other refusal traps and reaches a client as
``Error(WasmVm, InvalidAction)``, which :func:`encode_trap` builds.
"""

from __future__ import annotations

from typing import Any

from stellar_sdk import xdr

from ._scval import expect_type

__all__ = ["CONTRACT_ERRORS", "decode_contract_error", "encode_contract_error", "encode_trap"]

CONTRACT_ERRORS = {
    "AlreadyInitialized": 1,
    "NotInitialized": 2,
    "NotAdmin": 11,
    "AdminAlreadySet": 12,
    "CannotRemoveItself": 13,
    "BillNotFound": 20,
    "BillNotPayable": 21,
    "BillNotPaid": 22,
    "BillExpired": 23,
    "LiquidationNotPossible": 24,
    "InvalidAmount": 25,
    "InvalidInstallmentNumber": 41,
    "InsufficientCollateralForLiquidation": 42,
    "GracePeriodNotExpired": 43,
    "NonLpTokenHolder": 44,
    "InvalidInput": 100,
    "InternalError": 101,
    "MerchantAlreadyEnrolled": 110,
    "MerchantNotFound": 111,
    "MerchantNotApproved": 112,
}
"""bnpl_core's ``#[contracterror] enum Error`` (u32), carried as ``Error(Contract, code)``."""


_NAMES = {code: name for name, code in CONTRACT_ERRORS.items()}


def encode_contract_error(error: str | int) -> xdr.SCVal:
    """``Error(Contract, code)`` for an ``Error`` variant given by name or code."""
    if isinstance(error, bool) or not isinstance(error, (str, int)):
        raise TypeError(f"contract error: expected a variant name or code, got {error!r}")
    code = CONTRACT_ERRORS.get(error) if isinstance(error, str) else error
    if code is None or code not in _NAMES:
        raise ValueError(f"contract error: {error!r} is not a variant of bnpl_core's Error")
    return xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_CONTRACT, contract_code=xdr.Uint32(code)),
    )


def decode_contract_error(val: Any) -> tuple[int, str]:
    """``(code, name)`` of an ``Error(Contract, code)`` ScVal of bnpl_core's ``Error``."""
    val = expect_type(val, xdr.SCValType.SCV_ERROR, "Error", "contract error")
    assert val.error is not None
    if val.error.type != xdr.SCErrorType.SCE_CONTRACT or val.error.contract_code is None:
        raise ValueError(f"contract error: expected SCE_CONTRACT, got {val.error.type.name}")
    code = val.error.contract_code.uint32
    if code not in _NAMES:
        raise ValueError(f"contract error: {code} is not a variant of bnpl_core's Error")
    return code, _NAMES[code]


def encode_trap() -> xdr.SCVal:
    """``Error(WasmVm, InvalidAction)``: what any panic in the contracts becomes."""
    return xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_WASM_VM, code=xdr.SCErrorCode.SCEC_INVALID_ACTION),
    )
