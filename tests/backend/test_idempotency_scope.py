"""What one Idempotency-Key covers (DESIGN §2): one merchant, one method and path, one
body, for 24 hours, measured on the backend's wall clock (which these tests move).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend_helpers import Api, new_bill_body, post_at_once

from lumenlater_sdk.backend.services import idempotency
from lumenlater_sdk.backend.store import idempotency as store
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

DAY = 86_400


class WallClock:
    """A settable wall clock for the backend (the ledger starts from it too)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def csb(
    request: pytest.FixtureRequest, tmp_path: Path, clock: WallClock
) -> Iterator[SandboxHandle]:
    url = (
        f"sqlite:///{tmp_path / 'sb.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with run_sandbox(url, run_delivery=False, tick_interval=3600, clock=clock) as handle:
        yield handle


@pytest.fixture
def capi(csb: SandboxHandle) -> Iterator[Api]:
    a = Api(csb.base_url, csb.secret_key)
    yield a
    a.http.close()


def bill_ids(api: Api) -> list[str]:
    return [b["id"] for b in api.ok("GET", "/v1/bills", params={"limit": 100})["data"]]


@pytest.mark.parametrize("later", [60, 25 * 60, 6 * 3600, DAY - 1, DAY])
def test_a_retry_within_24_hours_replays(capi: Api, clock: WallClock, later: int) -> None:
    body = new_bill_body(capi)
    first = capi.post("/v1/bills", body, headers={"Idempotency-Key": "day-key"})
    assert first.status_code == 200
    clock.advance(later)
    again = capi.post("/v1/bills", body, headers={"Idempotency-Key": "day-key"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert bill_ids(capi) == [first.json()["id"]]


def test_after_24_hours_the_key_is_forgotten(capi: Api, clock: WallClock) -> None:
    body = new_bill_body(capi)
    first = capi.post("/v1/bills", body, headers={"Idempotency-Key": "old-key"})
    clock.advance(DAY + 1)
    again = capi.post("/v1/bills", body, headers={"Idempotency-Key": "old-key"})
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    # The new answer is now the one kept for the key.
    third = capi.post("/v1/bills", body, headers={"Idempotency-Key": "old-key"})
    assert third.headers["idempotent-replayed"] == "true"
    assert third.json()["id"] == again.json()["id"]
    # An expired key can also carry a different request.
    clock.advance(DAY + 1)
    other = capi.post(
        "/v1/bills", {**body, "amount": 20_000_000}, headers={"Idempotency-Key": "old-key"}
    )
    assert other.status_code == 200 and other.json()["amount"] == 20_000_000


def test_the_key_is_scoped_to_the_path(capi: Api) -> None:
    # The same key and the same (empty) body on two different bills' cancel are two
    # different requests: the second must not get the first bill's answer.
    body = new_bill_body(capi)
    a = capi.ok("POST", "/v1/bills", json=body)
    b = capi.ok("POST", "/v1/bills", json=body)
    first = capi.post(f"/v1/bills/{a['id']}/cancel", {}, headers={"Idempotency-Key": "cancel-k"})
    assert first.status_code == 200 and first.json()["id"] == a["id"]
    second = capi.post(f"/v1/bills/{b['id']}/cancel", {}, headers={"Idempotency-Key": "cancel-k"})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_key_reused"
    assert capi.ok("GET", f"/v1/bills/{b['id']}")["status"] == "created"
    assert capi.ok("GET", f"/v1/bills/{a['id']}")["status"] == "cancelled"


def test_the_key_is_scoped_to_the_body(capi: Api) -> None:
    body = new_bill_body(capi)
    capi.ok("POST", "/v1/bills", json=body, headers={"Idempotency-Key": "body-k"})
    for changed in ({**body, "amount": 10_000_001}, {**body, "order_id": "x"}):
        r = capi.post("/v1/bills", changed, headers={"Idempotency-Key": "body-k"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_reused"
        assert r.json()["error"]["param"] == "Idempotency-Key"
        assert r.json()["error"]["message"] == (
            "This Idempotency-Key was used with a different request."
        )
    assert len(bill_ids(capi)) == 1


def test_the_key_is_scoped_to_the_merchant(capi: Api, csb: SandboxHandle) -> None:
    other = csb.create_merchant("Other Shop")
    body = new_bill_body(capi)
    mine = capi.ok("POST", "/v1/bills", json=body, headers={"Idempotency-Key": "shared-k"})
    with Api(csb.base_url, other.secret_key) as theirs:
        r = theirs.post("/v1/bills", body, headers={"Idempotency-Key": "shared-k"})
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers
        assert r.json()["id"] != mine["id"] and r.json()["merchant"] == other.merchant_id
        assert bill_ids(theirs) == [r.json()["id"]]
    assert bill_ids(capi) == [mine["id"]]


def legacy_claim(sb: SandboxHandle, key: str, raw: bytes, now: float) -> None:
    """A claim committed on its own before the request ran, as releases before
    claim-in-the-request's-transaction did (with the exact-bytes fingerprint)."""
    fp = idempotency.fingerprint("POST", "/v1/bills", raw)
    with sb.backend.db.transaction() as tx:
        assert store.claim(tx, sb.merchant_id, key, fp.exact, "old-release", now)


def test_an_older_releases_running_claim_is_in_use_until_it_is_stale(
    capi: Api, csb: SandboxHandle, clock: WallClock
) -> None:
    body = new_bill_body(capi)
    raw = json.dumps(body).encode()
    # An older release's request that claimed the key and whose process then died.
    legacy_claim(csb, "dead-k", raw, clock())
    headers = {"Idempotency-Key": "dead-k", "Content-Type": "application/json"}
    clock.advance(idempotency.STALE_AFTER)
    r = capi.http.post("/v1/bills", content=raw, headers=headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_in_use"
    assert r.json()["error"]["message"] == (
        "A request with this Idempotency-Key is still in progress; retry shortly."
    )
    assert r.json()["error"]["type"] == "idempotency_error"
    assert bill_ids(capi) == []
    clock.advance(1)
    r = capi.http.post("/v1/bills", content=raw, headers=headers)
    assert r.status_code == 200
    assert bill_ids(capi) == [r.json()["id"]]


def test_concurrent_takeovers_of_a_stale_claim_run_the_request_once(
    capi: Api, csb: SandboxHandle, clock: WallClock
) -> None:
    body = new_bill_body(capi)
    raw = json.dumps(body).encode()
    legacy_claim(csb, "stale-race", raw, clock())
    clock.advance(idempotency.STALE_AFTER + 1)
    calls_before = create_bill_calls(csb)
    results = post_at_once(csb.base_url, csb.secret_key, 6, "/v1/bills", raw, "stale-race")
    assert {r.status_code for r in results} <= {200, 409}
    created = {r.json()["id"] for r in results if r.status_code == 200}
    assert len(created) == 1, [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "idempotency_key_in_use"
    assert bill_ids(capi) == list(created)
    # Only the request that took the claim over did the work: the relay called the
    # contract once (on a real chain a second call could not be rolled back).
    assert create_bill_calls(csb) - calls_before == 1


def create_bill_calls(sb: SandboxHandle) -> float:
    text = httpx.get(sb.base_url + "/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("lumenlater_chain_calls_total{") and 'function="create_bill"' in line
    )


def test_the_fingerprint_format_is_stable() -> None:
    # Fingerprints are stored with each key for 24 hours: a new release must compute the
    # same value, or a retry that spans an upgrade would be refused as a reused key.
    import hashlib

    fp = idempotency.fingerprint("POST", "/v1/bills", b'{ "b": [1, 2],\n "amount":1}')
    assert fp.canonical == (hashlib.sha256(b'POST /v1/bills\n{"amount":1,"b":[1,2]}').hexdigest())
    # What releases before canonical fingerprints stored, still accepted.
    assert fp.exact == (hashlib.sha256(b'POST /v1/bills\n{ "b": [1, 2],\n "amount":1}').hexdigest())


def test_a_retry_spanning_the_upgrade_to_canonical_fingerprints_replays(
    capi: Api, csb: SandboxHandle
) -> None:
    # A key answered by an older release stored the fingerprint of the exact bytes.
    body = new_bill_body(capi)
    raw = json.dumps(body, indent=2).encode()
    headers = {"Idempotency-Key": "upgrade-k", "Content-Type": "application/json"}
    first = capi.http.post("/v1/bills", content=raw, headers=headers)
    assert first.status_code == 200
    fp = idempotency.fingerprint("POST", "/v1/bills", raw)
    assert fp.canonical != fp.exact
    with csb.backend.db.transaction() as tx:
        tx.execute(
            "UPDATE idempotency_keys SET fingerprint = ? WHERE idem_key = 'upgrade-k'",
            (fp.exact,),
        )
    again = capi.http.post("/v1/bills", content=raw, headers=headers)
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
