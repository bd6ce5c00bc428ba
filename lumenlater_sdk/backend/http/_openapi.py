"""The OpenAPI 3.1 document, generated from the route specs the server runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..._version import API_VERSION, __version__
from ._errors import ErrorResponse
from ._spec import RouteSpec

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"\{([a-z_]+)\}")


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


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
                "schema": {"type": "string", "minLength": 1, "maxLength": 100},
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
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": "^[\\x21-\\x7e]+$",
                    },
                }
            )
        if params:
            op["parameters"] = params
        if s.body is not None:
            op["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": ref[s.body]}},
            }
        op["responses"] = _responses(s, ref)
        paths.setdefault(s.path, {})[s.method.lower()] = op
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


def _is_request(model: type[BaseModel], specs: Sequence[RouteSpec]) -> bool:
    return any(s.body is model for s in specs)


def _file_schema(s: RouteSpec, media: str, ref: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    # A JSON file of records is an array of them; any other file is opaque text.
    if media == "application/json" and s.file_of is not None:
        return {"type": "array", "items": ref[s.file_of]}
    return {"type": "string"}


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
