"""Retries, backoff, idempotency keys, headers and error mapping — over both clients."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from client_support import CUSTOMER, Api, Server, error_json

from lumenlater_sdk import (
    API_VERSION,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChainError,
    ConflictError,
    IdempotencyError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from lumenlater_sdk.types import Bill

RETRYABLE = [408, 429, 500, 502, 503, 504]


def create(c):  # type: ignore[no-untyped-def]
    return c.bills.create(customer=CUSTOMER, amount=10_000_000, order_id="o-1")


async def test_get_sends_auth_version_and_user_agent(api: Api, server: Server) -> None:
    bill = await api(lambda c: c.bills.retrieve("bill_1"))
    assert isinstance(bill, Bill) and bill.id == "bill_1"
    req = server.last
    assert req.method == "GET"
    assert str(req.url) == "https://api.test/v1/bills/bill_1"
    assert req.headers["authorization"] == "Bearer sk_test_abc123"
    assert req.headers["lumenlater-version"] == API_VERSION
    assert req.headers["user-agent"].startswith("lumenlater-python/")
    assert req.headers["x-lumenlater-retry-count"] == "0"
    assert "idempotency-key" not in req.headers


async def test_post_sends_only_the_set_fields_with_a_uuid4_key(api: Api, server: Server) -> None:
    await api(create)
    req = server.last
    assert req.method == "POST" and req.url.path == "/v1/bills"
    assert server.body() == {"customer": CUSTOMER, "amount": 10_000_000, "order_id": "o-1"}
    assert req.headers["content-type"] == "application/json"
    assert uuid.UUID(req.headers["idempotency-key"]).version == 4


async def test_each_call_gets_its_own_key(api: Api, server: Server) -> None:
    await api(create)
    await api(create)
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(keys) == 2


async def test_explicit_idempotency_key_is_used(api: Api, server: Server) -> None:
    await api(lambda c: c.bills.cancel("bill_1", idempotency_key="order-42-cancel"))
    assert server.last.headers["idempotency-key"] == "order-42-cancel"
    assert server.last.url.path == "/v1/bills/bill_1/cancel"


async def test_invalid_idempotency_key_is_refused_before_sending(api: Api, server: Server) -> None:
    with pytest.raises(ValueError):
        await api(lambda c: c.bills.cancel("bill_1", idempotency_key="ключ"))
    assert server.requests == []


@pytest.mark.parametrize("status", RETRYABLE)
async def test_retryable_status_is_retried_with_the_same_key(
    api: Api, server: Server, status: int
) -> None:
    server.queue(httpx.Response(status, json=error_json("api_error")))
    bill = await api(create)
    assert bill.id == "bill_1"
    assert len(server.requests) == 2
    first, second = server.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content
    assert [r.headers["x-lumenlater-retry-count"] for r in server.requests] == ["0", "1"]
    assert len(api.sleeps) == 1


async def test_conflict_in_use_is_retried(api: Api, server: Server) -> None:
    server.queue(
        httpx.Response(409, json=error_json("idempotency_error", "idempotency_key_in_use"))
    )
    await api(create)
    assert len(server.requests) == 2


async def test_conflict_key_reused_is_not_retried(api: Api, server: Server) -> None:
    server.queue(
        httpx.Response(
            409,
            json=error_json("idempotency_error", "idempotency_key_reused"),
            headers={"Request-Id": "req_9"},
        )
    )
    with pytest.raises(IdempotencyError) as ei:
        await api(create)
    assert len(server.requests) == 1
    assert ei.value.code == "idempotency_key_reused" and ei.value.request_id == "req_9"


@pytest.mark.parametrize("status", [502, 503])
async def test_chain_error_is_retried_then_raised(api: Api, server: Server, status: int) -> None:
    body = error_json("chain_error", "relay_unreachable", request_id="req_body")
    server.default = lambda req: httpx.Response(status, json=body)
    with pytest.raises(ChainError) as ei:
        await api(create)
    assert len(server.requests) == 3  # max_retries=2
    assert ei.value.status_code == status
    assert ei.value.code == "relay_unreachable"
    assert ei.value.request_id == "req_body"
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1


@pytest.mark.parametrize(
    ("status", "type_", "exc"),
    [
        (400, "invalid_request_error", BadRequestError),
        (401, "authentication_error", AuthenticationError),
        (403, "permission_error", PermissionDeniedError),
        (404, "invalid_request_error", NotFoundError),
        (409, "invalid_request_error", ConflictError),
        (422, "invalid_request_error", APIError),
    ],
)
async def test_other_4xx_are_not_retried(
    api: Api, server: Server, status: int, type_: str, exc: type[APIError]
) -> None:
    server.queue(
        httpx.Response(
            status,
            json=error_json(type_, "parameter_invalid", param="amount"),
            headers={"Request-Id": "req_123"},
        )
    )
    with pytest.raises(exc) as ei:
        await api(create)
    assert type(ei.value) is exc
    assert len(server.requests) == 1 and api.sleeps == []
    err = ei.value
    assert (err.status_code, err.code, err.param, err.request_id) == (
        status, "parameter_invalid", "amount", "req_123",
    )  # fmt: skip
    assert err.body["error"]["type"] == type_
    assert "req_123" in str(err)


async def test_exhausted_retries_raise_the_mapped_error(api: Api, server: Server) -> None:
    server.default = lambda req: httpx.Response(500, json=error_json("api_error", "boom"))
    with pytest.raises(InternalServerError):
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert len(server.requests) == 3 and len(api.sleeps) == 2


async def test_rate_limit_error_carries_retry_after(make_api, server: Server) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_retries=0)
    server.queue(
        httpx.Response(429, json=error_json("rate_limit_error"), headers={"Retry-After": "7"})
    )
    with pytest.raises(RateLimitError) as ei:
        await api(create)
    assert ei.value.retry_after == 7.0


async def test_non_json_error_body(api: Api, server: Server) -> None:
    server.default = lambda req: httpx.Response(
        502, text="<html>Bad Gateway</html>", headers={"Request-Id": "req_html"}
    )
    with pytest.raises(InternalServerError) as ei:
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert ei.value.body == "<html>Bad Gateway</html>"
    assert ei.value.request_id == "req_html"
    assert "Bad Gateway" in ei.value.message


async def test_empty_error_body(make_api, server: Server) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_retries=0)
    server.queue(httpx.Response(404))
    with pytest.raises(NotFoundError) as ei:
        await api(lambda c: c.bills.retrieve("bill_x"))
    assert ei.value.body is None and ei.value.code is None


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.RemoteProtocolError("reset"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
    ],
)
async def test_network_failures_are_retried_then_raised(
    api: Api, server: Server, exc: Exception, expected: type[Exception]
) -> None:
    server.default = lambda req: (_ for _ in ()).throw(exc)
    with pytest.raises(expected) as ei:
        await api(create)
    assert type(ei.value) is expected
    assert len(server.requests) == 3
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1


async def test_network_failure_then_success(api: Api, server: Server) -> None:
    server.queue(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"))
    bill = await api(create)
    assert bill.id == "bill_1" and len(server.requests) == 3


async def test_retry_after_seconds_is_honoured(api: Api, server: Server) -> None:
    server.queue(httpx.Response(429, headers={"Retry-After": "3"}))
    await api(create)
    assert api.sleeps == [3.0]


async def test_retry_after_http_date_is_honoured(api: Api, server: Server) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    server.queue(httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    await api(create)
    (slept,) = api.sleeps
    assert 25.0 < slept <= 30.0


@pytest.mark.parametrize("value", ["3600", "later-date"])
async def test_retry_after_is_capped_at_60s(api: Api, server: Server, value: str) -> None:
    if value == "later-date":
        value = format_datetime(datetime.now(timezone.utc) + timedelta(hours=2), usegmt=True)
    server.queue(httpx.Response(429, headers={"Retry-After": value}))
    await api(create)
    assert api.sleeps == [60.0]


async def test_unparseable_retry_after_falls_back_to_backoff(api: Api, server: Server) -> None:
    server.queue(httpx.Response(503, headers={"Retry-After": "soon"}))
    await api(create)
    (slept,) = api.sleeps
    assert 0.375 <= slept <= 0.5


async def test_backoff_doubles_and_is_capped_at_8s(make_api, server: Server) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_retries=8)
    server.default = lambda req: httpx.Response(500)
    with pytest.raises(InternalServerError):
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert len(api.sleeps) == 8
    bases = [0.5, 1, 2, 4, 8, 8, 8, 8]
    for slept, base in zip(api.sleeps, bases, strict=True):
        assert base * 0.75 <= slept <= base


async def test_max_retries_zero_sends_once(make_api, server: Server) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_retries=0)
    server.queue(httpx.Response(503))
    with pytest.raises(InternalServerError):
        await api(create)
    assert len(server.requests) == 1 and api.sleeps == []


async def test_with_options_changes_retries_and_shares_the_pool(api: Api, server: Server) -> None:
    quick = api.client.with_options(max_retries=0, timeout=5.0)
    assert (quick.max_retries, quick.timeout) == (0, 5.0)
    assert (api.client.max_retries, api.client.timeout) == (2, 30.0)
    assert quick._core.http is api.client._core.http
    server.queue(httpx.Response(503))
    with pytest.raises(InternalServerError):
        await api(lambda c: quick.bills.retrieve("bill_1"))
    assert len(server.requests) == 1


async def test_timeout_is_sent_per_request(api: Api, server: Server) -> None:
    quick = api.client.with_options(timeout=2.5)
    await api(lambda c: quick.bills.retrieve("bill_1"))
    await api(lambda c: c.bills.retrieve("bill_1"))
    timeouts = [r.extensions["timeout"]["read"] for r in server.requests]
    assert timeouts == [2.5, 30.0]
