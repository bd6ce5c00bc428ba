"""Authentication, publishable-key limits, live-key refusal and merchant isolation."""

from __future__ import annotations

import httpx
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle


def test_other_merchant_sees_404(api: Api, sb: SandboxHandle) -> None:
    addr = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    bill = api.ok("POST", "/v1/bills", json={"customer": addr, "amount": 10_000_000})
    session = api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": 10_000_000,
            "success_url": "https://shop.test/ok",
            "cancel_url": "https://shop.test/no",
        },
    )
    event = api.ok("GET", "/v1/events")["data"][0]
    other = sb.create_merchant("Other")
    assert other.merchant_id != sb.merchant_id
    b = Api(sb.base_url, other.secret_key)
    assert b.ok("GET", "/v1/account")["id"] == other.merchant_id
    for path in (
        f"/v1/bills/{bill['id']}",
        f"/v1/checkout/sessions/{session['id']}",
        f"/v1/events/{event['id']}",
    ):
        r = b.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "resource_missing"
    assert b.post(f"/v1/bills/{bill['id']}/cancel").status_code == 404
    assert b.ok("GET", "/v1/bills")["data"] == []
    assert b.ok("GET", "/v1/events")["data"] == []


def test_account(api: Api, sb: SandboxHandle) -> None:
    acct = api.ok("GET", "/v1/account")
    assert acct == {
        **acct,
        "object": "account",
        "id": sb.merchant_id,
        "status": "approved",
        "business_name": "Sandbox Shop",
        "fee_rate_bps": 150,
        "settlement_currency": "usdc",
    }


def test_auth_errors(sb_sqlite: SandboxHandle) -> None:
    with httpx.Client(base_url=sb_sqlite.base_url) as c:
        r = c.get("/v1/bills")
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = c.get("/v1/bills", headers={"Authorization": "Bearer sk_test_nope"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "api_key_invalid"
        assert r.headers["request-id"].startswith("req_")


def test_publishable_key_only_reads_session_by_client_secret(sb_sqlite: SandboxHandle) -> None:
    api = Api(sb_sqlite.base_url, sb_sqlite.secret_key)
    s = api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": 10_000_000,
            "success_url": "https://shop.test/ok",
            "cancel_url": "https://shop.test/no",
        },
    )
    pk = Api(sb_sqlite.base_url, sb_sqlite.publishable_key)
    got = pk.ok(
        "GET", f"/v1/checkout/sessions/{s['id']}", params={"client_secret": s["client_secret"]}
    )
    assert got["id"] == s["id"]
    assert (
        pk.get(f"/v1/checkout/sessions/{s['id']}", params={"client_secret": "wrong"}).status_code
        == 404
    )
    assert pk.get(f"/v1/checkout/sessions/{s['id']}").status_code == 403
    for method, path in (
        ("GET", "/v1/bills"),
        ("POST", "/v1/bills"),
        ("GET", "/v1/account"),
        ("GET", "/v1/checkout/sessions"),
        ("GET", "/v1/events"),
    ):
        r = pk.http.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 403, path
        assert r.json()["error"]["type"] == "permission_error"


def test_live_keys_cannot_use_test_helpers(sb_sqlite: SandboxHandle) -> None:
    live = sb_sqlite.backend.create_merchant("Live Shop", livemode=True)
    assert live.secret_key.startswith("sk_live_")
    api = Api(sb_sqlite.base_url, live.secret_key)
    for method, path in (
        ("GET", "/v1/test_helpers/clock"),
        ("POST", "/v1/test_helpers/clock/advance"),
        ("GET", "/v1/test_helpers/wallets"),
        ("POST", "/v1/test_helpers/events/trigger"),
    ):
        r = api.http.request(method, path, json={"seconds": 1} if method == "POST" else None)
        assert r.status_code == 404, path
    assert api.ok("GET", "/v1/account")["livemode"] is True


def test_keys_are_stored_hashed(sb_sqlite: SandboxHandle) -> None:
    with sb_sqlite.backend.db.transaction(write=False) as tx:
        rows = tx.fetchall("SELECT * FROM api_keys")
        dump = repr(rows) + repr(tx.fetchall("SELECT * FROM merchants"))
    assert sb_sqlite.secret_key not in dump and sb_sqlite.publishable_key not in dump
    assert all(len(r["key_hash"]) == 64 for r in rows)
