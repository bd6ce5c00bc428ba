"""Typed events and analytics (metrics, transactions, export) through the client."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from integration_support import DAY, MERCHANT_FEE_RATE, SCALE, wallet

from lumenlater_sdk import AsyncLumenLater, LumenLater, usdc
from lumenlater_sdk.types import Bill, BillCreatedEvent, BillPaidEvent, Metrics, Transaction

EXPORT_COLUMNS = ["id", "type", "bill", "amount", "fee", "net", "created", "tx_hash"]


def _paid_bills(client: LumenLater, amounts: list[int]) -> list[Bill]:
    customer = wallet(client, "approve").address
    bills = []
    for amount in amounts:
        bill = client.bills.create(customer=customer, amount=amount)
        bills.append(client.test_helpers.bills.pay(bill.id, wallet="approve"))
    return bills


def test_events_are_typed(client: LumenLater) -> None:
    (bill,) = _paid_bills(client, [usdc(42)])
    page = client.events.list(type="bill.paid")
    (paid,) = list(page)
    assert isinstance(paid, BillPaidEvent)
    assert paid.id.startswith("evt_") and paid.object == "event" and paid.type == "bill.paid"
    assert paid.api_version == "2026-11-01" and paid.livemode is False
    assert isinstance(paid.data.object, Bill)
    assert paid.data.object.id == bill.id and paid.data.object.status == "paid"
    assert paid.chain is not None and paid.chain.tx_hash

    again = client.events.retrieve(paid.id)
    assert isinstance(again, BillPaidEvent) and again.model_dump() == paid.model_dump()

    all_events = list(client.events.list())
    assert [e.type for e in all_events] == ["bill.paid", "bill.created"]
    created = all_events[1]
    assert isinstance(created, BillCreatedEvent)
    assert created.data.object.status == "created"
    assert [e.id for e in client.events.list(limit=1)] == [e.id for e in all_events]


async def test_events_async(aclient: AsyncLumenLater) -> None:
    approve = await aclient.test_helpers.wallets.retrieve("approve")
    bill = await aclient.bills.create(customer=approve.address, amount=usdc(8))
    await aclient.test_helpers.bills.pay(bill.id, wallet="approve")
    events = [e async for e in aclient.events.list(limit=1)]
    assert [e.type for e in events] == ["bill.paid", "bill.created"]
    got = await aclient.events.retrieve(events[0].id)
    assert isinstance(got, BillPaidEvent) and got.data.object.id == bill.id


def test_metrics_and_transactions(client: LumenLater) -> None:
    amounts = [usdc(100), usdc("33.3333333")]
    bills = _paid_bills(client, amounts)
    client.bills.create(customer=wallet(client, "approve").address, amount=usdc(5))  # unpaid
    now = client.test_helpers.clock.retrieve().now
    fees = [a * MERCHANT_FEE_RATE // SCALE for a in amounts]

    m = client.analytics.metrics(start=now - DAY, end=now + DAY, interval="day")
    assert isinstance(m, Metrics) and m.object == "analytics.metrics"
    assert m.currency == "usdc"
    assert m.volume == sum(amounts)
    assert m.fees == sum(fees)
    assert m.net_volume == sum(amounts) - sum(fees)
    assert m.bills_created == 3 and m.bills_paid == 2
    for rate in (m.conversion_rate, m.repayment_rate, m.default_rate):
        assert isinstance(rate, Decimal)
    assert sum(p.volume for p in m.series) == m.volume
    assert sum(p.bills_paid for p in m.series) == 2
    # The wire carries rates as decimal strings, never floats (DESIGN §3).
    raw = m.model_extra or {}
    assert "conversion_rate" not in raw

    txns = list(client.analytics.transactions())
    payments = [t for t in txns if t.type == "payment"]
    assert {t.bill for t in payments} == {b.id for b in bills}
    for t in txns:
        assert isinstance(t, Transaction) and t.id.startswith("txn_")
        assert t.net == t.amount - t.fee or t.type != "payment"
    by_bill = {t.bill: t for t in payments}
    for bill, amount, fee in zip(bills, amounts, fees, strict=True):
        assert by_bill[bill.id].amount == amount and by_bill[bill.id].fee == fee
    only = list(client.analytics.transactions(bill=bills[0].id))
    assert only and {t.bill for t in only} == {bills[0].id}
    assert [t.id for t in client.analytics.transactions(limit=1)] == [t.id for t in txns]


def test_export_bytes_and_path_with_progress(client: LumenLater, tmp_path: Path) -> None:
    bills = _paid_bills(client, [usdc(10), usdc(20), usdc(30)])
    txns = list(client.analytics.transactions())

    data = client.analytics.export(format="csv")
    assert isinstance(data, bytes)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    header = data.decode("utf-8").splitlines()[0].split(",")
    assert set(EXPORT_COLUMNS) <= set(header), header
    assert len(rows) == len(txns)
    assert {r["id"] for r in rows} == {t.id for t in txns}
    assert {r["bill"] for r in rows if r["type"] == "payment"} == {b.id for b in bills}
    for r in rows:
        assert int(r["net"]) == int(r["amount"]) - int(r["fee"]) or r["type"] != "payment"

    seen: list[int] = []
    target = tmp_path / "tx.csv"
    out = client.analytics.export(format="csv", path=target, on_progress=seen.append)
    assert out == target
    assert target.read_bytes() == data
    assert seen and seen[-1] == len(data)
    assert seen == sorted(seen)

    as_json = json.loads(client.analytics.export(format="json"))
    items = as_json["data"] if isinstance(as_json, dict) else as_json
    assert {i["id"] for i in items} == {t.id for t in txns}


async def test_export_async(aclient: AsyncLumenLater, tmp_path: Path) -> None:
    approve = await aclient.test_helpers.wallets.retrieve("approve")
    bill = await aclient.bills.create(customer=approve.address, amount=usdc(15))
    await aclient.test_helpers.bills.pay(bill.id, wallet="approve")
    seen: list[int] = []
    path = str(tmp_path / "a.csv")
    assert await aclient.analytics.export(path=path, on_progress=seen.append) == path
    text = Path(path).read_text()
    assert text.splitlines()[0].split(",")[0] == "id" and bill.id in text
    assert seen[-1] == len(text.encode())
    m = await aclient.analytics.metrics()
    assert m.volume == usdc(15) and isinstance(m.repayment_rate, Decimal)
