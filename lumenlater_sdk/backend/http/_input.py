"""A request's input: the body (bounded), the query and the JSON body against the spec's
models, and the ``Idempotency-Key`` header. Every problem is an :class:`ApiError`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import Receive, Scope

from ._errors import ApiError, from_validation, invalid
from ._spec import RouteSpec

__all__ = ["MAX_BODY", "idempotency_key", "parse_body", "parse_query", "read_body"]

MAX_BODY = 1 << 20


async def read_body(receive: Receive) -> bytes:
    """The whole body, refused with 413 as soon as it passes :data:`MAX_BODY`
    (a chunked body has no length to check up front)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "invalid_request_error", "body_too_large", "Body over 1 MiB.")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def parse_query(spec: RouteSpec, scope: Scope) -> Any:
    """The spec's query model, or ``None``; a route without one takes no parameters."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if spec.query is None:
        if pairs:
            name = pairs[0][0]
            raise invalid("parameter_unknown", f"Received unknown parameter: {name}", name)
        return None
    try:
        return spec.query.model_validate(dict(pairs))
    except ValidationError as exc:
        raise from_validation(exc) from None


def parse_body(spec: RouteSpec, raw: bytes) -> Any:
    """The spec's body model, or ``None`` for a route that takes no body."""
    if spec.method != "POST" or spec.body is None:
        if raw.strip() not in (b"", b"{}"):
            raise invalid("parameter_unknown", "This endpoint takes no request body.")
        return None
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise invalid("invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("invalid_json", "The body must be a JSON object.")
    try:
        return spec.body.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc) from None


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's ``Idempotency-Key``: 1-255 printable ASCII characters."""
    key = headers.get("idempotency-key")
    if key is not None and not (
        1 <= len(key) <= 255 and all(33 <= ord(c) <= 126 or c == " " for c in key)
    ):
        raise invalid(
            "parameter_invalid", "Idempotency-Key must be 1-255 printable ASCII.", "Idempotency-Key"
        )
    return key
