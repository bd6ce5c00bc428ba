"""How the contracts refuse a call, as :class:`ContractError` values (SOROBAN.md §3).

As deployed, only ``enroll_merchant`` (110) and ``update_merchant_status`` (11,
111) return a typed ``Error(Contract, n)``. Every other refusal (a ``panic!``, an
``unwrap`` of missing storage) traps: code 0, name ``WasmVm.InvalidAction``. The
panic string is kept as ``message`` so the sandbox's logs can show it, but a real
network never lets it reach a caller, so nothing outside the engine may depend on
it. A failed ``require_auth`` is ``Auth.InvalidAction`` (code 0).
"""

from __future__ import annotations

from .._gateway import AUTH_FAILED, INVALID_INPUT, TRAPPED, ContractError

__all__ = [
    "PANICS",
    "TYPED_ERRORS",
    "contract_error",
    "invalid_input",
    "missing",
    "panic",
    "unauthorized",
]

TYPED_ERRORS: dict[str, tuple[int, str]] = {
    # The only variants of bnpl_core's Error enum the deployed contract ever returns.
    "NotAdmin": (11, "Not admin"),
    "MerchantAlreadyEnrolled": (110, "Merchant already enrolled"),
    "MerchantNotFound": (111, "Merchant not found"),
}

PANICS: dict[str, str] = {
    # name: the contracts' panic string (internal: a trap carries no message on chain).
    "AlreadyInitialized": "Already initialized",
    "MerchantNotApproved": "Merchant not approved",
    "InvalidAmount": "Invalid amount",
    "BillNotPayable": "Bill not payable",
    "BillExpired": "Bill expired",
    "InsufficientCollateral": "Insufficient collateral",
    "BillNotPaid": "Bill not paid",
    "NonLpTokenHolder": "Not LP token holder",
    "GracePeriodNotExpired": "Grace period not expired",
    "LiquidationNotPossible": "Liquidation not possible",
    "InsufficientAvailableBalance": "insufficient available balance",
    "InsufficientBalance": "insufficient balance",
    "InsufficientCollateralForLiquidation": "insufficient balance for liquidation",
    "AllowanceExceeded": "allowance exceeded",
    # The USDC test token's own strings (SOROBAN.md §4).
    "AmountMustBePositive": "Amount must be positive",
    "DailyMintLimitExceeded": "Daily mint limit exceeded",
    "InsufficientAllowance": "Insufficient allowance",
    "UsdcInsufficientBalance": "Insufficient balance",
}


def contract_error(contract: str, name: str) -> ContractError:
    """A typed error of bnpl_core's ``Error`` enum (only the three it returns)."""
    code, message = TYPED_ERRORS[name]
    return ContractError(contract, code, name, message)


def panic(contract: str, name: str) -> ContractError:
    """A ``panic!``: a trap; its message stays internal."""
    return ContractError(contract, 0, TRAPPED, PANICS[name])


def missing(contract: str, what: str) -> ContractError:
    """An ``unwrap`` of storage that is not there (unknown bill, merchant, config): a trap."""
    return ContractError(contract, 0, TRAPPED, f"{what} not found")


def unauthorized(contract: str, address: str) -> ContractError:
    """``require_auth`` failed: *address* did not authorise this invocation."""
    return ContractError(
        contract, 0, AUTH_FAILED, f"Error(Auth, InvalidAction): {address} did not authorise"
    )


def invalid_input(contract: str, detail: str) -> ContractError:
    """The arguments do not match the function's signature (the host refuses them)."""
    return ContractError(contract, 0, INVALID_INPUT, f"Invalid input: {detail}")
