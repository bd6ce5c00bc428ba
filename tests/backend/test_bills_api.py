"""Bills over real HTTP on SQLite and PostgreSQL: create, retrieve, list, cancel, pay."""

from __future__ import annotations

from backend_helpers import Api

from lumenlater_sdk.types import Bill, Event


def _wallet(api: Api, name: str) -> dict:
    return api.ok("GET", f"/v1/test_helpers/wallets/{name}")


def test_bill_lifecycle_and_events(api: Api) -> None:
    approve = _wallet(api, "approve")
    r = api.post(
        "/v1/bills",
        {
            "customer": approve["address"],
            "amount": 250_000_000,
            "order_id": "o-1",
            "metadata": {"k": "v"},
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["request-id"].startswith("req_")
    assert r.headers["lumenlater-version"] == "2026-11-01"
    bill = Bill.model_validate(r.json())
    assert bill.id.startswith("bill_") and bill.status == "created"
    assert bill.expires_at == bill.created + 86400
    assert bill.amount_due == 250_000_000 and bill.chain and bill.chain.bill_number >= 1

    paid = api.ok("POST", f"/v1/test_helpers/bills/{bill.id}/pay", json={"wallet": "approve"})
    assert paid["status"] == "paid" and paid["grace_period_ends_at"] == bill.created + 14 * 86400
    assert paid["liquidatable_at"] == bill.created + 28 * 86400
    got = api.ok("GET", f"/v1/bills/{bill.id}")
    assert got["status"] == "paid" and got["late_fee"] == 0

    events = api.ok("GET", "/v1/events")["data"]
    types = [e["type"] for e in events]
    assert types[:2] == ["bill.paid", "bill.created"]
    ev = Event.model_validate(events[0])
    assert ev.chain and ev.chain.topic == "payment" and ev.data.object["id"] == bill.id
    assert ev.data.previous_attributes == {"status": "created", "paid_at": None}
    assert api.ok("GET", f"/v1/events/{ev.id}") == events[0]

    repaid = api.ok("POST", f"/v1/test_helpers/bills/{bill.id}/repay", json={})
    assert repaid["status"] == "repaid" and repaid["amount_due"] == 0
    assert api.ok("GET", "/v1/events", params={"limit": 1})["data"][0]["type"] == "bill.repaid"


def test_list_filters_and_pagination(api: Api) -> None:
    addr = _wallet(api, "approve")["address"]
    ids = [
        api.ok(
            "POST",
            "/v1/bills",
            json={"customer": addr, "amount": 10_000_000 + i, "order_id": f"o{i % 2}"},
        )["id"]
        for i in range(5)
    ]
    page = api.ok("GET", "/v1/bills", params={"limit": 2})
    assert page["object"] == "list" and page["url"] == "/v1/bills" and page["has_more"]
    assert [b["id"] for b in page["data"]] == ids[::-1][:2]
    nxt = api.ok("GET", "/v1/bills", params={"limit": 2, "starting_after": ids[3]})
    assert [b["id"] for b in nxt["data"]] == [ids[2], ids[1]]
    prev = api.ok("GET", "/v1/bills", params={"limit": 2, "ending_before": ids[1]})
    assert [b["id"] for b in prev["data"]] == [ids[3], ids[2]]
    evens = api.ok("GET", "/v1/bills", params={"order_id": "o0"})["data"]
    assert {b["id"] for b in evens} == {ids[0], ids[2], ids[4]}
    api.ok("POST", f"/v1/test_helpers/bills/{ids[0]}/pay", json={"wallet": "approve"})
    assert [b["id"] for b in api.ok("GET", "/v1/bills", params={"status": "paid"})["data"]] == [
        ids[0]
    ]
    assert len(api.ok("GET", "/v1/bills", params={"status": "created"})["data"]) == 4


def test_cancel_only_while_created(api: Api) -> None:
    addr = _wallet(api, "approve")["address"]
    bill = api.ok("POST", "/v1/bills", json={"customer": addr, "amount": 5_000_000})
    cancelled = api.ok("POST", f"/v1/bills/{bill['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    r = api.post(f"/v1/bills/{bill['id']}/cancel")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bill_not_cancellable"
    r = api.post(f"/v1/test_helpers/bills/{bill['id']}/pay", {"wallet": "approve"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bill_cancelled"
    assert api.ok("GET", "/v1/events")["data"][0]["type"] == "bill.cancelled"


def test_contract_refusal_is_400_with_reason(api: Api) -> None:
    decline = _wallet(api, "decline")
    bill = api.ok("POST", "/v1/bills", json={"customer": decline["address"], "amount": 5_000_000})
    r = api.post(f"/v1/test_helpers/bills/{bill['id']}/pay", {"wallet": "decline"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["code"] == "insufficient_collateral"
    assert api.ok("GET", f"/v1/bills/{bill['id']}")["status"] == "created"


def test_clock_advance_expires_and_overdues(api: Api) -> None:
    addr = _wallet(api, "approve")["address"]
    unpaid = api.ok("POST", "/v1/bills", json={"customer": addr, "amount": 10_000_000})
    paid = api.ok("POST", "/v1/bills", json={"customer": addr, "amount": 3_650_000_000})
    api.ok("POST", f"/v1/test_helpers/bills/{paid['id']}/pay", json={"wallet": "approve"})
    before = api.ok("GET", "/v1/test_helpers/clock")["now"]
    after = api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 16 * 86400})
    assert after["now"] >= before + 16 * 86400
    assert api.ok("GET", f"/v1/bills/{unpaid['id']}")["status"] == "expired"
    got = api.ok("GET", f"/v1/bills/{paid['id']}")
    assert got["status"] == "overdue"
    # 30 % APR on 365 USDC is 0.3 USDC a day; (16 days − 14 grace) → ≥ 1 whole day.
    days = (after["now"] - paid["created"] - 14 * 86400) // 86400
    assert got["late_fee"] == 3_650_000_000 * 3_000_000 * days // (365 * 10_000_000)
    assert got["amount_due"] == 3_650_000_000 + got["late_fee"]
    types = [e["type"] for e in api.ok("GET", "/v1/events", params={"limit": 10})["data"]]
    assert "bill.expired" in types and "bill.overdue" in types
    assert [b["id"] for b in api.ok("GET", "/v1/bills", params={"status": "overdue"})["data"]] == [
        paid["id"]
    ]
    # Events are emitted once, however often time triggers run.
    api.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 60})
    types2 = [e["type"] for e in api.ok("GET", "/v1/events", params={"limit": 100})["data"]]
    assert types2.count("bill.overdue") == 1 and types2.count("bill.expired") == 1
