"""Rate limits, health, Prometheus metrics, the embed script and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_helpers import Api, new_bill_body

from lumenlater_sdk.backend.http._ratelimit import Limit, MemoryBuckets
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


def client_from(address: str, base_url: str, key: str | None = None) -> httpx.Client:
    """A client whose connections leave from *address* (any of 127.0.0.0/8 on Linux),
    so the backend sees another client address over loopback."""
    return httpx.Client(
        base_url=base_url,
        timeout=30,
        transport=httpx.HTTPTransport(local_address=address),
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )


def assert_refused(r: httpx.Response) -> dict[str, Any]:
    """A 429 in the JSON error shape, with ``Retry-After``."""
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["retry-after"]) >= 1
    error: dict[str, Any] = r.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limited"
    assert error["request_id"] == r.headers["request-id"]
    return error


@pytest.fixture
def limited(db_url: str) -> Iterator[SandboxHandle]:
    """Limits that no refill moves during a test: 3 requests, 3 failed keys per address."""
    with run_sandbox(
        db_url,
        rate_limit=True,
        rate_limit_rate=0.001,
        rate_limit_burst=3,
        rate_limit_failure_rate=0.001,
        rate_limit_failure_burst=3,
        run_delivery=False,
        tick_interval=3600,
    ) as sb:
        yield sb


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


def test_guessed_keys_are_throttled_by_address_not_for_others(limited: SandboxHandle) -> None:
    sb = limited
    with client_from("127.0.0.2", sb.base_url) as guesser:
        wrong = [
            guesser.get("/v1/account", headers={"Authorization": f"Bearer sk_test_guess{i}"})
            for i in range(4)
        ]
        assert [r.status_code for r in wrong[:3]] == [401, 401, 401]
        assert [r.json()["error"]["code"] for r in wrong[:3]] == ["api_key_invalid"] * 3
        assert [int(r.headers["x-ratelimit-remaining"]) for r in wrong[:3]] == [2, 1, 0]
        assert_refused(wrong[3])
        # Refused before the key is even looked at: a real key from this address too.
        fresh = sb.create_merchant()
        assert_refused(
            guesser.get("/v1/account", headers={"Authorization": f"Bearer {fresh.secret_key}"})
        )
    # Another address, and a key new to the backend, are unaffected.
    with client_from("127.0.0.3", sb.base_url, fresh.secret_key) as other:
        r = other.get("/v1/account")
        assert r.status_code == 200, r.text
        assert r.json()["id"] == fresh.merchant_id


def test_limited_by_address_until_a_key_authenticates(limited: SandboxHandle) -> None:
    sb = limited
    with client_from("127.0.0.4", sb.base_url) as anonymous:
        keyless = [anonymous.get("/v1/account") for _ in range(4)]
        assert [r.status_code for r in keyless[:3]] == [401, 401, 401]
        assert_refused(keyless[3])
        # The hosted page (no key) shares the address's bucket.
        assert_refused(anonymous.get("/pay/cs_nope"))
        # The same address with a key: that key's own bucket.
        r = anonymous.get("/v1/account", headers={"Authorization": f"Bearer {sb.secret_key}"})
        assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "2"
    with client_from("127.0.0.5", sb.base_url) as elsewhere:
        assert elsewhere.get("/v1/account").json()["error"]["code"] == "api_key_missing"


def test_health_metrics_and_static_files_outlast_an_anonymous_flood(
    limited: SandboxHandle,
) -> None:
    with httpx.Client(base_url=limited.base_url, timeout=30) as c:
        flood = [c.get("/pay/cs_nope") for _ in range(5)]
        assert_refused(flood[-1])
        for path in ("/healthz", "/metrics", "/v1/js/lumenlater.js", "/v1/openapi.json"):
            for _ in range(5):
                r = c.get(path)
                assert r.status_code == 200, (path, r.text)
                assert "x-ratelimit-limit" not in r.headers
        assert_refused(c.get("/pay/cs_nope"))


def test_buckets_expire_one_by_one_and_memory_stays_bounded() -> None:
    now = [1000.0]
    buckets = MemoryBuckets(clock=lambda: now[0], max_keys=5_000)
    limit = Limit("req", rate=1.0, burst=2)  # full again 2 s after the last request
    take = lambda key: buckets.decide(limit, key, take=True)  # noqa: E731
    assert take("drained").allowed and take("drained").allowed
    assert not take("drained").allowed
    for i in range(3_000):  # a flood of addresses, each seen once
        assert take(f"ip:10.0.{i // 256}.{i % 256}").allowed
    assert len(buckets) == 3_001
    # No clear-all: the flood handed the drained caller no fresh burst.
    assert not take("drained").allowed
    now[0] += 1.5  # "drained" has refilled by one and a half; the flood's buckets not yet
    assert take("drained").allowed
    now[0] += 1.0
    take("late")  # every bucket of the flood has refilled by now and is dropped
    assert len(buckets) == 2
    assert take("drained").allowed  # kept: it was not full (and was not reset)
    # Past max_keys the least recently used go first, never the whole table.
    for i in range(12_000):
        take(f"ip:10.1.{i // 256}.{i % 256}")
    assert len(buckets) == 5_000
    # A full bucket is no entry at all: peeking at an unknown caller stores nothing.
    buckets.decide(limit, "peeked", take=False)
    assert len(buckets) == 5_000


def test_an_ipv6_host_is_one_address_however_many_it_rotates_through() -> None:
    from lumenlater_sdk.backend.http._ratelimit import address_bucket

    one = address_bucket({"client": ("2001:db8:1:2:aaaa::1", 5000)})
    assert one == address_bucket({"client": ("2001:db8:1:2:ffff:ffff:ffff:ffff", 1)})
    assert one == "ip:2001:db8:1:2::/64"
    assert address_bucket({"client": ("2001:db8:1:3::1", 1)}) != one
    assert address_bucket({"client": ("::ffff:192.0.2.7", 1)}) == "ip:192.0.2.7"
    assert address_bucket({"client": ("192.0.2.7", 1)}) == "ip:192.0.2.7"
    assert address_bucket({"client": None}) == "ip:?"
