"""Input that cannot hurt (issue 14 part 4), rule by rule, on SQLite and PostgreSQL:
characters a database cannot store, JSON shape (nesting, duplicate keys, constants),
the media type, amount sums, parsed URLs, hostile paths and queries. Each refusal is
a 4xx JSON envelope naming the ``param`` where there is one, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.testing import SandboxHandle

ADDR = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7"
JSON = {"Content-Type": "application/json"}
URLS = {"success_url": "https://shop.test/ok", "cancel_url": "https://shop.test/no"}
MAX = 2**62


def _raw(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate goes out as the escape \ud800, as a hostile client
    # would send it (it has no UTF-8 form of its own).
    return json.dumps(value, ensure_ascii=True).encode()


def _error(r: httpx.Response, status: int, code: str, param: str | None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    err: dict[str, Any] = r.json()["error"]
    assert (err["type"], err["code"], err["param"]) == ("invalid_request_error", code, param)
    assert err["message"] and err["request_id"] == r.headers["request-id"]
    return err


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udfff", "\x1b", "\x07"])
@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/bills", {"customer": ADDR, "amount": 5, "description": "a{}b"}, "description"),
        ("/v1/bills", {"customer": ADDR, "amount": 5, "order_id": "{}"}, "order_id"),
        ("/v1/bills", {"customer": ADDR, "amount": 5, "metadata": {"k": "{}"}}, "metadata[k]"),
        (
            "/v1/checkout/sessions",
            {**URLS, "line_items": [{"name": "T{}", "quantity": 1, "unit_amount": 5}]},
            "line_items[0][name]",
        ),
        (
            "/v1/webhook_endpoints",
            {"url": "https://h.test/x", "enabled_events": ["*"], "description": "{}"},
            "description",
        ),
        (
            "/v1/webhook_endpoints",
            {"url": "https://h.test/x", "enabled_events": ["bill.{}"]},
            "enabled_events[0]",
        ),
        ("/v1/test_helpers/wallets", {"name": "w{}"}, "name"),
        ("/v1/test_helpers/events/trigger", {"type": "bill.{}"}, "type"),
    ],
)
def test_text_fields_refuse_what_a_database_cannot_store(
    api: Api, path: str, body: dict[str, Any], param: str, bad: str
) -> None:
    listing = "/v1/events" if path.endswith("/trigger") else path
    before = api.ok("GET", listing)["data"]
    raw = _raw(body).replace(b"{}", _raw(bad)[1:-1])
    _error(api.http.post(path, content=raw, headers=JSON), 400, "parameter_invalid", param)
    assert api.ok("GET", listing)["data"] == before


def test_keys_with_bad_characters_are_refused(api: Api) -> None:
    body = {"customer": ADDR, "amount": 5, "metadata": {"k\x00": "v"}}
    err = _error(
        api.http.post("/v1/bills", content=_raw(body), headers=JSON),
        400,
        "parameter_invalid",
        "metadata",
    )
    assert "\x00" not in err["message"]
    _error(
        api.http.post("/v1/bills", content=b'{"\\ud800": 1}', headers=JSON),
        400,
        "parameter_invalid",
        None,
    )
    assert api.ok("GET", "/v1/bills")["data"] == []


def test_tabs_and_newlines_stay_allowed_in_text(api: Api) -> None:
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    body = {"customer": customer, "amount": 5, "description": "two\nlines\tand\r\u00e9\u2603"}
    bill = api.ok("POST", "/v1/bills", json=body)
    assert bill["description"] == body["description"]


def test_nesting_is_bounded(api: Api) -> None:
    ok = {"customer": ADDR, "amount": 5, "metadata": {"k": "v"}}
    deep: Any = "x"
    for _ in range(8):
        deep = [deep]
    r = api.http.post("/v1/bills", content=_raw({**ok, "metadata": {"k": deep}}), headers=JSON)
    err = _error(r, 400, "invalid_json", None)
    assert "deep" in err["message"]
    # Far past the interpreter's own recursion limit: still a 400, never a crash.
    for n in (5_000, 400_000):
        raw = b'{"metadata":' + b"[" * n + b"]" * n + b"}"
        _error(api.http.post("/v1/bills", content=raw, headers=JSON), 400, "invalid_json", None)


def test_duplicate_keys_and_non_json_constants_are_refused(api: Api) -> None:
    raw = f'{{"customer": "{ADDR}", "amount": 5, "amount": 7}}'.encode()
    _error(api.http.post("/v1/bills", content=raw, headers=JSON), 400, "invalid_json", "amount")
    raw = f'{{"customer": "{ADDR}", "amount": 5, "metadata": {{"a": "1", "a": "2"}}}}'.encode()
    _error(api.http.post("/v1/bills", content=raw, headers=JSON), 400, "invalid_json", "a")
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        raw = b'{"customer": "' + ADDR.encode() + b'", "amount": ' + constant + b"}"
        _error(api.http.post("/v1/bills", content=raw, headers=JSON), 400, "invalid_json", None)
    for raw in (b"\xff\xfe{}", b'{"description": "\xed\xa0\x80"}', "{}".encode("utf-16")):
        _error(api.http.post("/v1/bills", content=raw, headers=JSON), 400, "invalid_json", None)
    assert api.ok("GET", "/v1/bills")["data"] == []


@pytest.mark.parametrize(
    "amount",
    [b"4611686018427387905", b"1" + b"0" * 5000, b"1e400", b"-0", b"4.611686018427388e18"],
)
def test_huge_and_float_amounts_are_refused(api: Api, amount: bytes) -> None:
    raw = b'{"customer": "' + ADDR.encode() + b'", "amount": ' + amount + b"}"
    r = api.http.post("/v1/bills", content=raw, headers=JSON)
    if amount.startswith(b"1" + b"0" * 10):
        _error(r, 400, "invalid_json", None)  # past Python's integer-digits limit
    else:
        _error(r, 400, "parameter_invalid", "amount")


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ],
)
def test_json_bodies_must_say_they_are_json(api: Api, content_type: str | None) -> None:
    raw = _raw({"customer": ADDR, "amount": 5})
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = api.http.post("/v1/bills", content=raw, headers=headers)
    assert "content-type" in r.request.headers or content_type is None
    _error(r, 415, "unsupported_media_type", "Content-Type")
    assert api.ok("GET", "/v1/bills")["data"] == []


def test_json_media_type_variants_and_empty_bodies_are_taken(api: Api) -> None:
    customer = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
    raw = _raw({"customer": customer, "amount": 5})
    for ct in ("application/json; charset=UTF-8", "Application/JSON"):
        assert api.http.post("/v1/bills", content=raw, headers={"Content-Type": ct}).is_success
    bill = api.ok("GET", "/v1/bills")["data"][0]
    # No body at all needs no media type (an action without parameters).
    assert api.http.post(f"/v1/bills/{bill['id']}/cancel").status_code == 200


def test_line_item_products_and_totals_are_capped_like_one_amount(api: Api) -> None:
    def items(*lines: tuple[int, int]) -> dict[str, Any]:
        return {
            **URLS,
            "line_items": [{"name": "x", "quantity": q, "unit_amount": a} for q, a in lines],
        }

    r = api.post("/v1/checkout/sessions", items((1, 5), (10_000, MAX)))
    err = _error(r, 400, "parameter_invalid", "line_items[1]")
    assert str(MAX) in err["message"]
    r = api.post("/v1/checkout/sessions", items(*[(1, MAX // 2)] * 3))
    _error(r, 400, "parameter_invalid", "line_items")
    r = api.post("/v1/checkout/sessions", items(*[(10_000, MAX)] * 100))
    _error(r, 400, "parameter_invalid", "line_items[0]")
    assert api.ok("GET", "/v1/checkout/sessions")["data"] == []
    # Exactly the cap is an amount like any other.
    s = api.ok("POST", "/v1/checkout/sessions", json=items((2, MAX // 2)))
    assert s["amount"] == MAX


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.test/a\x00b",
        "https://shop.test/a b",
        "https://shop.test/\tx",
        " https://shop.test/",
        "https://shop.test/\x7f",
        "https://shop.test/\u0085",
        "https://shop.test\\@evil.test/",
        "https://user:pw@shop.test/",
        "https://shop.test@evil.test/",
        "https://shop.test:99999/",
        "https://shop.test:/",
        "https:/shop.test/",
        "https:shop.test",
        "javascript://shop.test/%0aalert(1)",
        "https://[::1/",
        "https://exa%41mple.test/",
        "https://\ud800.test/",
    ],
)
def test_urls_are_parsed_not_prefix_checked(api: Api, url: str) -> None:
    endpoints = api.ok("GET", "/v1/webhook_endpoints")["data"]
    r = api.http.post(
        "/v1/checkout/sessions",
        content=_raw({**URLS, "amount": 5, "cancel_url": url}),
        headers=JSON,
    )
    _error(r, 400, "parameter_invalid", "cancel_url")
    r = api.http.post(
        "/v1/webhook_endpoints", content=_raw({"url": url, "enabled_events": ["*"]}), headers=JSON
    )
    _error(r, 400, "parameter_invalid", "url")
    r = api.http.post("/v1/account", content=_raw({"embed_origins": [url]}), headers=JSON)
    _error(r, 400, "parameter_invalid", "embed_origins[0]")
    assert api.ok("GET", "/v1/checkout/sessions")["data"] == []
    assert api.ok("GET", "/v1/webhook_endpoints")["data"] == endpoints


def test_parsed_urls_keep_what_is_valid(api: Api) -> None:
    s = api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": 5,
            "success_url": "HTTPS://Shop.test/ok?s={SESSION_ID}#top",
            "cancel_url": "http://[::1]:8080/cart",
        },
    )
    assert s["success_url"] == "https://Shop.test/ok?s={SESSION_ID}#top"
    assert s["cancel_url"] == "http://[::1]:8080/cart"


@pytest.mark.parametrize("bad", ["%00", "%1b", "%ED%A0%80", "%FF"])
def test_hostile_queries_and_path_ids_get_a_json_400(api: Api, sb: SandboxHandle, bad: str) -> None:
    not_utf8 = bad in ("%ED%A0%80", "%FF")
    for path, param in [
        (f"/v1/bills?order_id=o{bad}", "order_id"),
        (f"/v1/bills?customer={bad}", "customer"),
        (f"/v1/events?type=bill.{bad}", "type"),
        (f"/v1/checkout/sessions?starting_after=cs_{bad}", "starting_after"),
        (f"/v1/bills/bill_{bad}", "id"),
        (f"/v1/events/evt_{bad}", "id"),
        (f"/v1/webhook_endpoints/we_{bad}/deliveries", "id"),
        (f"/v1/test_helpers/wallets/{bad}", "id"),
    ]:
        r = api.get(path)
        if not_utf8 and "?" not in path:
            # The server decodes such a path with U+FFFD in place of the bad bytes: an id
            # that exists nowhere.
            _error(r, 404, "resource_missing", "id")
        else:
            _error(r, 400, "parameter_invalid", None if not_utf8 else param)
    if not not_utf8:
        r = api.http.post(f"/v1/bills/bill_{bad}/cancel")
        _error(r, 400, "parameter_invalid", "id")
    # The hosted pages, without a key.
    with httpx.Client(base_url=sb.base_url) as browser:
        if not not_utf8:
            _error(browser.get(f"/pay/cs_{bad}"), 400, "parameter_invalid", "id")
            _error(browser.get(f"/pay/cs_{bad}/state"), 400, "parameter_invalid", "id")
        r = browser.get(f"/pay/cs_x?embed=1&origin=https://a{bad}")
        _error(r, 400, "parameter_invalid", None if not_utf8 else "origin")


def test_hosted_page_forms_and_calls_refuse_bad_characters(api: Api, sb: SandboxHandle) -> None:
    s = api.ok("POST", "/v1/checkout/sessions", json={**URLS, "amount": 5_000_000})
    with httpx.Client(base_url=sb.base_url) as browser:
        page = f"/pay/{s['id']}"
        for form, param in [
            ({"wallet": "appr\x00ove", "token": "t"}, "wallet"),
            ({"wallet": "approve", "token": "\x1b"}, "token"),
        ]:
            _error(browser.post(page, data=form), 400, "parameter_invalid", param)
            _error(browser.post(page + "/connect", data=form), 400, "parameter_invalid", param)
        r = browser.post(
            page,
            content=b"wallet=%ED%A0%80",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        _error(r, 400, "parameter_invalid", None)
        for call in ("/prepare", "/submit"):
            raw = _raw({"token": "t", "address": "G\x00", "signed_xdr": "\ud800"})
            r = browser.post(page + call, content=raw, headers=JSON)
            assert r.json()["error"]["param"] in ("address", "signed_xdr")
            _error(r, 400, "parameter_invalid", r.json()["error"]["param"])
            r = browser.post(page + call, content=b'{"token": 1, "token": 2}', headers=JSON)
            _error(r, 400, "invalid_json", "token")
            r = browser.post(page + call, content=b"{}", headers={"Content-Type": "text/plain"})
            _error(r, 415, "unsupported_media_type", "Content-Type")
            # JSON with no media type at all is not taken for a form (whose check it passes).
            r = browser.post(page + call, content=b'{"address": "\\u0000"}')
            _error(r, 415, "unsupported_media_type", "Content-Type")
        assert api.ok("GET", f"/v1/checkout/sessions/{s['id']}")["status"] == "open"


def test_the_openapi_document_lists_the_input_refusals(api: Api) -> None:
    doc = api.ok("GET", "/v1/openapi.json")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if "requestBody" in op:
                assert {"400", "413", "415"} <= set(op["responses"]), (method, path)


def test_idempotency_keys_are_printable_ascii_exactly() -> None:
    from lumenlater_sdk.backend.http._errors import ApiError
    from lumenlater_sdk.backend.http._input import idempotency_key

    for code in range(0x250):
        key = "k" + chr(code)
        if 32 <= code <= 126:
            assert idempotency_key({"idempotency-key": key}) == key
        else:
            with pytest.raises(ApiError) as refused:
                idempotency_key({"idempotency-key": key})
            assert refused.value.param == "Idempotency-Key"
    assert idempotency_key({"idempotency-key": " " * 255}) == " " * 255
    assert idempotency_key({}) is None
    for bad in ("", "x" * 256, "\ud800"):
        with pytest.raises(ApiError):
            idempotency_key({"idempotency-key": bad})
