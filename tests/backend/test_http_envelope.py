"""Every refusal on the wire carries the error envelope with the request's id, whoever
decides it: the router (404, 405), the body reader (413), the gate (401, 429) or input
validation (400); and the rate-limit headers ride on errors as on successes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend_helpers import Api, new_bill_body

from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox


def _envelope(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    error: dict[str, object] = r.json()["error"]
    assert error["code"] == code
    assert str(error["request_id"]).startswith("req_")
    assert error["request_id"] == r.headers["request-id"]
    assert r.headers["lumenlater-version"]
    return error


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    path: Path = tmp_path_factory.mktemp("envelope") / "e.db"
    with run_sandbox(
        f"sqlite:///{path}", rate_limit=True, rate_limit_burst=1000, run_delivery=False
    ) as sb:
        yield sb


def test_unknown_path_is_404_route_not_found(limited: SandboxHandle) -> None:
    api = Api(limited.base_url, limited.secret_key)
    error = _envelope(api.get("/v1/nothing_here"), 404, "route_not_found")
    assert error["message"] == "Unrecognized request URL (GET /v1/nothing_here)."
    assert error["type"] == "invalid_request_error"


def test_trailing_slash_is_not_redirected(limited: SandboxHandle) -> None:
    api = Api(limited.base_url, limited.secret_key)
    _envelope(api.get("/v1/bills/"), 404, "route_not_found")


def test_wrong_method_is_405_with_allow(limited: SandboxHandle) -> None:
    api = Api(limited.base_url, limited.secret_key)
    r = api.request("DELETE", "/v1/bills")
    error = _envelope(r, 405, "method_not_allowed")
    assert error["message"] == "DELETE is not allowed here."
    assert sorted(m.strip() for m in r.headers["allow"].split(",")) == ["GET", "HEAD", "POST"]
    one = api.request("PUT", "/v1/events")
    _envelope(one, 405, "method_not_allowed")
    assert sorted(m.strip() for m in one.headers["allow"].split(",")) == ["GET", "HEAD"]


def test_head_answers_like_get_without_a_body(limited: SandboxHandle) -> None:
    api = Api(limited.base_url, limited.secret_key)
    r = api.request("HEAD", "/v1/account")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(api.get("/v1/account").content)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413(limited: SandboxHandle, chunked: bool) -> None:
    api = Api(limited.base_url, limited.secret_key)
    big = b'{"customer": "' + b"x" * (1 << 20) + b'"}'
    content: bytes | Iterator[bytes] = (
        iter([big[i : i + 65536] for i in range(0, len(big), 65536)]) if chunked else big
    )
    r = api.request("POST", "/v1/bills", content=content)
    error = _envelope(r, 413, "body_too_large")
    assert error["type"] == "invalid_request_error"
    assert r.headers["x-ratelimit-limit"] == "1000"


def test_gate_and_input_errors_carry_rate_limit_headers(limited: SandboxHandle) -> None:
    anonymous = httpx.get(limited.base_url + "/v1/account")
    _envelope(anonymous, 401, "api_key_missing")
    assert anonymous.headers["x-ratelimit-limit"] == "1000"
    api = Api(limited.base_url, limited.secret_key)
    invalid = api.request("POST", "/v1/bills", json={"amount": 1.5})
    error = _envelope(invalid, 400, "parameter_missing")
    assert error["param"] == "customer"
    assert invalid.headers["x-ratelimit-limit"] == "1000"
    assert int(invalid.headers["x-ratelimit-remaining"]) < 1000
    missing = api.get("/v1/bills/bill_nope")
    _envelope(missing, 404, "resource_missing")
    assert missing.headers["x-ratelimit-limit"] == "1000"


def test_bad_idempotency_key_is_400(limited: SandboxHandle) -> None:
    api = Api(limited.base_url, limited.secret_key)
    body = new_bill_body(api)
    for key in (b"x" * 256, "caf\u00e9".encode("latin-1"), b"tab\there"):
        r = api.post("/v1/bills", json=body, headers={"Idempotency-Key": key})
        error = _envelope(r, 400, "parameter_invalid")
        assert error["param"] == "Idempotency-Key"
    assert api.get("/v1/bills").json()["data"] == []
