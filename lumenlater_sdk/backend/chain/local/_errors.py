"""How the contracts refuse a call, as :class:`ContractError` values.

Two kinds, as on chain: a typed contract error (``Err(Error::NotAdmin)``) carries
the enum's number; a ``panic!("Bill expired")`` carries code 0 and its message.
A failed ``require_auth`` is a host error, also code 0. ``name`` is the symbolic
name either way and ``reason`` the API's snake_case code.
"""

from __future__ import annotations

from .._gateway import ContractError

__all__ = [
    "ERROR_CODES",
    "PANICS",
    "contract_error",
    "invalid_input",
    "panic",
    "unauthorized",
]

ERROR_CODES: dict[str, tuple[int, str, str]] = {
    # name: (code, message, reason)
    "AlreadyInitialized": (1, "Already initialized", "already_initialized"),
    "NotInitialized": (2, "Not initialized", "not_initialized"),
    "NotAdmin": (11, "Not admin", "not_admin"),
    "BillNotFound": (20, "Bill not found", "bill_not_found"),
    "InvalidInput": (100, "Invalid input", "invalid_input"),
    "MerchantAlreadyEnrolled": (110, "Merchant already enrolled", "merchant_already_enrolled"),
    "MerchantNotFound": (111, "Merchant not found", "merchant_not_found"),
}

PANICS: dict[str, tuple[str, str]] = {
    # name: (message, reason). Messages are the contracts' panic strings.
    "AlreadyInitialized": ("Already initialized", "already_initialized"),
    "MerchantNotApproved": ("Merchant not approved", "merchant_not_approved"),
    "InvalidAmount": ("Invalid amount", "invalid_amount"),
    "BillNotPayable": ("Bill not payable", "bill_not_payable"),
    "BillExpired": ("Bill expired", "bill_expired"),
    "InsufficientCollateral": ("Insufficient collateral", "insufficient_collateral"),
    "BillNotPaid": ("Bill not paid", "bill_not_paid"),
    "NonLpTokenHolder": ("Not LP token holder", "not_lp_token_holder"),
    "GracePeriodNotExpired": ("Grace period not expired", "grace_period_not_expired"),
    "LiquidationNotPossible": ("Liquidation not possible", "liquidation_not_possible"),
    "InsufficientAvailableBalance": ("insufficient available balance", "insufficient_balance"),
    "InsufficientBalance": ("insufficient balance", "insufficient_balance"),
    "InsufficientCollateralForLiquidation": (
        "insufficient balance for liquidation",
        "insufficient_balance",
    ),
    "AllowanceExceeded": ("allowance exceeded", "insufficient_balance"),
}


def contract_error(contract: str, name: str) -> ContractError:
    """A typed error of *contract*'s ``Error`` enum."""
    code, message, reason = ERROR_CODES[name]
    return ContractError(contract, code, name, message, reason)


def panic(contract: str, name: str) -> ContractError:
    """A ``panic!`` with the contract's message (code 0)."""
    message, reason = PANICS[name]
    return ContractError(contract, 0, name, message, reason)


def unauthorized(contract: str, address: str) -> ContractError:
    """``require_auth`` failed: *address* did not authorise this invocation."""
    return ContractError(
        contract,
        0,
        "Auth",
        f"Error(Auth, InvalidAction): {address} did not authorise",
        "unauthorized",
    )


def invalid_input(contract: str, detail: str) -> ContractError:
    """The arguments do not match the function's signature (the host refuses them)."""
    code = ERROR_CODES["InvalidInput"][0]
    return ContractError(
        contract, code, "InvalidInput", f"Invalid input: {detail}", "invalid_input"
    )
