"""The Bill model: one on-chain BNPL bill."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from .._money import to_decimal
from ._base import HasAmount, LumenLaterObject

BillStatus = (
    Literal["created", "paid", "repaid", "overdue", "liquidated", "expired", "cancelled"] | str
)


class BillChain(LumenLaterObject):
    """Where the bill lives on chain."""

    contract_id: str
    bill_number: int
    tx_hash: str | None = None
    ledger: int | None = None


class Bill(HasAmount):
    """A bill the merchant issued to a customer (``bill_…``)."""

    id: str
    object: Literal["bill"] | str = "bill"
    created: int
    livemode: bool = False
    metadata: dict[str, str] = {}
    customer: str
    merchant: str
    currency: str = "usdc"
    status: BillStatus
    order_id: str | None = None
    description: str | None = None
    expires_at: int
    paid_at: int | None = None
    grace_period_ends_at: int | None = None
    liquidatable_at: int | None = None
    late_fee: int = 0
    amount_due: int = 0
    repaid_at: int | None = None
    liquidated_at: int | None = None
    chain: BillChain | None = None

    @property
    def amount_due_decimal(self) -> Decimal:
        """``amount_due`` in USDC."""
        return to_decimal(self.amount_due)
