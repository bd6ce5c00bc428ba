"""Analytics models: metrics with a series, and merchant-side ledger lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ._base import LumenLaterObject

TransactionType = Literal["payment", "fee", "reversal"] | str


class MetricsPoint(LumenLaterObject):
    """One interval of the metrics series."""

    start: int
    volume: int
    bills_paid: int


class Metrics(LumenLaterObject):
    """Aggregates over ``[start, end)``; rates are exact decimals (strings on the wire)."""

    object: Literal["analytics.metrics"] | str = "analytics.metrics"
    start: int
    end: int
    currency: str = "usdc"
    volume: int
    net_volume: int
    fees: int
    bills_created: int
    bills_paid: int
    sessions_created: int
    sessions_completed: int
    conversion_rate: Decimal
    average_order_value: int
    repaid_count: int
    overdue_count: int
    liquidated_count: int
    repayment_rate: Decimal
    default_rate: Decimal
    payment_attempts: int = 0
    """Payment attempts that ended: completed sessions plus refused attempts."""
    payment_failures: int = 0
    """Refused attempts (each one a ``payment.failed`` event)."""
    payment_success_rate: Decimal = Decimal("0")
    """Completed sessions over attempts."""
    series: list[MetricsPoint] = []


class Transaction(LumenLaterObject):
    """A merchant-side ledger line (``txn_…``)."""

    id: str
    object: Literal["analytics.transaction"] | str = "analytics.transaction"
    type: TransactionType
    bill: str | None = None
    amount: int
    fee: int
    net: int
    created: int
    tx_hash: str | None = None
