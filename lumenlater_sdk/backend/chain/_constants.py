"""The protocol's numeric constants (PROTOCOL.md, "Constants"): one value per gateway.

Every gateway answers :meth:`~lumenlater_sdk.backend.chain.ChainGateway.constants`
with a :class:`ProtocolConstants`; the backend reads it once at start and every
rule that needs the fee rate, the interest rate, the grace period or a deadline
takes it from there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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

_BPS = 10_000
"""Basis points in 1."""

_CONTRACT_NAMES = {
    "COLLATERAL_RATIO": "collateral_ratio",
    "FEE_TO_INSURANCE_RATIO": "fee_to_insurance",
    "FEE_TO_LP_RATIO": "fee_to_lp",
    "FEE_TO_TREASURY_RATIO": "fee_to_treasury",
    "GRACE_PERIOD_DAYS": "grace_period_days",
    "LATE_INTEREST_APR": "late_interest_apr",
    "MAX_LTV": "max_ltv",
    "MERCHANT_FEE_RATE": "merchant_fee_rate",
}
"""The 8 keys of the deployed ``get_protocol_constants`` map (SOROBAN.md §4), in map
order, and the fields they set. Bill duration, liquidation threshold and penalty are
compiled into the contract and named nowhere on chain."""


@dataclass(frozen=True)
class ProtocolConstants:
    """bnpl_core's constants. The defaults are the deployed contract's values.

    ``liquidation_penalty`` is 1 % as in the contract (the architecture text says
    10 %); it is a field so a deployment that changes it can be mirrored. Rates are
    scaled by :data:`SCALE`; the derived properties give the deadlines in seconds.
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

    @property
    def bill_duration(self) -> int:
        """Seconds after creation during which a bill can be paid (then it expires)."""
        return self.bill_duration_days * SECONDS_PER_DAY

    @property
    def grace_period(self) -> int:
        """Seconds after creation without late interest (then a paid bill is overdue)."""
        return self.grace_period_days * SECONDS_PER_DAY

    @property
    def liquidation_after(self) -> int:
        """Seconds after creation from which an unpaid debt can be liquidated."""
        return self.liquidation_threshold_days * SECONDS_PER_DAY

    @property
    def fee_rate_bps(self) -> int:
        """The merchant fee in basis points (``150`` for 1.5 %), truncated."""
        return self.merchant_fee_rate * _BPS // SCALE

    def as_contract_map(self) -> dict[str, int]:
        """What ``get_protocol_constants`` returns: exactly its 8 keys, in map order."""
        values = asdict(self)
        return {key: values[name] for key, name in _CONTRACT_NAMES.items()}

    @classmethod
    def from_contract_map(
        cls, values: Mapping[str, int], *, defaults: ProtocolConstants | None = None
    ) -> ProtocolConstants:
        """The constants ``get_protocol_constants`` returned (upper-case names).

        The deployed contract names only 8 of them (SOROBAN.md §4); the others
        (bill duration, liquidation threshold and penalty) are compiled into it and
        come from *defaults*. Unknown names are ignored.
        """
        base = defaults or cls()
        known = {name: int(values[key]) for key, name in _CONTRACT_NAMES.items() if key in values}
        return dataclasses.replace(base, **known)
