"""HTTP helpers shared by the backend tests."""

from __future__ import annotations

import threading
from typing import Any

import httpx

SECRET_KEY = "5a19308a16fed01673acedd0882b8f4ae760be81735c0c08c0b96abf677182a0"
"""A ``BackendConfig.secret_key`` strong enough for ``SecretBox`` (fixed, so a test can
restart a backend on the same database)."""


class Api:
    """A tiny authenticated httpx wrapper."""

    def __init__(self, base_url: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
        )

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, json=json if json is not None else {}, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        r = self.http.request(method, path, **kw)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data


def new_bill_body(api: Api, amount: int = 10_000_000) -> dict[str, Any]:
    """A valid ``POST /v1/bills`` body for the sandbox's ``approve`` wallet."""
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    return {"customer": customer, "amount": amount}


def post_at_once(
    base_url: str, key: str, count: int, path: str, body: bytes, idempotency_key: str
) -> list[httpx.Response]:
    """*count* clients POST the same raw JSON *body* with one Idempotency-Key, released
    together by a barrier; their answers, in completion order."""
    results: list[httpx.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(count)
    headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}

    def fire() -> None:
        with httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            start.wait()
            r = c.post(path, content=body, headers=headers)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=fire) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
