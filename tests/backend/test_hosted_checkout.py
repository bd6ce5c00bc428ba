"""The hosted checkout page, driven like a browser without JavaScript."""

from __future__ import annotations

import re
from html import escape

import httpx
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle
from lumenlater_sdk.backend.web.pay import SHOPPER_WORDS


def _session(api: Api, **extra: object) -> dict:
    return api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "line_items": [{"name": "Green tea", "quantity": 2, "unit_amount": 50_000_000}],
            "success_url": "https://shop.test/thanks?session={SESSION_ID}",
            "cancel_url": "https://shop.test/cart",
            "order_id": "ord-9",
            **extra,
        },
    )


def _form(page: str) -> dict[str, str]:
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    return {"token": token.group(1)}


def test_pay_with_approve_redirects_and_completes(api: Api, sb: SandboxHandle) -> None:
    s = _session(api)
    with httpx.Client(base_url=sb.base_url) as browser:
        page = browser.get(f"/pay/{s['id']}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        html = page.text
        assert "Green tea" in html and "10.00 USDC" in html
        assert '<label for="w-' in html and 'type="radio"' in html
        assert 'href="https://shop.test/cart"' in html
        wallets = api.ok("GET", "/v1/test_helpers/wallets")["data"]
        approve = next(w for w in wallets if w["name"] == "approve")
        r = browser.post(f"/pay/{s['id']}", data={**_form(html), "wallet": approve["id"]})
        assert r.status_code == 303
        assert r.headers["location"] == f"https://shop.test/thanks?session={s['id']}"
    done = api.ok("GET", f"/v1/checkout/sessions/{s['id']}")
    assert done["status"] == "complete" and done["payment_status"] == "paid"
    assert done["customer"] == approve["address"] and done["bill"].startswith("bill_")
    bill = api.ok("GET", f"/v1/bills/{done['bill']}")
    assert bill["status"] == "paid" and bill["amount"] == 100_000_000
    types = [e["type"] for e in api.ok("GET", "/v1/events")["data"]]
    assert types[:3] == ["checkout.session.completed", "bill.paid", "bill.created"]
    # A completed session cannot be paid again.
    with httpx.Client(base_url=sb.base_url) as browser:
        page = browser.get(f"/pay/{s['id']}").text
        assert "Payment complete" in page and "cannot be paid again" in page
        assert "<form" not in page and "Return to the shop" in page


def test_decline_shows_error_and_session_stays_open(api: Api, sb: SandboxHandle) -> None:
    s = _session(api)
    with httpx.Client(base_url=sb.base_url) as browser:
        html = browser.get(f"/pay/{s['id']}").text
        r = browser.post(f"/pay/{s['id']}", data={**_form(html), "wallet": "decline"})
        assert r.status_code == 402
        # In the shopper's words, not the contract's ("Insufficient collateral").
        assert 'role="alert"' in r.text and 'data-code="insufficient_collateral"' in r.text
        assert escape(SHOPPER_WORDS["insufficient_collateral"]) in r.text
    assert api.ok("GET", f"/v1/checkout/sessions/{s['id']}")["status"] == "open"
    assert api.ok("GET", "/v1/bills")["data"] == []  # all or nothing
    # Nothing but the refused attempt itself.
    assert [e["type"] for e in api.ok("GET", "/v1/events")["data"]] == ["payment.failed"]


def test_bad_token_and_expired_session(api1: Api, sb_sqlite: SandboxHandle) -> None:
    s = _session(api1)
    with httpx.Client(base_url=sb_sqlite.base_url) as browser:
        r = browser.post(f"/pay/{s['id']}", data={"token": "forged", "wallet": "approve"})
        assert r.status_code == 400 and api1.ok("GET", "/v1/bills")["data"] == []
        html = browser.get(f"/pay/{s['id']}").text
        api1.ok("POST", "/v1/test_helpers/clock/advance", json={"seconds": 3601})
        assert api1.ok("GET", f"/v1/checkout/sessions/{s['id']}")["status"] == "expired"
        assert api1.ok("GET", "/v1/events")["data"][0]["type"] == "checkout.session.expired"
        r = browser.post(f"/pay/{s['id']}", data={**_form(html), "wallet": "approve"})
        assert r.status_code == 409 and "has expired and cannot be paid" in r.text
        assert browser.get("/pay/cs_nope").status_code == 404
    assert api1.ok("GET", "/v1/bills")["data"] == []


def test_expire_endpoint(api1: Api) -> None:
    s = _session(api1)
    assert api1.ok("POST", f"/v1/checkout/sessions/{s['id']}/expire")["status"] == "expired"
    r = api1.post(f"/v1/checkout/sessions/{s['id']}/expire")
    assert r.status_code == 400
    assert (
        api1.ok("GET", "/v1/checkout/sessions", params={"status": "expired"})["data"][0]["id"]
        == s["id"]
    )
