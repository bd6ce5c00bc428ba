"""The merchant fee as merchants see it, with amounts whose 1.5 % is not whole stroops."""

from __future__ import annotations

import pytest
from integration_support import wallet

from lumenlater_sdk import LumenLater


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        (10_000_001, 150_000),  # 150_000.015
        (10_000_066, 150_000),  # 150_000.99: truncated, not rounded up
        (123_456_789, 1_851_851),  # 1_851_851.835
    ],
)
def test_ledger_lines_and_metrics_carry_the_truncated_fee(
    client: LumenLater, amount: int, fee: int
) -> None:
    customer = wallet(client, "approve").address
    bill = client.bills.create(customer=customer, amount=amount)
    client.test_helpers.bills.pay(bill.id, wallet="approve")
    (line,) = list(client.analytics.transactions(bill=bill.id))
    assert (line.type, line.amount, line.fee, line.net) == ("payment", amount, fee, amount - fee)
    metrics = client.analytics.metrics()
    assert (metrics.volume, metrics.fees, metrics.net_volume) == (amount, fee, amount - fee)
