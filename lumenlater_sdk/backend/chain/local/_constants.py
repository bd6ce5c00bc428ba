"""The protocol's numeric constants (PROTOCOL.md, "Constants"), configurable per gateway."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = [
    "INDEX_SCALE",
    "SCALE",
    "SECONDS_PER_DAY",
    "USDC_UNIT",
    "ProtocolConstants",
]

SCALE = 10_000_000
"""Rates are scaled by 10^7."""

INDEX_SCALE = 1_000_000_000
"""The lp_token share index is scaled by 10^9 (1.0 = 1e9)."""

USDC_UNIT = 10_000_000
"""1 USDC in its smallest unit (7 decimals)."""

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ProtocolConstants:
    """bnpl_core's constants. The defaults are the deployed contract's values.

    ``liquidation_penalty`` is 1 % as in the contract (the architecture text says
    10 %); it is a field so a deployment that changes it can be mirrored.
    """

    merchant_fee_rate: int = 150_000
    late_interest_apr: int = 3_000_000
    liquidation_penalty: int = 100_000
    fee_to_lp: int = 7_000_000
    fee_to_treasury: int = 2_000_000
    fee_to_insurance: int = 1_000_000
    max_ltv: int = 9_000_000
    collateral_ratio: int = 11_100_000
    bill_duration_days: int = 1
    grace_period_days: int = 14
    liquidation_threshold_days: int = 28

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.fee_to_lp + self.fee_to_treasury + self.fee_to_insurance > SCALE:
            raise ValueError("the fee split must not exceed 100 %")

    def as_contract_map(self) -> dict[str, int]:
        """What ``get_protocol_constants`` returns: the contract's names, upper case."""
        return {
            "MERCHANT_FEE_RATE": self.merchant_fee_rate,
            "LATE_INTEREST_APR": self.late_interest_apr,
            "LIQUIDATION_PENALTY": self.liquidation_penalty,
            "MAX_LTV": self.max_ltv,
            "COLLATERAL_RATIO": self.collateral_ratio,
            "BILL_DURATION_DAYS": self.bill_duration_days,
            "GRACE_PERIOD_DAYS": self.grace_period_days,
            "LIQUIDATION_THRESHOLD_DAYS": self.liquidation_threshold_days,
            "FEE_TO_LP_RATIO": self.fee_to_lp,
            "FEE_TO_TREASURY_RATIO": self.fee_to_treasury,
            "FEE_TO_INSURANCE_RATIO": self.fee_to_insurance,
        }
