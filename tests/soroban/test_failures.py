"""What the soroban gateway reports when a Soroban RPC says a call failed (SOROBAN.md §3).

A simulation's ``error`` text and a submitted transaction's ``TransactionResult`` XDR
become the same :class:`ContractError` the local gateway raises: bnpl_core's typed
``Error(Contract, #n)`` keeps its code and variant name; a trap, a failed
authorisation and refused arguments are host errors (code 0) named ``TRAPPED``,
``AUTH_FAILED`` and ``INVALID_INPUT``; any other host error keeps its type and code.
Also: bnpl_core's error enum as ``Error(Contract, n)`` ScVals, word for word.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_support import refusal
from stellar_sdk import xdr

from lumenlater_sdk.backend.chain._gateway import (
    AUTH_FAILED,
    INVALID_INPUT,
    TRAPPED,
    ChainUnavailableError,
    ContractError,
)
from lumenlater_sdk.backend.chain.soroban import (
    ChainOutcomeUnknownError,
    decode_contract_error,
    encode_contract_error,
    encode_trap,
)
from lumenlater_sdk.backend.chain.soroban._errors import CONTRACT_ERRORS
from lumenlater_sdk.backend.chain.soroban._failures import (
    result_code,
    simulation_refusal,
    submission_refusal,
)

CORE = "bnpl_core"


def fields(err: ContractError | None) -> tuple[Any, ...] | None:
    """What a caller of the gateway sees of a refusal."""
    if err is None:
        return None
    assert type(err) is ContractError
    assert str(err) == err.message
    return (err.contract, err.code, err.name, err.message)


# --- simulation errors -------------------------------------------------------------------
EVENTS = (
    "\n\nEvent log (newest first):\n"
    "   0: [Diagnostic Event] contract:CA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQGAXE,"
    ' topics:[error, Error(WasmVm, InvalidAction)], data:"escalating error to VM trap"\n'
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # bnpl_core's typed errors: the variant's code and name.
        (
            "HostError: Error(Contract, #110)",
            (CORE, 110, "MerchantAlreadyEnrolled", "HostError: Error(Contract, #110)"),
        ),
        (
            "HostError: Error(Contract, #11)",
            (CORE, 11, "NotAdmin", "HostError: Error(Contract, #11)"),
        ),
        (
            "HostError: Error(Contract, #111)\n\nEvent log (newest first):\n"
            "   0: [Diagnostic Event] topics:[error, Error(Contract, #111)]\n",
            (CORE, 111, "MerchantNotFound", "HostError: Error(Contract, #111)"),
        ),
        (
            "HostError: Error(Contract, 1)",
            (CORE, 1, "AlreadyInitialized", "HostError: Error(Contract, 1)"),
        ),
        # A code bnpl_core does not have keeps its number; one that is no number is 0.
        (
            "HostError: Error(Contract, #999)",
            (CORE, 999, "Contract.#999", "HostError: Error(Contract, #999)"),
        ),
        (
            "HostError: Error(Contract, #0)",
            (CORE, 0, "Contract.#0", "HostError: Error(Contract, #0)"),
        ),
        (
            "HostError: Error(Contract, #x1)",
            (CORE, 0, "Contract.#0", "HostError: Error(Contract, #x1)"),
        ),
        (
            "HostError: Error(Contract, #X110)",
            (CORE, 0, "Contract.#0", "HostError: Error(Contract, #X110)"),
        ),
        (  # a digit that is no decimal digit: no code, not a crash
            "HostError: Error(Contract, #²)",
            (CORE, 0, "Contract.#0", "HostError: Error(Contract, #²)"),
        ),
        (
            "HostError: Error(Contract, abc)",
            (CORE, 0, "Contract.#0", "HostError: Error(Contract, abc)"),
        ),
        # A trap, whatever the VM's code; the diagnostic events never reach the message.
        (
            "HostError: Error(WasmVm, InvalidAction)" + EVENTS,
            (CORE, 0, TRAPPED, "HostError: Error(WasmVm, InvalidAction)"),
        ),
        (
            "HostError: Error(WasmVm, ExceededLimit)",
            (CORE, 0, TRAPPED, "HostError: Error(WasmVm, ExceededLimit)"),
        ),
        # A failed require_auth, whatever the code.
        (
            "HostError: Error(Auth, InvalidAction)" + EVENTS,
            (CORE, 0, AUTH_FAILED, "HostError: Error(Auth, InvalidAction)"),
        ),
        (
            "HostError: Error(Auth, InvalidInput)",
            (CORE, 0, AUTH_FAILED, "HostError: Error(Auth, InvalidInput)"),
        ),
        # Arguments the host refused, whatever the code.
        (
            "HostError: Error(Value, UnexpectedType)",
            (CORE, 0, INVALID_INPUT, "HostError: Error(Value, UnexpectedType)"),
        ),
        (
            "HostError: Error(Value, InvalidInput)",
            (CORE, 0, INVALID_INPUT, "HostError: Error(Value, InvalidInput)"),
        ),
        # Any other host error: its type and code, code 0.
        (
            "HostError: Error(Budget, ExceededLimit)",
            (CORE, 0, "Budget.ExceededLimit", "HostError: Error(Budget, ExceededLimit)"),
        ),
        (
            "HostError: Error(Storage, MissingValue)",
            (CORE, 0, "Storage.MissingValue", "HostError: Error(Storage, MissingValue)"),
        ),
        # The first Error(...) anywhere in the text decides; the message is the first line.
        (
            "  transaction simulation failed\n  caused by: Error(Auth, InvalidAction)  ",
            (CORE, 0, AUTH_FAILED, "transaction simulation failed"),
        ),
        # No Error(...) at all: a trap, with the text (or a stock message) to log.
        ("host invocation failed", (CORE, 0, TRAPPED, "host invocation failed")),
        ("  \n  out of fuel\n more  ", (CORE, 0, TRAPPED, "out of fuel")),
        ("", (CORE, 0, TRAPPED, "simulation failed")),
        (" \n\t ", (CORE, 0, TRAPPED, "simulation failed")),
    ],
)
def test_a_simulation_error_is_the_refusal_it_names(error: str, expected: tuple[Any, ...]) -> None:
    assert fields(simulation_refusal(CORE, error)) == expected


@pytest.mark.parametrize(("name", "code"), sorted(CONTRACT_ERRORS.items()))
def test_every_typed_error_of_bnpl_core_keeps_its_code_and_name(name: str, code: int) -> None:
    err = simulation_refusal("lp_token", f"HostError: Error(Contract, #{code})")
    assert fields(err) == ("lp_token", code, name, f"HostError: Error(Contract, #{code})")
    assert not err.trapped


@pytest.mark.parametrize(
    ("error", "trapped"),
    [
        ("HostError: Error(WasmVm, InvalidAction)", True),
        ("no error here", True),
        ("HostError: Error(Auth, InvalidAction)", False),
        ("HostError: Error(Contract, #110)", False),
    ],
)
def test_a_simulation_refusal_says_whether_the_contract_trapped(error: str, trapped: bool) -> None:
    assert simulation_refusal(CORE, error).trapped is trapped


# --- submitted transactions --------------------------------------------------------------
FAILED = xdr.TransactionResultCode.txFAILED
HF = xdr.InvokeHostFunctionResultCode


def tx_result(code: xdr.TransactionResultCode, *ops: xdr.OperationResult) -> str:
    """A ``TransactionResult`` XDR (base64) with *code* and the operation results *ops*."""
    return xdr.TransactionResult(
        fee_charged=xdr.Int64(100),
        result=xdr.TransactionResultResult(code, results=list(ops)),
        ext=xdr.TransactionResultExt(0),
    ).to_xdr()


def invoke(code: xdr.InvokeHostFunctionResultCode) -> xdr.OperationResult:
    """An ``InvokeHostFunction`` operation's result with *code*."""
    success = xdr.Hash(bytes(32)) if code == HF.INVOKE_HOST_FUNCTION_SUCCESS else None
    return xdr.OperationResult(
        xdr.OperationResultCode.opINNER,
        tr=xdr.OperationResultTr(
            xdr.OperationType.INVOKE_HOST_FUNCTION,
            invoke_host_function_result=xdr.InvokeHostFunctionResult(code, success=success),
        ),
    )


def payment(code: xdr.PaymentResultCode) -> xdr.OperationResult:
    """A classic payment operation's result with *code*."""
    return xdr.OperationResult(
        xdr.OperationResultCode.opINNER,
        tr=xdr.OperationResultTr(xdr.OperationType.PAYMENT, payment_result=xdr.PaymentResult(code)),
    )


@pytest.mark.parametrize(
    "code",
    [c for c in HF if c != HF.INVOKE_HOST_FUNCTION_SUCCESS],
    ids=lambda c: c.name,
)
def test_a_failed_host_function_is_a_trap_naming_its_result_code(
    code: xdr.InvokeHostFunctionResultCode,
) -> None:
    err = submission_refusal(CORE, tx_result(FAILED, invoke(code)))
    assert fields(err) == (CORE, 0, TRAPPED, f"transaction failed: {code.name}")
    assert err is not None and err.trapped


def test_the_first_failed_host_function_names_the_refusal() -> None:
    result = tx_result(
        FAILED,
        payment(xdr.PaymentResultCode.PAYMENT_SUCCESS),
        invoke(HF.INVOKE_HOST_FUNCTION_SUCCESS),
        xdr.OperationResult(xdr.OperationResultCode.opBAD_AUTH),
        invoke(HF.INVOKE_HOST_FUNCTION_RESOURCE_LIMIT_EXCEEDED),
        invoke(HF.INVOKE_HOST_FUNCTION_TRAPPED),
    )
    assert fields(submission_refusal("usdc", result)) == (
        "usdc",
        0,
        TRAPPED,
        "transaction failed: INVOKE_HOST_FUNCTION_RESOURCE_LIMIT_EXCEEDED",
    )


@pytest.mark.parametrize(
    "ops",
    [
        (),
        (invoke(HF.INVOKE_HOST_FUNCTION_SUCCESS),),
        (xdr.OperationResult(xdr.OperationResultCode.opBAD_AUTH),),
        (
            xdr.OperationResult(xdr.OperationResultCode.opNO_ACCOUNT),
            payment(xdr.PaymentResultCode.PAYMENT_UNDERFUNDED),
        ),
    ],
    ids=["no operations", "the call succeeded", "bad auth", "no account, a payment"],
)
def test_a_failed_transaction_without_a_failed_host_function_is_a_trap(
    ops: tuple[xdr.OperationResult, ...],
) -> None:
    assert fields(submission_refusal(CORE, tx_result(FAILED, *ops))) == (
        CORE,
        0,
        TRAPPED,
        "transaction failed: txFAILED",
    )


@pytest.mark.parametrize(
    "code",
    [
        xdr.TransactionResultCode.txSUCCESS,
        xdr.TransactionResultCode.txBAD_SEQ,
        xdr.TransactionResultCode.txBAD_AUTH,
        xdr.TransactionResultCode.txINSUFFICIENT_FEE,
        xdr.TransactionResultCode.txTOO_LATE,
    ],
    ids=lambda c: c.name,
)
def test_a_transaction_level_refusal_is_no_contract_error(code: xdr.TransactionResultCode) -> None:
    ops = (
        (invoke(HF.INVOKE_HOST_FUNCTION_SUCCESS),)
        if code == xdr.TransactionResultCode.txSUCCESS
        else ()
    )
    assert submission_refusal(CORE, tx_result(code, *ops)) is None
    assert result_code(tx_result(code, *ops)) == code.name


@pytest.mark.parametrize("result_xdr", [None, ""])
def test_no_result_is_no_contract_error_and_an_unknown_code(result_xdr: str | None) -> None:
    assert submission_refusal(CORE, result_xdr) is None
    assert result_code(result_xdr) == "unknown"


def test_the_result_code_of_a_failed_transaction() -> None:
    assert result_code(tx_result(FAILED, invoke(HF.INVOKE_HOST_FUNCTION_TRAPPED))) == "txFAILED"


# --- an outcome not known yet ------------------------------------------------------------
def test_an_unknown_outcome_keeps_its_hash_and_message_and_is_chain_unavailable() -> None:
    err = ChainOutcomeUnknownError("ab" * 32, "getTransaction timed out")
    assert isinstance(err, ChainUnavailableError)
    assert err.tx_hash == "ab" * 32
    assert str(err) == "getTransaction timed out"
    assert err.args == ("getTransaction timed out",)


# --- bnpl_core's error enum as ScVals ----------------------------------------------------
def contract_error(code: int) -> xdr.SCVal:
    return xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_CONTRACT, contract_code=xdr.Uint32(code)),
    )


@pytest.mark.parametrize(("name", "code"), sorted(CONTRACT_ERRORS.items()))
def test_every_variant_is_error_contract_its_code_by_name_or_code(name: str, code: int) -> None:
    assert encode_contract_error(name) == contract_error(code)
    assert encode_contract_error(code) == contract_error(code)
    assert decode_contract_error(contract_error(code)) == (code, name)
    assert decode_contract_error(xdr.SCVal.from_xdr(contract_error(code).to_xdr())) == (code, name)


def test_the_enum_is_bnpl_cores() -> None:
    assert CONTRACT_ERRORS["MerchantAlreadyEnrolled"] == 110
    assert CONTRACT_ERRORS["NotAdmin"] == 11
    assert CONTRACT_ERRORS["MerchantNotFound"] == 111
    assert len(CONTRACT_ERRORS) == 20


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (True, "True"),
        (False, "False"),
        (None, "None"),
        (1.0, "1.0"),
        (b"NotAdmin", "b'NotAdmin'"),
        ([11], "[11]"),
    ],
)
def test_encoding_refuses_what_is_no_name_or_code(error: Any, shown: str) -> None:
    assert refusal(TypeError, lambda: encode_contract_error(error)) == (
        f"contract error: expected a variant name or code, got {shown}"
    )


@pytest.mark.parametrize(
    ("error", "shown"),
    [("notAdmin", "'notAdmin'"), ("", "''"), (0, "0"), (3, "3"), (999, "999"), (-11, "-11")],
)
def test_encoding_refuses_what_is_no_variant(error: Any, shown: str) -> None:
    assert refusal(ValueError, lambda: encode_contract_error(error)) == (
        f"contract error: {shown} is not a variant of bnpl_core's Error"
    )


def test_decoding_refuses_what_is_no_scval() -> None:
    assert refusal(TypeError, lambda: decode_contract_error(110)) == (
        "contract error: expected a stellar_sdk.xdr.SCVal, got int 110"
    )


def test_decoding_refuses_a_scval_that_is_no_error() -> None:
    u32 = xdr.SCVal(xdr.SCValType.SCV_U32, u32=xdr.Uint32(110))
    assert refusal(ValueError, lambda: decode_contract_error(u32)) == (
        "contract error: expected SCV_ERROR (Error), got SCV_U32"
    )


def test_decoding_refuses_a_host_error() -> None:
    assert refusal(ValueError, lambda: decode_contract_error(encode_trap())) == (
        "contract error: expected SCE_CONTRACT, got SCE_WASM_VM"
    )
    auth = xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_AUTH, code=xdr.SCErrorCode.SCEC_INVALID_ACTION),
    )
    assert refusal(ValueError, lambda: decode_contract_error(auth)) == (
        "contract error: expected SCE_CONTRACT, got SCE_AUTH"
    )


def test_decoding_refuses_a_malformed_error_scval() -> None:
    # Built by hand, not decoded: a contract error without its code, and a host error
    # carrying a contract code (its XDR would drop it).
    no_code = xdr.SCVal(xdr.SCValType.SCV_ERROR, error=xdr.SCError(xdr.SCErrorType.SCE_CONTRACT))
    assert refusal(ValueError, lambda: decode_contract_error(no_code)) == (
        "contract error: expected SCE_CONTRACT, got SCE_CONTRACT"
    )
    host = xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_WASM_VM, contract_code=xdr.Uint32(110)),
    )
    assert refusal(ValueError, lambda: decode_contract_error(host)) == (
        "contract error: expected SCE_CONTRACT, got SCE_WASM_VM"
    )


@pytest.mark.parametrize("code", [0, 3, 999])
def test_decoding_refuses_a_code_that_is_no_variant(code: int) -> None:
    assert refusal(ValueError, lambda: decode_contract_error(contract_error(code))) == (
        f"contract error: {code} is not a variant of bnpl_core's Error"
    )


def test_a_trap_is_error_wasmvm_invalid_action() -> None:
    trap = encode_trap()
    assert trap == xdr.SCVal(
        xdr.SCValType.SCV_ERROR,
        error=xdr.SCError(xdr.SCErrorType.SCE_WASM_VM, code=xdr.SCErrorCode.SCEC_INVALID_ACTION),
    )
    assert trap.error is not None
    assert trap.error.code == xdr.SCErrorCode.SCEC_INVALID_ACTION
    # Error(WasmVm, InvalidAction) on the wire: type 2 (ScError), 1 (WasmVm), 6 (InvalidAction).
    assert trap.to_xdr_bytes().hex() == "00000002" + "00000001" + "00000006"
