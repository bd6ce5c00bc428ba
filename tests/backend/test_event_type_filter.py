"""``GET /v1/events?type=bill.*``: a family of types, read one type at a time along an
index and merged, lists exactly the events a prefix match would, page by page."""

from __future__ import annotations

from typing import Any

from backend_helpers import Api


def _all(api: Api, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {**params, "limit": 2}
    while True:
        body = api.ok("GET", "/v1/events", params=query)
        found += body["data"]
        if not body["has_more"]:
            return found
        query["starting_after"] = body["data"][-1]["id"]


def test_type_family_lists_what_a_prefix_match_would(api: Api) -> None:
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    bills = [
        api.ok("POST", "/v1/bills", json={"customer": customer, "amount": 5_000_000})
        for _ in range(3)
    ]
    api.ok("POST", f"/v1/test_helpers/bills/{bills[0]['id']}/pay", json={"wallet": "approve"})
    api.ok("POST", f"/v1/bills/{bills[1]['id']}/cancel")
    session = api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": 5_000_000,
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/back",
        },
    )
    api.ok("POST", f"/v1/checkout/sessions/{session['id']}/expire")
    everything = api.ok("GET", "/v1/events", params={"limit": 100})["data"]
    assert not api.ok("GET", "/v1/events", params={"limit": 100})["has_more"]
    for family in ("bill.", "checkout.", "checkout.session.", "nothing."):
        expected = [e for e in everything if e["type"].startswith(family)]
        assert _all(api, type=family + "*") == expected, family
    assert len(_all(api, type="bill.*")) == 5  # three created, one paid, one cancelled
    assert [e["type"] for e in _all(api, type="checkout.*")] == ["checkout.session.expired"]
