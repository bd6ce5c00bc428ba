"""A request's input: the body (bounded), the path ids, the query and the JSON body
against the spec's models, a raw (HTML form) body, and the ``Idempotency-Key`` header.
Every problem is an :class:`ApiError`; every text that gets through is one a text field
can hold (``services.validation.text_problem``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import Receive, Scope

from ..services.validation import text_problem
from ._errors import ApiError, from_validation, invalid
from ._json import check_json_type, is_json, read_json
from ._spec import RouteSpec

__all__ = [
    "MAX_BODY",
    "check_path",
    "check_raw_body",
    "idempotency_key",
    "parse_body",
    "parse_query",
    "read_body",
]

_FORM = "application/x-www-form-urlencoded"

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


def _check_pairs(pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        problem = text_problem(name) or text_problem(value)
        if problem is not None:
            raise invalid("parameter_invalid", f"Invalid {name}: {problem}", name)


def _decode_pairs(raw: bytes, what: str) -> list[tuple[str, str]]:
    """``name=value&…`` pairs, UTF-8 once percent-decoded, with characters checked."""
    if not raw:  # most requests have no query string
        return []
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise invalid("parameter_invalid", f"The {what} is not valid UTF-8.") from None
    _check_pairs(pairs)
    return pairs


def check_path(params: Mapping[str, Any]) -> None:
    """Path ids (``/v1/bills/{id}``) are text fields too: 400 naming the id."""
    _check_pairs([(name, str(value)) for name, value in params.items()])


def parse_query(spec: RouteSpec, scope: Scope) -> Any:
    """The spec's query model, or ``None``; a route without one takes no parameters."""
    pairs = _decode_pairs(scope.get("query_string", b""), "query string")
    if spec.query is None:
        if pairs:
            name = pairs[0][0]
            raise invalid("parameter_unknown", f"Received unknown parameter: {name}", name)
        return None
    try:
        return spec.query.model_validate(dict(pairs))
    except ValidationError as exc:
        raise from_validation(exc) from None


def parse_body(spec: RouteSpec, raw: bytes, headers: dict[str, str]) -> tuple[Any, Any]:
    """The spec's body model (``None`` for a route that takes no body) and the JSON
    value it was made from (``None`` when no JSON was read). A body that is there must
    be declared JSON (415 otherwise) and pass :func:`~._json.read_json`."""
    if spec.method != "POST" or spec.body is None:
        if raw.strip() not in (b"", b"{}"):
            raise invalid("parameter_unknown", "This endpoint takes no request body.")
        return None, None
    data: Any = {}
    parsed: Any = None
    if raw:  # a body of only whitespace is not JSON either
        check_json_type(headers)
        data = parsed = read_json(raw)
    if not isinstance(data, dict):
        raise invalid("invalid_json", "The body must be a JSON object.")
    try:
        return spec.body.model_validate(data), parsed
    except ValidationError as exc:
        raise from_validation(exc) from None


def check_raw_body(raw: bytes, headers: dict[str, str]) -> None:
    """A body its handler parses itself (the hosted page's forms and JSON calls) gets the
    same checks: a JSON body those of :func:`~._json.read_json`, a form's fields the
    character rule, and any other media type 415."""
    if not raw.strip():
        return
    # A body that looks like JSON is checked as JSON: a handler may parse it whatever the
    # media type says, and a form's fields never start with a bracket.
    if is_json(headers) or raw.lstrip()[:1] in (b"{", b"["):
        check_json_type(headers)
        read_json(raw)
        return
    media = headers.get("content-type", _FORM).split(";")[0].strip().lower()
    if media != _FORM:
        raise ApiError(
            415,
            "invalid_request_error",
            "unsupported_media_type",
            f"The body must be {_FORM} or application/json.",
            "Content-Type",
        )
    _decode_pairs(raw, "form")


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's ``Idempotency-Key``: 1-255 printable ASCII characters."""
    key = headers.get("idempotency-key")
    # Printable ASCII is exactly space to "~" (32-126): two C checks, not one per character.
    if key is not None and not (1 <= len(key) <= 255 and key.isascii() and key.isprintable()):
        raise invalid(
            "parameter_invalid", "Idempotency-Key must be 1-255 printable ASCII.", "Idempotency-Key"
        )
    return key
