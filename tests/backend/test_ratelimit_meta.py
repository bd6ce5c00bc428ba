"""Rate limits, health, Prometheus metrics, the embed script and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx
from backend_helpers import Api, new_bill_body

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


def test_rate_limit_headers_and_429(tmp_path: Path) -> None:
    with run_sandbox(
        f"sqlite:///{tmp_path / 'rl.db'}",
        rate_limit=True,
        rate_limit_rate=0.5,
        rate_limit_burst=3,
        run_delivery=False,
    ) as sb:
        api = Api(sb.base_url, sb.secret_key)
        seen = [api.get("/v1/account") for _ in range(4)]
        assert [r.status_code for r in seen[:3]] == [200, 200, 200]
        assert [int(r.headers["x-ratelimit-remaining"]) for r in seen[:3]] == [2, 1, 0]
        assert all(r.headers["x-ratelimit-limit"] == "3" for r in seen)
        last = seen[3]
        assert last.status_code == 429
        assert last.json()["error"]["type"] == "rate_limit_error"
        assert int(last.headers["retry-after"]) >= 1
        assert int(last.headers["x-ratelimit-reset"]) > 0
        # Buckets are per key: another merchant is unaffected.
        other = Api(sb.base_url, sb.create_merchant().secret_key)
        assert other.get("/v1/account").status_code == 200


def test_health_metrics_js(sb_sqlite: SandboxHandle) -> None:
    with httpx.Client(base_url=sb_sqlite.base_url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        api = Api(sb_sqlite.base_url, sb_sqlite.secret_key)
        bill = api.ok(
            "POST",
            "/v1/bills",
            json={
                "customer": api.ok("GET", "/v1/test_helpers/wallets/approve")["address"],
                "amount": 10_000_000,
            },
        )
        api.ok("GET", f"/v1/bills/{bill['id']}")
        text = c.get("/metrics").text
        assert 'route="/v1/bills/{id}"' in text
        assert 'lumenlater_chain_calls_total{function="create_bill",outcome="ok"}' in text
        js = c.get("/v1/js/lumenlater.js")
        assert js.status_code == 200 and "client_secret" in js.text
        assert js.headers["content-type"].startswith("application/javascript")


def test_openapi_document_lists_every_api_route(sb_sqlite: SandboxHandle) -> None:
    doc = httpx.get(sb_sqlite.base_url + "/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    served = {(s.method.lower(), s.path) for s in sb_sqlite.app.specs if s.include_in_schema}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    assert "/v1/bills/{id}" in doc["paths"] and "Bill" in doc["components"]["schemas"]


def test_delivery_metrics_use_the_documented_outcomes(tmp_path: Path) -> None:
    import re
    import time

    from lumenlater_sdk.backend.delivery import OUTCOMES

    assert OUTCOMES == ("delivered", "retrying", "failed")
    # The sandbox's first endpoint points at a closed port: the first attempt fails
    # with a retry scheduled.
    with run_sandbox(f"sqlite:///{tmp_path / 'm.db'}") as sb:
        api = Api(sb.base_url, sb.secret_key)
        api.ok("POST", "/v1/bills", json=new_bill_body(api))
        deadline = time.monotonic() + 20
        while True:
            text = httpx.get(sb.base_url + "/metrics").text
            counts = dict(
                re.findall(
                    r'^lumenlater_webhook_deliveries_total\{outcome="(\w+)"\} (\S+)$', text, re.M
                )
            )
            if counts or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert set(counts) <= set(OUTCOMES) and float(counts["retrying"]) >= 1.0
