"""What the clients log under ``lumenlater``: requests and errors against a real sandbox over
loopback, retries through an ``httpx.MockTransport``, ``LUMENLATER_LOG`` in a child process,
and that no key, header or body reaches a log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_support import API_KEY, Api, Server, bill_json, error_json

from lumenlater_sdk import (
    APIConnectionError,
    AsyncLumenLater,
    InternalServerError,
    LumenLater,
    NotFoundError,
    usdc,
)
from lumenlater_sdk._logging import REDACTED, redact, root_logger
from lumenlater_sdk._ports import free_port

CLIENT = "lumenlater.client"


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == CLIENT]


async def run(client: Any, fn: Any) -> Any:
    result = fn(client)
    if hasattr(result, "__await__"):
        result = await result
    return result


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Builds the sync or the async client; closes what it built."""
    made: list[Any] = []

    def make(**kw: Any) -> Any:
        cls = LumenLater if request.param == "sync" else AsyncLumenLater
        made.append(cls(**kw))
        return made[-1]

    yield make
    for client in made:
        if isinstance(client, LumenLater):
            client.close()


async def test_each_request_and_error_is_logged_with_its_request_id(
    sandbox: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ll = make_client(api_key=sandbox.secret_key, base_url=sandbox.base_url)
    caplog.set_level(logging.INFO, logger="lumenlater")
    account = await run(ll, lambda c: c.account.retrieve())
    (ok,) = [r for r in caplog.records if r.name == CLIENT]
    assert ok.levelno == logging.INFO
    assert ok.getMessage().startswith("GET /v1/account 200 (request_id=req_")
    assert ok.fields["request_id"].startswith("req_")  # type: ignore[attr-defined]
    assert ok.fields["status"] == 200 and ok.fields["elapsed"] >= 0  # type: ignore[attr-defined]
    assert account.business_name

    caplog.clear()
    with pytest.raises(NotFoundError) as info:
        await run(ll, lambda c: c.bills.retrieve("bill_does_not_exist"))
    answer, failed = lines(caplog)
    assert answer.startswith("GET /v1/bills/bill_does_not_exist 404 resource_missing")
    assert f"request_id={info.value.request_id}" in answer
    assert failed.startswith("GET /v1/bills/bill_does_not_exist failed: NotFoundError: [404")
    assert sandbox.secret_key not in caplog.text


async def test_debug_shows_parameters_but_never_the_key_or_headers(
    sandbox: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ll = make_client(api_key=sandbox.secret_key, base_url=sandbox.base_url)
    customer = await run(ll, lambda c: c.test_helpers.wallets.retrieve("approve"))
    caplog.set_level(logging.INFO, logger="lumenlater")
    await run(
        ll,
        lambda c: c.bills.create(
            customer=customer.address, amount=usdc("3"), order_id="order-log-1"
        ),
    )
    assert "order-log-1" not in caplog.text  # INFO: no bodies
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="lumenlater")
    await run(
        ll,
        lambda c: c.bills.create(
            customer=customer.address,
            amount=usdc("3"),
            order_id="order-log-2",
            idempotency_key="log-test-key",
        ),
    )
    request = lines(caplog)[0]
    assert request.startswith("Request POST /v1/bills body=")
    assert "'order_id': 'order-log-2'" in request and "idempotency_key=log-test-key" in request
    assert sandbox.secret_key not in caplog.text
    assert "Bearer" not in caplog.text and "Authorization" not in caplog.text


def test_redaction_by_field_name_and_by_value() -> None:
    params = {
        "url": "https://shop.example/hooks",
        "secret": "anything",
        "api_key": "x",
        "nested": [{"webhook_secret": "y", "note": "whsec_abc"}],
        "key": "sk_test_123",
        "seed": "S" + "A" * 55,
        "amount": 5,
    }
    assert redact(params) == {
        "url": "https://shop.example/hooks",
        "secret": REDACTED,
        "api_key": REDACTED,
        "nested": [{"webhook_secret": REDACTED, "note": REDACTED}],
        "key": REDACTED,
        "seed": REDACTED,
        "amount": 5,
    }


async def test_connection_errors_name_the_server_and_the_attempts(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    waits: list[float] = []

    def record(seconds: float) -> None:
        waits.append(seconds)

    async def arecord(seconds: float) -> None:
        waits.append(seconds)

    probe = make_client(api_key=API_KEY, base_url=base_url)
    sleep = record if isinstance(probe, LumenLater) else arecord
    ll = make_client(api_key=API_KEY, base_url=base_url, max_retries=2, _sleep=sleep)
    caplog.set_level(logging.INFO, logger="lumenlater")
    with pytest.raises(APIConnectionError) as info:
        await run(ll, lambda c: c.account.retrieve())
    assert str(info.value).startswith(f"could not connect to {base_url} after 3 attempts: ")
    got = lines(caplog)
    assert [g.split(":")[0] for g in got[:5:2]] == ["GET /v1/account"] * 3
    assert f"no answer from {base_url}" in got[0] and got[0].endswith("attempt 1 of 3")
    assert (
        got[1]
        == f"Retrying GET /v1/account in {waits[0]:.2f} s (attempt 2 of 3): "
        + (got[1].split("): ", 1)[1])
    )
    assert "(attempt 3 of 3)" in got[3]
    assert got[-1].startswith("GET /v1/account failed: APIConnectionError: could not connect")
    assert len(got) == 6 and len(waits) == 2


@pytest.fixture
def api_503_then_ok(kind: str, server: Server) -> Iterator[Api]:
    server.queue(
        httpx.Response(503, json=error_json("chain_error", "chain_down"), headers={
            "Request-Id": "req_first", "Retry-After": "2"}),
        httpx.Response(429, json=error_json("rate_limit_error", "rate_limited"),
                       headers={"Request-Id": "req_second"}),
        httpx.Response(200, json=bill_json(), headers={"Request-Id": "req_third"}),
    )  # fmt: skip
    yield Api(kind, server, max_retries=2)


async def test_retries_are_logged_with_reason_attempt_and_wait(
    api_503_then_ok: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_503_then_ok
    caplog.set_level(logging.INFO, logger="lumenlater")
    await api(lambda c: c.bills.create(customer=bill_json()["customer"], amount=5))
    first_wait, second_wait = api.sleeps
    assert first_wait == 2.0  # the server's Retry-After
    got = lines(caplog)
    assert got[0].startswith("POST /v1/bills 503 chain_down (request_id=req_first, ")
    assert got[1] == "Retrying POST /v1/bills in 2.00 s (attempt 2 of 3): 503 chain_down"
    assert got[2].startswith("POST /v1/bills 429 rate_limited (request_id=req_second, ")
    assert got[2].endswith(", attempt 2 of 3)")
    assert got[3] == (
        f"Retrying POST /v1/bills in {second_wait:.2f} s (attempt 3 of 3): 429 rate_limited"
    )
    assert got[4].startswith("POST /v1/bills 200 (request_id=req_third, ")
    assert len(got) == 5
    retry = next(r for r in caplog.records if r.getMessage().startswith("Retrying"))
    assert retry.fields == {  # type: ignore[attr-defined]
        "method": "POST",
        "path": "/v1/bills",
        "wait": 2.0,
        "attempt": 2,
        "attempts": 3,
        "reason": "503 chain_down",
    }


async def test_nothing_is_logged_at_warning_by_the_client(
    make_api: Any, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """A library must not print by itself: every client line is INFO or DEBUG."""
    server.default = lambda req: httpx.Response(500, json=error_json("api_error", "boom"))
    api = make_api(max_retries=1)
    caplog.set_level(logging.DEBUG, logger="lumenlater")
    with pytest.raises(InternalServerError):
        await api(lambda c: c.bills.retrieve("bill_1"))
    assert caplog.records and all(r.levelno <= logging.INFO for r in caplog.records)


# --- LUMENLATER_LOG ------------------------------------------------------------------

SCRIPT = """
import os
from lumenlater_sdk import LumenLater, NotFoundError
ll = LumenLater()
LumenLater()  # a second client attaches no second handler
ll.account.retrieve()
try:
    ll.bills.retrieve("bill_missing")
except NotFoundError:
    pass
"""


def run_with_log(sandbox: Any, level: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMENLATER_")}
    env.update(LUMENLATER_API_KEY=sandbox.secret_key, LUMENLATER_BASE_URL=sandbox.base_url)
    if level is not None:
        env["LUMENLATER_LOG"] = level
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return done.stderr


def test_lumenlater_log_switches_on_a_stderr_handler(sandbox: Any) -> None:
    assert run_with_log(sandbox, None) == ""  # silent by default

    info = run_with_log(sandbox, "info").splitlines()
    assert len(info) == 3, info  # two answers and one error, each printed once
    assert "lumenlater.client - INFO] GET /v1/account 200 (request_id=req_" in info[0]
    assert "GET /v1/bills/bill_missing 404 resource_missing" in info[1]
    assert "failed: NotFoundError" in info[2]

    debug = run_with_log(sandbox, "DEBUG")
    assert "DEBUG] Request GET /v1/account" in debug
    assert sandbox.secret_key not in debug and "Bearer" not in debug


def test_an_unknown_lumenlater_log_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMENLATER_LOG", "verbose-please")
    before = list(root_logger.handlers), root_logger.level
    with pytest.warns(UserWarning, match="LUMENLATER_LOG='verbose-please' is ignored"):
        LumenLater(api_key=API_KEY).close()
    assert (list(root_logger.handlers), root_logger.level) == before


def test_lumenlater_log_in_process_adds_one_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lumenlater_sdk._logging import _StderrHandler

    before = list(root_logger.handlers), root_logger.level
    monkeypatch.setenv("LUMENLATER_LOG", "info")
    try:
        for _ in range(3):
            LumenLater(api_key=API_KEY).close()
        AsyncLumenLater(api_key=API_KEY)
        ours = [h for h in root_logger.handlers if isinstance(h, _StderrHandler)]
        assert len(ours) == 1 and root_logger.level == logging.INFO
        logging.getLogger("lumenlater.client").info("hello %s", json.dumps("there"))
        assert 'lumenlater.client - INFO] hello "there"' in capsys.readouterr().err
    finally:
        for h in root_logger.handlers[:]:
            if h not in before[0]:
                root_logger.removeHandler(h)
        root_logger.setLevel(before[1])
