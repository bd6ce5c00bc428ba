"""Bad input is a 4xx with ``code`` and ``param``, never a 5xx and never half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

ADDR = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"customer": ADDR, "amount": 100, "color": "red"}, "parameter_unknown", "color"),
        ({"customer": ADDR, "amount": 1.5}, "parameter_invalid", "amount"),
        ({"customer": ADDR, "amount": 10.0}, "parameter_invalid", "amount"),
        ({"customer": ADDR, "amount": "100"}, "parameter_invalid", "amount"),
        ({"customer": ADDR, "amount": True}, "parameter_invalid", "amount"),
        ({"customer": ADDR, "amount": 0}, "parameter_invalid", "amount"),
        ({"customer": ADDR}, "parameter_missing", "amount"),
        ({"customer": "GABC", "amount": 100}, "parameter_invalid", "customer"),
        ({"customer": ADDR[:-1] + "8", "amount": 100}, "parameter_invalid", "customer"),
        ({"customer": ADDR, "amount": 100, "currency": "eur"}, "parameter_invalid", "currency"),
        (
            {"customer": ADDR, "amount": 100, "metadata": {f"k{i}": "v" for i in range(51)}},
            "parameter_invalid",
            "metadata",
        ),
        (
            {"customer": ADDR, "amount": 100, "metadata": {"k" * 41: "v"}},
            "parameter_invalid",
            "metadata",
        ),
        (
            {"customer": ADDR, "amount": 100, "metadata": {"k": "v" * 501}},
            "parameter_invalid",
            "metadata[k]",
        ),
        (
            {"customer": ADDR, "amount": 100, "metadata": {"k": 1}},
            "parameter_invalid",
            "metadata[k]",
        ),
    ],
)
def test_bill_validation(
    api1: Api, sb_sqlite: SandboxHandle, body: dict, code: str, param: str
) -> None:
    r = api1.post("/v1/bills", body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert (err["type"], err["code"], err["param"]) == ("invalid_request_error", code, param)
    assert err["request_id"] == r.headers["request-id"]
    assert api1.ok("GET", "/v1/bills")["data"] == []


def test_malformed_bodies_and_queries(api1: Api) -> None:
    r = api1.http.post("/v1/bills", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = api1.http.post("/v1/bills", content=b"[1]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api1.get("/v1/bills", params={"limit": 0})
    assert r.status_code == 400 and r.json()["error"]["param"] == "limit"
    r = api1.get("/v1/bills", params={"limit": 101})
    assert r.status_code == 400
    r = api1.get("/v1/bills", params={"bogus": 1})
    assert r.status_code == 400 and r.json()["error"]["code"] == "parameter_unknown"
    r = api1.get("/v1/bills", params={"status": "weird"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "status"
    assert api1.get("/v1/nothing").status_code == 404
    assert api1.http.delete("/v1/bills").status_code == 405


def test_session_validation(api1: Api) -> None:
    base = {
        "success_url": "https://shop.test/ok?s={SESSION_ID}",
        "cancel_url": "https://shop.test/no",
    }
    items = [
        {"name": "Tea", "quantity": 2, "unit_amount": 30_000_000},
        {"name": "Cup", "quantity": 1, "unit_amount": 40_000_000},
    ]
    ok = api1.ok("POST", "/v1/checkout/sessions", json={**base, "line_items": items})
    assert ok["amount"] == 100_000_000 and ok["status"] == "open"
    assert ok["url"].endswith(f"/pay/{ok['id']}") and ok["expires_at"] == ok["created"] + 3600
    ok2 = api1.ok(
        "POST",
        "/v1/checkout/sessions",
        json={**base, "line_items": items, "amount": 100_000_000, "expires_in": 1800},
    )
    assert ok2["expires_at"] == ok2["created"] + 1800
    cases = [
        ({**base, "line_items": items, "amount": 5}, "amount_mismatch", "amount"),
        ({**base}, "parameter_missing", "amount"),
        ({**base, "amount": 100, "expires_in": 60}, "parameter_invalid", "expires_in"),
        ({**base, "amount": 100, "expires_in": 90000}, "parameter_invalid", "expires_in"),
        ({**base, "amount": 100, "success_url": "ftp://x"}, "parameter_invalid", "success_url"),
        (
            {**base, "line_items": [{"name": "x", "quantity": 1, "unit_amount": 1.5}]},
            "parameter_invalid",
            "line_items[0][unit_amount]",
        ),
        (
            {**base, "line_items": [{"name": "x", "quantity": 1}]},
            "parameter_missing",
            "line_items[0][unit_amount]",
        ),
    ]
    for body, code, param in cases:
        r = api1.post("/v1/checkout/sessions", body)
        assert r.status_code == 400, (body, r.text)
        assert (r.json()["error"]["code"], r.json()["error"]["param"]) == (code, param), body
    assert len(api1.ok("GET", "/v1/checkout/sessions")["data"]) == 2


def test_live_mode_refuses_webhook_urls_of_internal_addresses(tmp_path: Path) -> None:
    """In live mode (``BackendConfig.livemode``) a webhook URL must reach a public
    address, on create and on update: 400 ``url_not_allowed`` on ``url``."""
    with (
        run_sandbox(
            f"sqlite:///{tmp_path / 'live.db'}",
            webhook_url=None,
            livemode=True,
            run_delivery=False,
            tick_interval=3600,
        ) as live,
        Api(live.base_url, live.secret_key) as api,
    ):
        for url in ("http://169.254.169.254/latest/meta-data/", "http://localhost:8787/x"):
            r = api.post("/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]})
            assert r.status_code == 400, r.text
            err = r.json()["error"]
            assert (err["type"], err["code"], err["param"]) == (
                "invalid_request_error",
                "url_not_allowed",
                "url",
            )
            assert "public addresses only" in err["message"]
        assert api.ok("GET", "/v1/webhook_endpoints")["data"] == []
        created = api.ok(
            "POST",
            "/v1/webhook_endpoints",
            json={"url": "https://93.184.215.14/hooks", "enabled_events": ["*"]},
        )
        r = api.post(f"/v1/webhook_endpoints/{created['id']}", {"url": "http://10.0.0.1/"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "url_not_allowed"
        assert api.ok("GET", f"/v1/webhook_endpoints/{created['id']}")["url"] == (
            "https://93.184.215.14/hooks"
        )
