"""The request log (issue 15 part 6): each authenticated API request is kept per merchant
and listed by ``GET /v1/request_logs``, on SQLite and PostgreSQL, over loopback."""

from __future__ import annotations

from typing import Any

import httpx
from backend_helpers import Api

from lumenlater_sdk import LumenLater
from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.services.request_log import RequestLog
from lumenlater_sdk.backend.testing import SandboxHandle


def _logs(api: Api, **params: Any) -> dict[str, Any]:
    return api.ok("GET", "/v1/request_logs", params=params)


def test_each_request_is_logged_with_its_answer(sb: SandboxHandle, api: Api) -> None:
    ok = api.get("/v1/account")
    missing = api.get("/v1/bills/bill_nope")
    created = api.post(
        "/v1/webhook_endpoints",
        json={"url": "https://shop.test/hook", "enabled_events": ["*"]},
        headers={"Idempotency-Key": "idem-rl-1"},
    )
    assert (ok.status_code, missing.status_code, created.status_code) == (200, 404, 200)
    api.get("/v1/account", headers={"Authorization": "Bearer sk_test_wrong"})  # no merchant
    sb.backend.request_log.flush()
    body = _logs(api)
    assert body["object"] == "list" and body["url"] == "/v1/request_logs"
    rows = body["data"]
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [
        ("POST", "/v1/webhook_endpoints", 200),
        ("GET", "/v1/bills/bill_nope", 404),
        ("GET", "/v1/account", 200),
    ]
    post, miss, first = rows
    assert post["idempotency_key"] == "idem-rl-1" and first["idempotency_key"] is None
    assert post["request_id"] == created.headers["request-id"]
    assert miss["request_id"] == missing.headers["request-id"]
    assert all(r["object"] == "request_log" and r["livemode"] is False for r in rows)
    assert all(r["id"].startswith("reqlog_") and r["latency_ms"] >= 0 for r in rows)
    assert all(isinstance(r["created"], int) for r in rows)
    # Reading the log is not logged.
    sb.backend.request_log.flush()
    assert len(_logs(api)["data"]) == 3


def test_a_merchant_sees_only_its_own_requests(sb: SandboxHandle, api: Api) -> None:
    other = sb.create_merchant("Other Shop")
    with Api(sb.base_url, other.secret_key) as them:
        them.get("/v1/bills")
        api.get("/v1/account")
        sb.backend.request_log.flush()
        theirs = _logs(them)["data"]
        mine = _logs(api)["data"]
    assert [r["path"] for r in theirs] == ["/v1/bills"]
    assert [r["path"] for r in mine] == ["/v1/account"]


def test_ending_before_tails_the_log_and_the_sdk_lists_it(sb: SandboxHandle, api: Api) -> None:
    api.get("/v1/account")
    sb.backend.request_log.flush()
    cursor = _logs(api)["data"][0]["id"]
    for i in range(3):
        api.get("/v1/bills", params={"limit": i + 1})
    sb.backend.request_log.flush()
    after = _logs(api, ending_before=cursor, limit=2)
    # The two entries right after the cursor, newest first, and more behind them.
    assert [r["path"] for r in after["data"]] == ["/v1/bills", "/v1/bills"]
    assert after["has_more"] is True
    with LumenLater(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0) as client:
        page = client.request_logs.list(limit=10)
        assert [r.path for r in page.data] == ["/v1/bills"] * 3 + ["/v1/account"]
        assert page.data[0].status == 200


def test_the_log_keeps_each_merchants_newest_entries(db_url: str) -> None:
    from lumenlater_sdk.backend.db import migrate
    from lumenlater_sdk.backend.store import COMPONENT, MIGRATIONS

    with connect(db_url) as db:
        migrate(db, COMPONENT, MIGRATIONS)
        log = RequestLog(db, keep=20)

        def record(merchant: str, n: int) -> None:
            for i in range(n):
                log.record(
                    merchant_id=merchant,
                    method="GET",
                    path=f"/v1/bills/{i}",
                    route="/v1/bills/{id}",
                    status=200,
                    request_id=f"req_{merchant}_{i}",
                    idempotency_key=None,
                    latency_ms=1.5,
                    livemode=False,
                    created=1_700_000_000,
                )

        record("GA", 450)  # more than one INSERT statement's worth in one flush
        record("GB", 5)
        assert log.flush() == 455
        with db.transaction(write=False) as tx:
            counts = {
                r["merchant_id"]: int(r["n"])
                for r in tx.fetchall(
                    "SELECT merchant_id, COUNT(*) AS n FROM request_logs GROUP BY merchant_id"
                )
            }
            newest = tx.fetchall(
                "SELECT path FROM request_logs WHERE merchant_id = 'GA' ORDER BY id DESC"
            )
        assert counts == {"GA": 20, "GB": 5}
        assert newest[0]["path"] == "/v1/bills/449" and newest[-1]["path"] == "/v1/bills/430"
        assert log.flush() == 0


def test_only_requests_with_a_valid_key_are_logged(sb: SandboxHandle, api: Api) -> None:
    r = httpx.get(f"{sb.base_url}/v1/account", headers={"Authorization": "Bearer sk_test_nope"})
    assert r.status_code == 401
    assert httpx.get(f"{sb.base_url}/v1/account").status_code == 401
    publishable = httpx.get(
        f"{sb.base_url}/v1/bills", headers={"Authorization": f"Bearer {sb.publishable_key}"}
    )
    assert publishable.status_code == 403
    sb.backend.request_log.flush()
    assert [(e["path"], e["status"]) for e in _logs(api)["data"]] == [("/v1/bills", 403)]


def test_a_path_with_a_nul_byte_costs_no_other_entry(sb: SandboxHandle, api: Api) -> None:
    """PostgreSQL refuses NUL in text: a hostile path is kept with the character replaced,
    and the requests flushed beside it are not dropped with it."""
    assert api.get("/v1/account").status_code == 200
    assert api.get("/v1/bills/bill_%00nul").status_code in (400, 404)
    assert api.get("/v1/account").status_code == 200
    assert sb.backend.request_log.flush() == 3
    paths = [r["path"] for r in _logs(api)["data"]]
    assert paths == ["/v1/account", "/v1/bills/bill_\ufffdnul", "/v1/account"]
