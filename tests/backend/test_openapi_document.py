"""The OpenAPI document states the server's input rules and links (issue 14 part 8);
``test_openapi_fuzz`` then holds the server to it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from backend_helpers import Api, new_bill_body
from hypothesis import given, settings
from hypothesis import strategies as st

from lumenlater_sdk.backend.http._fields import ORIGIN_PATTERN, URL_PATTERN
from lumenlater_sdk.backend.http._openapi import LINKS, TEXT_PATTERN
from lumenlater_sdk.backend.routes.analytics import MAX_TIME
from lumenlater_sdk.backend.services.validation import (
    MAX_AMOUNT,
    check_origin,
    check_url,
    text_problem,
)
from lumenlater_sdk.backend.testing import SandboxHandle


@pytest.fixture
def doc(sb_sqlite: SandboxHandle) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(sb_sqlite.base_url + "/v1/openapi.json").json()
    return document


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        op["operationId"]: (path, op) for path, ops in doc["paths"].items() for op in ops.values()
    }


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _strings(doc: dict[str, Any], schema: Any, seen: set[int]) -> list[dict[str, Any]]:
    """Every string schema inside *schema*, following references."""
    if isinstance(schema, list):
        return [s for item in schema for s in _strings(doc, item, seen)]
    if not isinstance(schema, dict) or id(schema) in seen:
        return []
    seen.add(id(schema))
    schema = _resolve(doc, schema)
    found = [schema] if schema.get("type") == "string" else []
    for key, value in schema.items():
        if key == "properties":
            found += [s for v in value.values() for s in _strings(doc, v, seen)]
        elif key not in ("enum", "const", "default"):
            found += _strings(doc, value, seen)
    return found


def test_every_link_names_an_operation_and_every_id_route_is_reached(
    doc: dict[str, Any],
) -> None:
    ops = _operations(doc)
    linked: set[str] = set()
    for producer, (_path, op) in ops.items():
        for code, answer in op["responses"].items():
            for link in answer.get("links", {}).values():
                assert code.startswith("2"), (producer, code)
                assert link["operationId"] in ops, link
                assert link["parameters"] == {"path.id": "$response.body#/id"}
                linked.add(link["operationId"])
    assert set(LINKS) <= set(ops)
    with_id = {name for name, (path, _op) in ops.items() if "{id}" in path}
    assert with_id == linked, with_id ^ linked
    # The ids a link reads are in the producer's answer schema.
    for producer in LINKS:
        _path, op = ops[producer]
        success = next(a for c, a in op["responses"].items() if c.startswith("2"))
        schema = _resolve(doc, success["content"]["application/json"]["schema"])
        assert "id" in schema["properties"], producer


def test_request_text_refuses_control_characters_everywhere(doc: dict[str, Any]) -> None:
    pattern = re.compile(TEXT_PATTERN)
    for sample in ("plain", "tab\tnew\nline\r", "é ☃ 😀"):
        assert pattern.search(sample) and text_problem(sample) is None
    for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]:
        assert not pattern.search(f"a{chr(code)}b") and text_problem(chr(code)) is not None
    checked = 0
    for path, op in _operations(doc).values():
        schemas = [p["schema"] for p in op.get("parameters", []) if p["in"] != "header"]
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            schemas.append(body["schema"])
        for string in _strings(doc, schemas, set()):
            if "enum" in string or "const" in string:
                continue
            assert "pattern" in string, (path, string)
            checked += 1
    assert checked > 50


def test_request_bodies_are_closed_and_amounts_capped(doc: dict[str, Any]) -> None:
    for name, (_path, op) in _operations(doc).items():
        body = op.get("requestBody")
        if body is None:
            continue
        schema = _resolve(doc, body["content"]["application/json"]["schema"])
        assert schema["additionalProperties"] is False, name
        assert body["required"] == bool(schema.get("required")), name
        assert {"400", "413", "415"} <= set(op["responses"]), name
    bill = doc["components"]["schemas"]["BillCreate"]["properties"]
    assert bill["amount"]["maximum"] == MAX_AMOUNT and bill["amount"]["type"] == "integer"
    assert bill["customer"]["format"] == "stellar-account-id"
    update = doc["components"]["schemas"]["WebhookEndpointUpdate"]["properties"]
    # The service refuses null for these, so the document does not offer it.
    for field in ("url", "disabled"):
        assert update[field]["type"] != "null" and "anyOf" not in update[field]


@settings(max_examples=200, deadline=None)
@given(st.from_regex(URL_PATTERN, fullmatch=True).filter(lambda u: len(u) <= 2048))
def test_every_url_the_pattern_allows_is_taken(url: str) -> None:
    check_url(url)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(ORIGIN_PATTERN, fullmatch=True))
def test_every_origin_the_pattern_allows_is_taken(origin: str) -> None:
    check_origin(origin)


# What the fuzz found, kept as plain tests.


def test_a_monthly_window_at_the_last_time_is_answered(sb_sqlite: SandboxHandle) -> None:
    with Api(sb_sqlite.base_url, sb_sqlite.secret_key) as api:
        start = MAX_TIME - 86_400 * 60
        q = {"interval": "month", "start": start, "end": MAX_TIME}
        assert api.ok("GET", "/v1/analytics/metrics", params=q)["object"] == "analytics.metrics"
        r = api.get("/v1/analytics/metrics", params={**q, "start": MAX_TIME + 1})
        assert r.status_code == 400 and r.json()["error"]["param"] == "start"


def test_a_body_of_only_whitespace_is_not_json(sb_sqlite: SandboxHandle) -> None:
    with Api(sb_sqlite.base_url, sb_sqlite.secret_key) as api:
        bill = api.ok("POST", "/v1/bills", json=new_bill_body(api))
        url = f"/v1/bills/{bill['id']}/cancel"
        r = api.request("POST", url, content=b" ", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
        r = api.request("POST", url, content=b" \n")
        assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
        assert api.ok("GET", f"/v1/bills/{bill['id']}")["status"] == "created"
        assert api.ok("POST", url)["status"] == "cancelled"  # no body at all reads as {}


def test_every_answer_documents_its_headers(doc: dict[str, Any]) -> None:
    for name, (_path, op) in _operations(doc).items():
        for code, answer in op["responses"].items():
            headers = answer["headers"]
            assert headers["Request-Id"]["required"] is True, (name, code)
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining"} <= set(headers)
            assert ("Retry-After" in headers) == (code == "429"), (name, code)
