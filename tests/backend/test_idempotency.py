"""Server-side idempotency (DESIGN §2) on SQLite and PostgreSQL, including races."""

from __future__ import annotations

import json
import time

import pytest
from backend_helpers import Api, new_bill_body, post_at_once

from lumenlater_sdk.backend.services import idempotency
from lumenlater_sdk.backend.store import idempotency as store
from lumenlater_sdk.backend.testing import SandboxHandle


def test_replay_and_reuse(api: Api) -> None:
    body = new_bill_body(api)
    first = api.post("/v1/bills", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = api.post("/v1/bills", body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = api.post(
        "/v1/bills", {**body, "amount": 20_000_000}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert other.json()["error"] == {
        **other.json()["error"],
        "type": "idempotency_error",
        "code": "idempotency_key_reused",
    }
    assert len(api.ok("GET", "/v1/bills")["data"]) == 1


def test_validation_errors_are_not_stored_but_refusals_are(api: Api) -> None:
    # Like Stripe: a request rejected before it started running keeps its key free.
    bad = api.post(
        "/v1/bills", {"customer": "nope", "amount": 1}, headers={"Idempotency-Key": "k-bad"}
    )
    assert bad.status_code == 400 and "idempotent-replayed" not in bad.headers
    fixed = api.post("/v1/bills", new_bill_body(api), headers={"Idempotency-Key": "k-bad"})
    assert fixed.status_code == 200
    # A contract refusal ran (and changed nothing): its answer is kept for the key.
    decline = api.ok("GET", "/v1/test_helpers/wallets/decline")["address"]
    bill = api.ok("POST", "/v1/bills", json={"customer": decline, "amount": 5_000_000})
    path = f"/v1/test_helpers/bills/{bill['id']}/pay"
    r1 = api.post(path, {"wallet": "decline"}, headers={"Idempotency-Key": "k-ref"})
    r2 = api.post(path, {"wallet": "decline"}, headers={"Idempotency-Key": "k-ref"})
    assert r1.status_code == r2.status_code == 400
    assert r2.headers["idempotent-replayed"] == "true" and r2.json() == r1.json()


def test_in_flight_key_is_409_in_use(api: Api, sb: SandboxHandle) -> None:
    body = new_bill_body(api)
    raw = json.dumps(body).encode()
    fp = idempotency.fingerprint("POST", "/v1/bills", raw)
    headers = {"Idempotency-Key": "k-busy", "Content-Type": "application/json"}
    box = sb.backend.ctx.box
    # A request that holds the key (its unit is open) while its twin arrives.
    with (
        pytest.raises(ValueError, match="abandoned"),
        idempotency.unit(sb.backend.db, sb.merchant_id, "k-busy", fp, time.time(), box=box),
    ):
        r = api.http.post("/v1/bills", content=raw, headers=headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_in_use"
        raise ValueError("abandoned")
    # It ended without an answer: the key is free at once.
    r = api.http.post("/v1/bills", content=raw, headers=headers)
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers


def test_concurrent_requests_with_one_key_create_one_bill(api: Api, sb: SandboxHandle) -> None:
    raw = json.dumps(new_bill_body(api)).encode()
    results = post_at_once(sb.base_url, sb.secret_key, 8, "/v1/bills", raw, "race")
    codes = sorted(r.status_code for r in results)
    assert set(codes) <= {200, 409}, codes
    ids = {r.json()["id"] for r in results if r.status_code == 200}
    assert len(ids) == 1
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "idempotency_key_in_use"
    time.sleep(0)
    assert len(api.ok("GET", "/v1/bills")["data"]) == 1


def test_invalid_key_is_400(api: Api) -> None:
    r = api.post("/v1/bills", new_bill_body(api), headers={"Idempotency-Key": "x" * 256})
    assert r.status_code == 400 and r.json()["error"]["param"] == "Idempotency-Key"


def test_a_claim_taken_over_as_stale_cannot_store_its_answer(api: Api, sb: SandboxHandle) -> None:
    # A claim an older release committed on its own, whose process looked dead once it
    # was STALE_AFTER old: the request that took the key over owns it, and the old
    # owner's answer is fenced out by its owner token.
    body = new_bill_body(api)
    raw = json.dumps(body).encode()
    fp = idempotency.fingerprint("POST", "/v1/bills", raw)
    db = sb.backend.db
    stale = time.time() - idempotency.STALE_AFTER - 1
    with db.transaction() as tx:
        assert store.claim(tx, sb.merchant_id, "k-stale", fp.exact, "old-owner", stale)
    r = api.http.post(
        "/v1/bills",
        content=raw,
        headers={"Idempotency-Key": "k-stale", "Content-Type": "application/json"},
    )
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    with db.transaction() as tx:
        assert not store.complete(tx, sb.merchant_id, "k-stale", "old-owner", 200, "{}")
    again = api.http.post(
        "/v1/bills",
        content=raw,
        headers={"Idempotency-Key": "k-stale", "Content-Type": "application/json"},
    )
    assert again.headers["idempotent-replayed"] == "true" and again.content == r.content
    assert [b["id"] for b in api.ok("GET", "/v1/bills")["data"]] == [r.json()["id"]]


def test_stored_answers_are_sealed(api: Api, sb: SandboxHandle) -> None:
    """An answer that carries a secret (a webhook endpoint's signing secret, a new
    merchant's API keys) is stored for replay, and must not sit in the clear."""
    made = api.http.post(
        "/v1/webhook_endpoints",
        json={"url": "https://shop.example/hooks", "enabled_events": ["*"]},
        headers={"Idempotency-Key": "k-secret-1"},
    )
    assert made.status_code == 200, made.text
    merchant = api.http.post(
        "/v1/test_helpers/merchants",
        json={"business_name": "Second Shop"},
        headers={"Idempotency-Key": "k-secret-2"},
    )
    assert merchant.status_code == 200, merchant.text
    secrets = [made.json()["secret"], merchant.json()["secret_key"]]
    with sb.backend.db.transaction(write=False) as tx:
        stored = [r["response"] for r in tx.fetchall("SELECT response FROM idempotency_keys")]
    assert len(stored) >= 2
    assert not any(s in text for s in secrets for text in stored)
    assert all(not text.startswith("{") for text in stored)
    # The replay is the answer itself, byte for byte.
    again = api.http.post(
        "/v1/webhook_endpoints",
        json={"url": "https://shop.example/hooks", "enabled_events": ["*"]},
        headers={"Idempotency-Key": "k-secret-1"},
    )
    assert again.content == made.content
