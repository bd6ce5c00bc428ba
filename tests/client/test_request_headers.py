"""What every request carries on the wire, seen at the transport (both clients)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from client_support import CUSTOMER, Api, Server

from lumenlater_sdk import __version__
from lumenlater_sdk._version import API_VERSION


async def test_every_request_carries_the_client_headers(api: Api, server: Server) -> None:
    await api(lambda c: c.bills.retrieve("bill_1"))
    headers = server.last.headers
    assert headers["authorization"].startswith("Bearer sk_test_")
    assert headers["lumenlater-version"] == API_VERSION
    assert headers["user-agent"].startswith(f"lumenlater-python/{__version__}")
    assert headers["accept"] == "application/json"
    assert "content-type" not in headers and "idempotency-key" not in headers


async def test_a_post_is_json_with_a_fresh_uuid4_idempotency_key(api: Api, server: Server) -> None:
    await api(lambda c: c.bills.create(customer=CUSTOMER, amount=10_000_000))
    await api(lambda c: c.bills.create(customer=CUSTOMER, amount=10_000_000))
    first, second = server.requests[-2:]
    assert first.headers["content-type"] == "application/json"
    keys = [uuid.UUID(r.headers["idempotency-key"]) for r in (first, second)]
    assert [k.version for k in keys] == [4, 4]
    assert all(k.variant == uuid.RFC_4122 for k in keys)
    assert keys[0] != keys[1]


async def test_default_headers_ride_on_every_request(make_api: Any, server: Server) -> None:
    api = make_api(default_headers={"X-Trace": "t-1"})
    await api(lambda c: c.bills.retrieve("bill_1"))
    assert server.last.headers["x-trace"] == "t-1"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.test/", "https://api.test/v1/bills/bill_1"),
        ("https://api.test//", "https://api.test/v1/bills/bill_1"),
        # Only slashes go: a path ending in any other character is kept whole.
        ("https://api.test/gateway-X/", "https://api.test/gateway-X/v1/bills/bill_1"),
        ("https://api.test/XX", "https://api.test/XX/v1/bills/bill_1"),
    ],
)
async def test_a_trailing_slash_on_the_base_url_is_dropped(
    make_api: Any, server: Server, base_url: str, expected: str
) -> None:
    api = make_api(base_url=base_url)
    await api(lambda c: c.bills.retrieve("bill_1"))
    assert str(server.last.url) == expected


def test_a_client_without_an_api_key_says_where_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lumenlater_sdk import AsyncLumenLater, LumenLater, LumenLaterError

    monkeypatch.delenv("LUMENLATER_API_KEY", raising=False)
    for cls in (LumenLater, AsyncLumenLater):
        for api_key in (None, ""):
            with pytest.raises(LumenLaterError) as info:
                cls(api_key=api_key)
            assert str(info.value) == (
                "No API key: pass api_key='sk_test_...' or set the LUMENLATER_API_KEY "
                "environment variable (`lumenlater sandbox` prints a test key)."
            )


@pytest.mark.parametrize("timeout", [0, -1.5, True, "5", None, float("nan")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout: object) -> None:
    from lumenlater_sdk import AsyncLumenLater, LumenLater

    for cls in (LumenLater, AsyncLumenLater):
        with pytest.raises(ValueError) as info:
            cls(api_key="sk_test_x", timeout=timeout)  # type: ignore[arg-type]
        assert str(info.value) == f"timeout must be a positive number of seconds, not {timeout!r}"


@pytest.mark.parametrize("max_retries", [-1, 1.0, True, "2", None])
def test_max_retries_that_is_not_a_count_is_refused(max_retries: object) -> None:
    from lumenlater_sdk import AsyncLumenLater, LumenLater

    for cls in (LumenLater, AsyncLumenLater):
        with pytest.raises(ValueError) as info:
            cls(api_key="sk_test_x", max_retries=max_retries)  # type: ignore[arg-type]
        assert str(info.value) == f"max_retries must be an int >= 0, not {max_retries!r}"
