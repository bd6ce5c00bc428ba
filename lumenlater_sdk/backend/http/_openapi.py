"""The OpenAPI 3.1 document, generated from the route specs the server runs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..._version import API_VERSION, __version__
from ._errors import ErrorResponse
from ._spec import RouteSpec

__all__ = ["LINKS", "TEXT_PATTERN", "build_openapi"]

_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"\{([a-z_]+)\}")

TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"
"""Every text a request carries (body, query, path): no NUL and no C0 control but tab,
newline and carriage return (``services.validation.text_problem``; lone surrogates
cannot be written in a pattern, nor sent as UTF-8)."""

_IDEMPOTENCY_KEY = (
    "A key of your choosing, unique per operation: retrying with the same key answers "
    "what the first request did instead of doing it twice."
)
# An Idempotency-Key is printable ASCII; spaces only inside (HTTP strips the ends).
_KEY_PATTERN = "^[\\x21-\\x7e](?:[\\x20-\\x7e]*[\\x21-\\x7e])?$"

# Where one operation's answer names an object another operation takes by its ``id``
# (OpenAPI links: clients and stateful fuzzers follow them): producer → consumers.
_BILL_OPS = (
    "retrieveBill",
    "cancelBill",
    "authorizeBill",
    "payTestBill",
    "repayTestBill",
    "liquidateTestBill",
)
_ENDPOINT_OPS = (
    "retrieveWebhookEndpoint",
    "updateWebhookEndpoint",
    "rotateWebhookEndpointSecret",
    "listWebhookDeliveries",
    "deleteWebhookEndpoint",
)
_SESSION_OPS = ("retrieveCheckoutSession", "expireCheckoutSession")
_MERCHANT_OPS = ("approveTestMerchant", "suspendTestMerchant", "rejectTestMerchant")
_KEY_OPS = ("retrieveApiKey", "rollApiKey", "revokeApiKey")
LINKS: dict[str, tuple[str, ...]] = {
    "createBill": _BILL_OPS,
    "cancelBill": ("retrieveBill",),
    "payTestBill": _BILL_OPS,
    "repayTestBill": ("retrieveBill", "liquidateTestBill"),
    "createCheckoutSession": _SESSION_OPS,
    "expireCheckoutSession": ("retrieveCheckoutSession",),
    "createWebhookEndpoint": _ENDPOINT_OPS,
    "updateWebhookEndpoint": _ENDPOINT_OPS,
    "rotateWebhookEndpointSecret": _ENDPOINT_OPS,
    "createApiKey": _KEY_OPS,
    "rollApiKey": _KEY_OPS,
    "createTestWallet": ("retrieveTestWallet",),
    "createTestMerchant": _MERCHANT_OPS,
    "triggerTestEvent": ("retrieveEvent", "resendEvent"),
    "resendEvent": ("retrieveEvent",),
}
"""Operation id → the operations that take its answer's ``id`` as their path ``id``."""


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or text, never ``null``."""
    branches = schema.get("anyOf")
    if branches is None:
        return schema
    rest = [b for b in branches if b.get("type") != "null"]
    if len(rest) != 1:
        return schema
    out = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**rest[0], **out}


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            # Where documentation tools look for it (pydantic puts it in the schema).
            **({"description": prop["description"]} if "description" in prop else {}),
            "schema": _text_only(_without_null(prop)),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _text_only(schema: Any) -> Any:
    """*schema* with :data:`TEXT_PATTERN` on every free text in it (a string without a
    pattern, enum or constant of its own; metadata keys)."""
    if isinstance(schema, list):
        return [_text_only(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _text_only(v) if k != "enum" and k != "const" else v for k, v in schema.items()}
    free = not any(k in out for k in ("pattern", "enum", "const"))
    if free and out.get("type") == "string":
        out["pattern"] = TEXT_PATTERN
    if "default" in out and out["default"] is None and out.get("type") not in (None, "null"):
        del out["default"]  # a field that takes no null has no null default to show
    if isinstance(out.get("propertyNames"), dict) and "pattern" not in out["propertyNames"]:
        out["propertyNames"] = {**out["propertyNames"], "pattern": TEXT_PATTERN}
    return out


def _referenced(name: str, schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """*name* and every component schema it refers to, transitively."""
    if name in seen or name not in schemas:
        return seen
    seen.add(name)
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(schemas[name])):
        _referenced(ref, schemas, seen)
    return seen


def build_openapi(specs: Sequence[RouteSpec], *, server_url: str) -> dict[str, Any]:
    """A document that lists exactly *specs* (those with ``include_in_schema``)."""
    shown = [s for s in specs if s.include_in_schema]
    models: set[type[BaseModel]] = {ErrorResponse}
    for s in shown:
        models.update(m for m in (s.body, s.response, s.list_of, s.file_of) if m is not None)
    keyed: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (m, "validation" if _is_request(m, shown) else "serialization") for m in models
    ]
    refs, top = models_json_schema(keyed, ref_template=_REF)
    ref: dict[Any, dict[str, Any]] = {
        model: dict(schema) for (model, _mode), schema in refs.items()
    }
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    # Request schemas describe what the server takes, text rule included.
    inbound: set[str] = set()
    for s in shown:
        if s.body is not None:
            _referenced(ref[s.body]["$ref"].rsplit("/", 1)[1], schemas, inbound)
    for name in inbound:
        schemas[name] = _text_only(schemas[name])
    paths: dict[str, dict[str, Any]] = {}
    for s in shown:
        op: dict[str, Any] = {
            "operationId": s.operation_id,
            "summary": s.summary,
            "tags": [s.tag],
            "security": [] if s.auth == "none" else [{"bearerAuth": []}],
        }
        params: list[dict[str, Any]] = [
            {
                "name": n,
                "in": "path",
                "required": True,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100,
                    "pattern": TEXT_PATTERN,
                },
            }
            for n in _PARAM.findall(s.path)
        ]
        if s.query is not None:
            params += _query_parameters(s.query, schemas)
        if s.method == "POST":
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": _IDEMPOTENCY_KEY,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": _KEY_PATTERN,
                    },
                }
            )
        if params:
            op["parameters"] = params
        if s.body is not None:
            # No body reads as {}: it may be left out unless a field is required.
            op["requestBody"] = {
                "required": bool(s.body.model_json_schema().get("required")),
                "content": {"application/json": {"schema": ref[s.body]}},
            }
        op["responses"] = _responses(s, ref)
        paths.setdefault(s.path, {})[s.method.lower()] = op
    _add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LumenLater API",
            "version": API_VERSION,
            "description": f"Served by lumenlater_sdk.backend {__version__}.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def _add_links(paths: dict[str, dict[str, Any]]) -> None:
    """:data:`LINKS` on each producer's success answer, to the consumers the document has."""
    ops = {op["operationId"]: op for methods in paths.values() for op in methods.values()}
    for producer, consumers in LINKS.items():
        op = ops.get(producer)
        if op is None:
            continue
        success = next(code for code in op["responses"] if code.startswith("2"))
        links = {
            target[0].upper() + target[1:]: {
                "operationId": target,
                "parameters": {"path.id": "$response.body#/id"},
            }
            for target in consumers
            if target in ops
        }
        if links:
            op["responses"][success]["links"] = links


def _is_request(model: type[BaseModel], specs: Sequence[RouteSpec]) -> bool:
    return any(s.body is model for s in specs)


def _file_schema(s: RouteSpec, media: str, ref: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    # A JSON file of records is an array of them; any other file is opaque text.
    if media == "application/json" and s.file_of is not None:
        return {"type": "array", "items": ref[s.file_of]}
    return {"type": "string"}


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> Any:
    return {"description": description, "required": required, "schema": schema}


_SECONDS = {"type": "string", "pattern": "^[0-9]+$"}
# Headers on every answer, errors included (the rate-limit ones while limits are on).
_HEADERS = {
    "Request-Id": _header(
        "This request's id, as in error bodies.",
        {"type": "string", "pattern": "^req_[0-9a-f]+$"},
        required=True,
    ),
    "X-RateLimit-Limit": _header("The bucket's size.", _SECONDS),
    "X-RateLimit-Remaining": _header("Requests left in the bucket.", _SECONDS),
    "X-RateLimit-Reset": _header("When the bucket is full again (Unix time).", _SECONDS),
}
_RETRY_AFTER = _header("Seconds to wait before trying again.", _SECONDS)
_REPLAYED = _header(
    "true when this is the stored answer to an earlier request with the same Idempotency-Key.",
    {"const": "true"},
)


def _responses(s: RouteSpec, ref: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.list_of is not None:
        schema: dict[str, Any] = {
            "type": "object",
            "required": ["object", "data", "has_more", "url"],
            "properties": {
                "object": {"const": "list"},
                "data": {"type": "array", "items": ref[s.list_of]},
                "has_more": {"type": "boolean"},
                "url": {"type": "string"},
            },
        }
        out[str(s.status)] = {
            "description": "A page of objects.",
            "content": {"application/json": {"schema": schema}},
        }
    elif s.response is not None:
        out[str(s.status)] = {
            "description": "OK",
            "content": {s.media_type: {"schema": ref[s.response]}},
        }
    else:
        out[str(s.status)] = {
            "description": "OK",
            "content": {
                m: {"schema": _file_schema(s, m, ref)} for m in (s.media_type, *s.alt_media_types)
            },
        }
    err = {"content": {"application/json": {"schema": ref[ErrorResponse]}}}
    codes = {*s.errors, 400, 401, 429}
    if s.auth == "none":
        codes.discard(401)
    if s.method == "POST":
        codes.add(409)
    if s.body is not None:
        codes.update((413, 415))  # over 1 MiB; not sent as application/json
    if s.test_only:
        codes.add(404)
    for code in sorted(codes):
        out[str(code)] = {"description": _DESCRIPTIONS.get(code, "Error"), **err}
    for status, answer in out.items():
        headers = dict(_HEADERS)
        if status == "429":
            headers["Retry-After"] = _RETRY_AFTER
        if s.method == "POST":  # any answer stored for a key is replayed
            headers["Idempotent-Replayed"] = _REPLAYED
        answer["headers"] = headers
    return out


_DESCRIPTIONS = {
    400: "Invalid request or contract refusal",
    401: "Missing or invalid API key",
    403: "Not allowed with this key",
    404: "No such object",
    405: "Method not allowed",
    409: "Conflict (state or idempotency)",
    413: "Body too large",
    415: "Body not sent as application/json",
    429: "Rate limited",
    503: "Chain unavailable (retryable)",
}
