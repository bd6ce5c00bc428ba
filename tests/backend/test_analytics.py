"""Analytics numbers, checked by hand, and the streamed export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Literal

import httpx
from backend_helpers import Api

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.testing import SandboxHandle


def test_metrics_and_transactions(api: Api) -> None:
    addr = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    start = api.ok("GET", "/v1/test_helpers/clock")["now"]
    amounts = [100_000_000, 200_000_000, 300_000_000]
    bills = [api.ok("POST", "/v1/bills", json={"customer": addr, "amount": a}) for a in amounts]
    for b in bills[:2]:
        api.ok("POST", f"/v1/test_helpers/bills/{b['id']}/pay", json={"wallet": "approve"})
    api.ok("POST", f"/v1/test_helpers/bills/{bills[0]['id']}/repay", json={})
    for _ in range(3):
        api.ok(
            "POST",
            "/v1/checkout/sessions",
            json={
                "amount": 1_000_000,
                "success_url": "https://s.test/ok",
                "cancel_url": "https://s.test/no",
            },
        )
    end = api.ok("GET", "/v1/test_helpers/clock")["now"] + 1
    m = api.ok("GET", "/v1/analytics/metrics", params={"start": start, "end": end})
    fees = [a * 150_000 // 10_000_000 for a in amounts[:2]]  # 1.5 %
    assert m["volume"] == 300_000_000 and m["fees"] == sum(fees) == 4_500_000
    assert m["net_volume"] == 300_000_000 - 4_500_000
    assert (m["bills_created"], m["bills_paid"], m["repaid_count"]) == (3, 2, 1)
    assert (m["sessions_created"], m["sessions_completed"]) == (3, 0)
    assert m["conversion_rate"] == "0.0000" and m["repayment_rate"] == "0.5000"
    assert m["default_rate"] == "0.0000" and m["average_order_value"] == 150_000_000
    assert sum(p["volume"] for p in m["series"]) == 300_000_000
    assert sum(p["bills_paid"] for p in m["series"]) == 2
    assert m["series"][0]["start"] == start
    weekly = api.ok(
        "GET",
        "/v1/analytics/metrics",
        params={"start": start, "end": end + 40 * 86400, "interval": "month"},
    )
    assert len(weekly["series"]) == 2 and weekly["volume"] == 300_000_000

    lines = api.ok("GET", "/v1/analytics/transactions")["data"]
    assert [(t["type"], t["amount"], t["fee"], t["net"]) for t in lines] == [
        ("payment", 200_000_000, 3_000_000, 197_000_000),
        ("payment", 100_000_000, 1_500_000, 98_500_000),
    ]
    assert all(t["id"].startswith("txn_") and len(t["tx_hash"]) == 64 for t in lines)
    one = api.ok("GET", "/v1/analytics/transactions", params={"bill": bills[0]["id"]})["data"]
    assert [t["bill"] for t in one] == [bills[0]["id"]]


def test_export_streams_csv_and_json(api1: Api, sb_sqlite: SandboxHandle) -> None:
    addr = api1.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    n = 12
    for i in range(n):
        b = api1.ok("POST", "/v1/bills", json={"customer": addr, "amount": 10_000_000 + i})
        api1.ok("POST", f"/v1/test_helpers/bills/{b['id']}/pay", json={"wallet": "approve"})
    # Small batches, so the export crosses several database round trips.
    from lumenlater_sdk.backend.store import ledger

    rows = list(
        ledger.iterate_lines(
            sb_sqlite.backend.db, sb_sqlite.merchant_id, start=None, end=None, batch=5
        )
    )
    assert len(rows) == n
    with httpx.Client(
        base_url=sb_sqlite.base_url, headers={"Authorization": f"Bearer {sb_sqlite.secret_key}"}
    ) as c:
        with c.stream("GET", "/v1/analytics/export", params={"format": "csv"}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            assert "content-length" not in r.headers  # streamed (chunked)
            text = b"".join(r.iter_bytes()).decode()
        table = list(csv.DictReader(io.StringIO(text)))
        assert len(table) == n and {int(t["amount"]) for t in table} == {
            10_000_000 + i for i in range(n)
        }
        data = json.loads(c.get("/v1/analytics/export", params={"format": "json"}).content)
        assert len(data) == n and data[0]["object"] == "analytics.transaction"
        assert c.get("/v1/analytics/export", params={"format": "xml"}).status_code == 400


def _reference_export(rows: list[dict[str, object]], fmt: str) -> bytes:
    """The export's bytes as the first implementation made them (line_object, str(), and
    json.dumps per line): the optimised formatting must keep them exactly."""
    from lumenlater_sdk.backend.services.objects import line_object

    objs = [line_object(r) for r in rows]
    if fmt == "csv":
        head = ",".join(EXPORT_COLUMNS) + "\n"
        return (
            head
            + "".join(
                ",".join("" if o[c] is None else str(o[c]) for c in EXPORT_COLUMNS) + "\n"
                for o in objs
            )
        ).encode()
    return ("[" + ",".join(json.dumps(o) for o in objs) + "]").encode()


EXPORT_COLUMNS = ("id", "type", "bill", "amount", "fee", "net", "created", "tx_hash")


def test_export_bytes_match_the_reference(sb: SandboxHandle, tmp_path: Path) -> None:
    """Real payment lines plus stored lines at the edges (no bill, no hash, a negative
    reversal, amounts past 2**53, a non-ASCII and a quote in a text column), more than
    one read batch and many chunks, byte for byte on both databases; a window too."""
    from lumenlater_sdk.backend.services.export import CHUNK_BYTES, export_lines
    from lumenlater_sdk.backend.store import ledger

    api = Api(sb.base_url, sb.secret_key)
    addr = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    for i in range(3):
        b = api.ok("POST", "/v1/bills", json={"customer": addr, "amount": 10_000_000 + i})
        api.ok("POST", f"/v1/test_helpers/bills/{b['id']}/pay", json={"wallet": "approve"})
    db = sb.backend.db
    edges = [
        ("fee", None, 0, "txn_edge0"),
        ("reversal", "bill_x", -(2**62), None),
        # 2**53 + 1: past a double, and 833 of them in one hour still sum in BIGINT
        ("payment", 'bill_"q"\\é\u2028', 2**53 + 1, "ab" * 32),
    ]
    with db.transaction() as tx:
        for i in range(2500):  # past one read batch (2000) and many 64 KiB chunks
            kind, bill, amount, tx_hash = edges[i % 3]
            ledger.insert_line(
                tx,
                {
                    "id": f"txn_zz{i:05d}",
                    "merchant_id": sb.merchant_id,
                    "type": kind,
                    "bill_id": bill,
                    "amount": amount,
                    "fee": i,
                    "net": amount - i,
                    "created": 1_000 + i,
                    "tx_hash": tx_hash,
                },
            )
        ledger.insert_line(  # another merchant's line never shows
            tx,
            {
                "id": "txn_other",
                "merchant_id": "other",
                "type": "payment",
                "bill_id": None,
                "amount": 1,
                "fee": 0,
                "net": 1,
                "created": 1_500,
                "tx_hash": None,
            },
        )
        rows = tx.fetchall(
            "SELECT * FROM ledger_lines WHERE merchant_id = ? ORDER BY id", (sb.merchant_id,)
        )
    assert len(rows) == 2503
    window = [r for r in rows if 1_200 <= r["created"] < 2_000]
    with api:
        formats: tuple[Literal["csv", "json"], ...] = ("csv", "json")
        for fmt in formats:
            body = api.get("/v1/analytics/export", params={"format": fmt}).content
            assert body == _reference_export(rows, fmt), fmt
            # The service's chunks: each CHUNK_BYTES characters and one line past at most
            # (UTF-8: up to 3 bytes each in the CSV), the last one smaller; never a chunk
            # per line nor the whole file at once.
            chunks = list(export_lines(sb.backend.ctx, sb.merchant_id, fmt, None, None))
            assert b"".join(chunks) == body and len(chunks) > 3
            assert all(CHUNK_BYTES <= len(c) < 3 * (CHUNK_BYTES + 300) for c in chunks[:-1])
            assert all(CHUNK_BYTES <= len(c.decode()) < CHUNK_BYTES + 300 for c in chunks[:-1])
            # The SDK writes the same bytes to a file, reporting progress chunk by chunk.
            seen: list[int] = []
            target = tmp_path / f"ledger.{fmt}"
            with LumenLater(api_key=sb.secret_key, base_url=sb.base_url) as client:
                out = client.analytics.export(fmt, path=target, on_progress=seen.append)
            assert out == target and target.read_bytes() == body
            assert len(seen) > 1 and seen == sorted(seen) and seen[-1] == len(body)
            part = api.get(
                "/v1/analytics/export", params={"format": fmt, "start": 1_200, "end": 2_000}
            )
            assert part.content == _reference_export(window, fmt), fmt
        empty = {"format": "json", "start": 0, "end": 1}
        assert api.get("/v1/analytics/export", params=empty).content == b"[]"
        empty["format"] = "csv"
        assert api.get("/v1/analytics/export", params=empty).content == _reference_export([], "csv")
