"""The contracts' integer formulas (PROTOCOL.md, "Formulas"), free of storage.

Every division truncates toward zero like Rust's ``/`` on i128: Python's ``//``
floors, which differs for a negative quotient, so all division goes through
:func:`tdiv`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._constants import INDEX_SCALE, SCALE, SECONDS_PER_DAY, ProtocolConstants

__all__ = [
    "BorrowingPower",
    "FeeSplit",
    "amount_for_shares",
    "borrowing_power",
    "late_fee",
    "liquidation_penalty",
    "merchant_fee",
    "required_collateral",
    "shares_for_amount",
    "split_fee",
    "tdiv",
]


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (Rust / i128 semantics)."""
    if b == 0:
        raise ZeroDivisionError("division by zero")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def late_fee(principal: int, start: int, now: int, c: ProtocolConstants) -> int:
    """Late interest on *principal* at *now* for a bill whose clock started at *start*.

    Nothing within the grace period; then 30 % a year per *whole* day past it.
    """
    grace = c.grace_period_days * SECONDS_PER_DAY
    if now <= start + grace:
        return 0
    days = tdiv(now - start - grace, SECONDS_PER_DAY)
    return tdiv(principal * c.late_interest_apr * days, 365 * SCALE)


def merchant_fee(principal: int, c: ProtocolConstants) -> int:
    """The fee taken from what the merchant receives."""
    return tdiv(principal * c.merchant_fee_rate, SCALE)


def liquidation_penalty(principal: int, c: ProtocolConstants) -> int:
    """The penalty a liquidation burns on top of principal and late fee."""
    return tdiv(principal * c.liquidation_penalty, SCALE)


@dataclass(frozen=True)
class FeeSplit:
    """How one fee is shared; ``dust`` (truncation) stays in bnpl_core."""

    treasury: int
    insurance: int
    lp: int

    def dust(self, fee: int) -> int:
        """What the truncation left behind."""
        return fee - self.treasury - self.insurance - self.lp


def split_fee(fee: int, c: ProtocolConstants) -> FeeSplit:
    """Split *fee* into treasury, insurance and LP parts, each truncated."""
    return FeeSplit(
        treasury=tdiv(fee * c.fee_to_treasury, SCALE),
        insurance=tdiv(fee * c.fee_to_insurance, SCALE),
        lp=tdiv(fee * c.fee_to_lp, SCALE),
    )


def required_collateral(debt: int, c: ProtocolConstants) -> int:
    """LP balance locked for *debt* (principal + interest)."""
    return tdiv(debt * c.collateral_ratio, SCALE)


@dataclass(frozen=True)
class BorrowingPower:
    """bnpl_core's ``BorrowingPower`` struct."""

    lp_balance: int
    max_borrowing: int
    current_borrowed: int
    current_debt: int
    available_borrowing: int
    required_collateral: int
    overall_health_factor: int

    def as_dict(self) -> dict[str, int]:
        """The struct as the contract returns it (a map of its fields)."""
        return {
            "lp_balance": self.lp_balance,
            "max_borrowing": self.max_borrowing,
            "current_borrowed": self.current_borrowed,
            "current_debt": self.current_debt,
            "available_borrowing": self.available_borrowing,
            "required_collateral": self.required_collateral,
            "overall_health_factor": self.overall_health_factor,
        }


def borrowing_power(
    lp_balance: int, interest: int, principal: int, c: ProtocolConstants
) -> BorrowingPower:
    """A user's borrowing power from their LP balance and open debt."""
    max_borrowing = tdiv(lp_balance * c.max_ltv, SCALE)
    debt = principal + interest
    return BorrowingPower(
        lp_balance=lp_balance,
        max_borrowing=max_borrowing,
        current_borrowed=principal,
        current_debt=debt,
        available_borrowing=max(max_borrowing - debt, 0),
        required_collateral=required_collateral(debt, c),
        overall_health_factor=tdiv(max_borrowing, debt) if debt > 0 else 1,
    )


def shares_for_amount(amount: int, index: int) -> int:
    """LP shares worth *amount* USDC at *index* (rounded toward zero)."""
    return tdiv(amount * INDEX_SCALE, index)


def amount_for_shares(shares: int, index: int) -> int:
    """USDC value of *shares* at *index* (rounded toward zero)."""
    return tdiv(shares * index, INDEX_SCALE)
