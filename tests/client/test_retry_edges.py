"""Odd answers a real server or proxy sends, and how both clients take them.

Where the wait matters the clients run with their real sleep (no injected one), so a
wait the runtime refuses (negative, NaN) would surface as the crash it causes.
"""

from __future__ import annotations

import math
import random
import string
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from client_support import API_KEY, CUSTOMER, Api, Server, error_json

from lumenlater_sdk import (
    APIConnectionError,
    APIError,
    AsyncLumenLater,
    ChainError,
    IdempotencyError,
    InternalServerError,
    LumenLater,
    RateLimitError,
)
from lumenlater_sdk._retry import (
    MAX_DELAY,
    MAX_RETRY_AFTER,
    backoff_delay,
    is_retryable,
    parse_retry_after,
    retry_delay,
)

PAST_DATE = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)

ODD_RETRY_AFTER = ["-5", "0", "-0.5", PAST_DATE, "nan", "NaN", "-inf", "", "   ", "soon", "1e-9"]


def create(c: Any) -> Any:
    return c.bills.create(customer=CUSTOMER, amount=10_000_000, order_id="o-1")


def real_sleep_client(kind: str, server: Server, **kw: Any) -> tuple[Any, Any]:
    transport = httpx.MockTransport(server)
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": "https://api.test", **kw}
    if kind == "sync":
        http: Any = httpx.Client(transport=transport)
        return LumenLater(http_client=http, **options), http
    http = httpx.AsyncClient(transport=transport)
    return AsyncLumenLater(http_client=http, **options), http


async def call(client: Any, fn: Any) -> Any:
    result = fn(client)
    if hasattr(result, "__await__"):
        result = await result
    return result


async def retried_once_with_the_real_sleep(kind: str, status: int, retry_after: str) -> None:
    server = Server()
    server.queue(httpx.Response(status, headers={"Retry-After": retry_after}))
    client, http = real_sleep_client(kind, server)
    try:
        bill = await call(client, create)
    finally:
        await _close(http)
    assert bill.id == "bill_1" and len(server.requests) == 2


@pytest.mark.parametrize("value", ["-5", "0", "-0.5", PAST_DATE, "-inf", "1e-9"])
async def test_a_retry_after_in_the_past_retries_at_once(kind: str, value: str) -> None:
    await retried_once_with_the_real_sleep(kind, 503, value)


@pytest.mark.parametrize("value", ["nan", "NaN", "", "   ", "soon", "Wed, 99 Foo 2026"])
async def test_an_unusable_retry_after_falls_back_to_backoff(kind: str, value: str) -> None:
    await retried_once_with_the_real_sleep(kind, 429, value)


@pytest.mark.parametrize("value", ODD_RETRY_AFTER)
async def test_the_wait_for_odd_retry_after_values(api: Api, server: Server, value: str) -> None:
    server.queue(httpx.Response(503, headers={"Retry-After": value}))
    await api(create)
    (slept,) = api.sleeps
    expected = parse_retry_after(value)
    if expected is None:
        assert 0.375 <= slept <= 0.5  # the first backoff step
    else:
        assert slept == expected and 0.0 <= slept < 1e-6
    assert not math.isnan(slept)


@pytest.mark.parametrize("value", ["inf", "1e309", "61", "86400"])
async def test_a_huge_retry_after_is_capped(api: Api, server: Server, value: str) -> None:
    server.queue(httpx.Response(429, headers={"Retry-After": value}))
    await api(create)
    assert api.sleeps == [MAX_RETRY_AFTER]


async def test_retry_after_of_exactly_the_cap_is_kept(api: Api, server: Server) -> None:
    server.queue(httpx.Response(429, headers={"Retry-After": "60"}))
    server.queue(httpx.Response(429, headers={"Retry-After": "59.5"}))
    await api(create)
    assert api.sleeps == [60.0, 59.5]


@pytest.mark.parametrize(
    ("value", "retry_after"),
    [("nan", None), ("-3", 0.0), (PAST_DATE, 0.0), ("2.5", 2.5), ("junk", None), (None, None)],
)
async def test_rate_limit_error_reports_a_usable_retry_after(
    make_api: Any, server: Server, value: str | None, retry_after: float | None
) -> None:
    api = make_api(max_retries=0)
    headers = {} if value is None else {"Retry-After": value}
    server.queue(
        httpx.Response(429, json=error_json("rate_limit_error", "rate_limited"), headers=headers)
    )
    with pytest.raises(RateLimitError) as info:
        await api(create)
    assert info.value.retry_after == retry_after
    assert info.value.message == "nope"
    assert info.value.code == "rate_limited"


async def test_a_body_that_is_not_utf8_is_kept_readable(api: Api, server: Server) -> None:
    server.default = lambda req: httpx.Response(502, content=b"\xff\xfe Bad \xc3 Gateway")
    with pytest.raises(InternalServerError) as info:
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert info.value.body == "\ufffd\ufffd Bad \ufffd Gateway"
    assert info.value.message == "HTTP 502: \ufffd\ufffd Bad \ufffd Gateway"


async def test_a_long_html_error_is_cut_to_200_characters(api: Api, server: Server) -> None:
    page = "  <html>" + "x" * 500 + "</html>  "
    server.default = lambda req: httpx.Response(500, text=page)
    with pytest.raises(InternalServerError) as info:
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert info.value.message == "HTTP 500: " + page.strip()[:200]
    assert info.value.body == page


async def test_a_whitespace_only_body_gives_the_bare_status(api: Api, server: Server) -> None:
    server.default = lambda req: httpx.Response(503, text="  \n ")
    with pytest.raises(InternalServerError) as info:
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert info.value.message == "HTTP 503"


@pytest.mark.parametrize(
    "body",
    [
        {"error": "just a string"},
        {"error": {"type": 5, "code": ["x"], "message": None, "param": {}}},
        ["not", "an", "object"],
        {"message": "no error key"},
    ],
)
async def test_error_bodies_of_the_wrong_shape_map_by_status(
    make_api: Any, server: Server, body: Any
) -> None:
    api = make_api(max_retries=0)
    server.queue(httpx.Response(400, json=body, headers={"Request-Id": "req_shape"}))
    with pytest.raises(APIError) as info:
        await api(create)
    err = info.value
    assert type(err).__name__ == "BadRequestError"
    assert (err.type, err.code, err.param) == (None, None, None)
    assert err.message == "HTTP 400"
    assert err.request_id == "req_shape" and err.body == body


async def test_request_id_falls_back_to_the_body(make_api: Any, server: Server) -> None:
    api = make_api(max_retries=0)
    server.queue(httpx.Response(404, json=error_json("invalid_request_error", request_id="req_b")))
    with pytest.raises(APIError) as info:
        await api(create)
    assert info.value.request_id == "req_b"
    server.queue(
        httpx.Response(
            404,
            json=error_json("invalid_request_error", request_id="req_body"),
            headers={"Request-Id": "req_header"},
        )
    )
    with pytest.raises(APIError) as info:
        await api(create)
    assert info.value.request_id == "req_header"  # the header wins


@pytest.mark.parametrize(("status", "cls"), [(418, APIError), (501, InternalServerError)])
async def test_unlisted_statuses(make_api: Any, server: Server, status: int, cls: type) -> None:
    api = make_api(max_retries=2)
    server.default = lambda req: httpx.Response(status, json=error_json("api_error"))
    with pytest.raises(APIError) as info:
        await api(create)
    assert type(info.value) is cls and info.value.status_code == status
    assert len(server.requests) == 1  # neither is in DESIGN §5's retry list


async def test_a_chain_error_maps_to_chain_error_whatever_the_status(
    make_api: Any, server: Server
) -> None:
    api = make_api(max_retries=1)
    server.default = lambda req: httpx.Response(400, json=error_json("chain_error", "x"))
    with pytest.raises(ChainError):
        await api(create)
    assert len(server.requests) == 2  # chain_error is retried


async def test_409_idempotency_error_without_in_use_is_final(make_api: Any, server: Server) -> None:
    api = make_api(max_retries=2)
    server.default = lambda req: httpx.Response(
        409, json=error_json("idempotency_error", "idempotency_key_reused")
    )
    with pytest.raises(IdempotencyError):
        await api(create)
    assert len(server.requests) == 1
    server.requests.clear()
    server.default = lambda req: httpx.Response(409, json=error_json("invalid_request_error"))
    with pytest.raises(APIError) as info:
        await api(create)
    assert not isinstance(info.value, IdempotencyError) and len(server.requests) == 1


async def test_the_last_network_failure_names_the_attempts(make_api: Any, server: Server) -> None:
    api = make_api(max_retries=1)
    server.default = lambda req: (_ for _ in ()).throw(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        await api(create)
    assert "refused" in str(info.value)
    assert api.sleeps and 0.375 <= api.sleeps[0] <= 0.5


async def test_retry_counts_go_past_fifteen(make_api: Any, server: Server) -> None:
    api = make_api(max_retries=17)
    server.default = lambda req: httpx.Response(500)
    with pytest.raises(InternalServerError):
        await api(lambda c: c.bills.retrieve("bill_1"))
    counts = [r.headers["x-lumenlater-retry-count"] for r in server.requests]
    assert counts == [str(i) for i in range(18)]


# --- the I/O-free pieces, at their edges -------------------------------------------------


def test_backoff_steps_and_jitter_bounds() -> None:
    assert [backoff_delay(i, rand=lambda: 0.0) for i in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [backoff_delay(i, rand=lambda: 1.0) for i in range(5)] == [0.375, 0.75, 1.5, 3, 6]
    assert backoff_delay(10_000, rand=lambda: 0.0) == MAX_DELAY  # no overflow far out


def test_default_jitter_leaves_the_global_random_state_alone() -> None:
    # A caller that seeds ``random`` for reproducible runs keeps its sequence.
    before = random.getstate()
    delays = {backoff_delay(2) for _ in range(20)} | {retry_delay(2, None) for _ in range(20)}
    assert random.getstate() == before
    assert len(delays) > 1 and all(1.5 <= d <= 2 for d in delays)


def test_retry_delay_prefers_the_server_hint() -> None:
    assert retry_delay(3, {"retry-after": "2"}, rand=lambda: 0.0) == 2.0
    assert retry_delay(3, {"retry-after": "junk"}, rand=lambda: 0.0) == 4.0
    assert retry_delay(3, {}, rand=lambda: 0.0) == 4.0
    assert retry_delay(0, None, rand=lambda: 0.0) == 0.5


@pytest.mark.parametrize(
    ("status", "type_", "code", "retry"),
    [
        (408, None, None, True),
        (409, "idempotency_error", "idempotency_key_in_use", True),
        (409, "idempotency_error", "idempotency_key_reused", False),
        (409, None, None, False),
        (429, None, None, True),
        (500, None, None, True),
        (501, None, None, False),
        (502, None, None, True),
        (503, None, None, True),
        (504, None, None, True),
        (505, None, None, False),
        (400, "chain_error", "x", True),
        (400, "invalid_request_error", "idempotency_key_in_use", False),
        (404, None, None, False),
    ],
)
def test_is_retryable_follows_design_5(
    status: int, type_: str | None, code: str | None, retry: bool
) -> None:
    assert is_retryable(status, type_, code) is retry


def test_parse_retry_after_with_a_given_clock() -> None:
    date = "Wed, 02 Dec 2026 07:00:30 GMT"
    now = datetime(2026, 12, 2, 7, 0, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after(date, now=lambda: now) == 30.0
    assert parse_retry_after(date, now=lambda: now + 60) == 0.0
    assert parse_retry_after(" 12 ") == 12.0


# --- idempotency keys: the client refuses exactly what the server refuses --------------


PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]


@pytest.mark.parametrize(
    "key", ["a", "x" * 255, " leading", "with space", "!~", *string.punctuation]
)
async def test_keys_the_server_accepts_are_sent(api: Api, server: Server, key: str) -> None:
    await api(lambda c: c.bills.cancel("bill_1", idempotency_key=key))
    assert server.last.headers["idempotency-key"] == key


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "tab\there", "new\nline", "del\x7f", "nul\x00", "é", "ключ", "\u200b"]
)
async def test_keys_the_server_refuses_are_refused_before_sending(
    api: Api, server: Server, key: str
) -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        await api(lambda c: c.bills.cancel("bill_1", idempotency_key=key))
    assert server.requests == []


async def test_a_non_string_key_is_refused(api: Api, server: Server) -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        await api(lambda c: c.bills.cancel("bill_1", idempotency_key=12345))
    assert server.requests == []


def test_every_printable_ascii_character_is_allowed_alone() -> None:
    from lumenlater_sdk._options import check_idempotency_key

    for ch in PRINTABLE:
        assert check_idempotency_key(ch) == ch
    for code in [*range(0x00, 0x20), 0x7F, 0x80, 0xA0]:
        with pytest.raises(ValueError):
            check_idempotency_key(chr(code))


async def _close(http: Any) -> None:
    if isinstance(http, httpx.Client):
        http.close()
    else:
        await http.aclose()


async def test_with_options_sends_the_same_credentials_and_headers(
    api: Api, server: Server
) -> None:
    from lumenlater_sdk import API_VERSION

    quick = api.client.with_options(timeout=1.0, max_retries=0)
    await api(lambda c: quick.bills.retrieve("bill_1"))
    await api(lambda c: quick.bills.cancel("bill_1"))
    await api(lambda c: c.bills.retrieve("bill_1"))
    get, post, plain = server.requests
    for r in (get, post):
        assert r.headers["authorization"] == f"Bearer {API_KEY}"
        assert r.headers["lumenlater-version"] == API_VERSION
        assert r.headers["user-agent"] == plain.headers["user-agent"]
        assert r.headers["x-lumenlater-retry-count"] == "0"
    assert post.headers["content-type"] == "application/json"
    assert post.headers["idempotency-key"]
    assert "content-type" not in get.headers and "idempotency-key" not in get.headers


async def test_a_timeout_says_so(make_api: Any, server: Server) -> None:
    from lumenlater_sdk import APITimeoutError

    api = make_api(max_retries=0)
    server.default = lambda req: (_ for _ in ()).throw(httpx.ReadTimeout("read took 30 s"))
    with pytest.raises(APITimeoutError) as info:
        await api(create)
    assert str(info.value) == (
        "request to https://api.test timed out after 1 attempt (30 s each): "
        "ReadTimeout: read took 30 s"
    )
    server.default = lambda req: (_ for _ in ()).throw(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as conn:
        await api(create)
    assert str(conn.value) == (
        "could not connect to https://api.test after 1 attempt: ConnectError: refused"
    )


def test_idempotency_key_errors_say_what_is_allowed() -> None:
    from lumenlater_sdk._options import check_idempotency_key

    with pytest.raises(ValueError) as long:
        check_idempotency_key("x" * 256)
    assert str(long.value) == (
        "idempotency_key must be a string of 1-255 printable ASCII characters"
    )
    with pytest.raises(ValueError) as bad:
        check_idempotency_key("ключ")
    assert str(bad.value) == "idempotency_key must be printable ASCII"
