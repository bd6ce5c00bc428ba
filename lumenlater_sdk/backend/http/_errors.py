"""Errors on the wire: ``{"error": {type, code, message, param, request_id}}``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from ..services.errors import ServiceError

__all__ = ["ErrorBody", "ErrorResponse", "error_body", "from_service", "from_validation"]

_STATUS = {
    "invalid_request": (400, "invalid_request_error"),
    "not_found": (404, "invalid_request_error"),
    "authentication": (401, "authentication_error"),
    "permission": (403, "permission_error"),
    "conflict": (400, "invalid_request_error"),  # DESIGN §2: 409 is idempotency only
    "idempotency": (409, "idempotency_error"),
    "rate_limit": (429, "rate_limit_error"),
    "chain_refused": (400, "invalid_request_error"),
    "chain_unavailable": (503, "chain_error"),
}


class ErrorBody(BaseModel):
    """The ``error`` object."""

    type: str
    code: str | None = None
    message: str
    param: str | None = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """Every non-2xx JSON body."""

    error: ErrorBody


def error_body(
    status: int,
    err_type: str,
    code: str | None,
    message: str,
    param: str | None,
    request_id: str,
) -> tuple[int, bytes]:
    """Status and encoded body of one error."""
    body = {
        "error": {
            "type": err_type,
            "code": code,
            "message": message,
            "param": param,
            "request_id": request_id,
        }
    }
    return status, json.dumps(body).encode()


def from_service(exc: ServiceError, request_id: str) -> tuple[int, bytes]:
    """Map a service error kind to its HTTP status and error type."""
    status, err_type = _STATUS[exc.kind]
    return error_body(status, err_type, exc.code, exc.message, exc.param, request_id)


def _param(loc: tuple[Any, ...], prefix: str | None) -> str | None:
    parts = [str(p) for p in loc]
    if not parts:
        return prefix
    head, rest = parts[0], parts[1:]
    return head + "".join(f"[{p}]" for p in rest)


def from_validation(exc: ValidationError, request_id: str) -> tuple[int, bytes]:
    """The first problem of a pydantic error, as ``parameter_unknown|missing|invalid``."""
    first: dict[str, Any] = dict(exc.errors()[0])
    kind = str(first.get("type"))
    loc = tuple(first.get("loc", ()))
    # Errors inside a dict's values are reported at the key (e.g. metadata[key]).
    param = _param(loc, None)
    if kind == "extra_forbidden":
        code, message = "parameter_unknown", f"Received unknown parameter: {param}"
    elif kind == "missing":
        code, message = "parameter_missing", f"Missing required param: {param}."
    else:
        code = "parameter_invalid"
        message = f"Invalid {param}: {first.get('msg', 'invalid value')!s}"
    return error_body(400, "invalid_request_error", code, message, param, request_id)
