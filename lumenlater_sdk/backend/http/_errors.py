"""Errors on the wire: ``{"error": {type, code, message, param, request_id}}``.

Every refusal, wherever it is raised (a route adapter, a service, Starlette's own
404/405, a body over the limit), becomes this envelope here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from ..services.errors import ServiceError

__all__ = [
    "EXCEPTION_HANDLERS",
    "ApiError",
    "ErrorBody",
    "ErrorResponse",
    "from_service",
    "from_validation",
    "internal_error",
    "invalid",
    "param_name",
    "response_headers",
]

log = logging.getLogger("lumenlater.backend")

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

_HEADERS_KEY = "lumenlater.response_headers"


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


class ApiError(Exception):
    """A refusal decided by the HTTP layer itself (auth, input, limits)."""

    def __init__(
        self,
        status: int,
        err_type: str,
        code: str,
        message: str,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.err_type = err_type
        self.code = code
        self.message = message
        self.param = param


def invalid(code: str, message: str, param: str | None = None) -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, "invalid_request_error", code, message, param)


def _error_body(
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
    return _error_body(status, err_type, exc.code, exc.message, exc.param, request_id)


def service_error_body(exc: ServiceError, request_id: str, message: str) -> dict[str, Any]:
    """The error envelope of *exc* (its API type, code and param), saying *message*:
    for the hosted pages, which answer in the shopper's words."""
    _status, err_type = _STATUS[exc.kind]
    return {
        "error": {
            "type": err_type,
            "code": exc.code,
            "message": message,
            "param": exc.param,
            "request_id": request_id,
        }
    }


def param_name(loc: tuple[Any, ...]) -> str | None:
    """A location as a ``param``: ``line_items[0][name]``; ``None`` for the whole body."""
    parts = [str(p) for p in loc]
    if not parts:
        return None
    head, rest = parts[0], parts[1:]
    return head + "".join(f"[{p}]" for p in rest)


def from_validation(exc: ValidationError) -> ApiError:
    """The first problem of a pydantic error, as ``parameter_unknown|missing|invalid``."""
    first: dict[str, Any] = dict(exc.errors()[0])
    kind = str(first.get("type"))
    # Errors inside a dict's values are reported at the key (e.g. metadata[key]).
    param = param_name(tuple(first.get("loc", ())))
    if kind == "extra_forbidden":
        return invalid("parameter_unknown", f"Received unknown parameter: {param}", param)
    if kind == "missing":
        return invalid("parameter_missing", f"Missing required param: {param}.", param)
    message = f"Invalid {param}: {first.get('msg', 'invalid value')!s}"
    return invalid("parameter_invalid", message, param)


def internal_error(request_id: str) -> tuple[int, bytes]:
    """The 500 answer; logs the exception being handled (never the request's content)."""
    log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
    return _error_body(
        500, "api_error", "internal_error", "Something went wrong on our side.", None, request_id
    )


def response_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Headers every answer to this request carries (rate-limit state), errors included."""
    headers: list[tuple[bytes, bytes]] = scope.setdefault(_HEADERS_KEY, [])
    return headers


def _request_id(request: Request) -> str:
    return str(request.scope.get("lumenlater.request_id", ""))


def _response(request: Request, status: int, body: bytes, **headers: str) -> Response:
    response = Response(body, status_code=status, media_type="application/json", headers=headers)
    response.raw_headers.extend(response_headers(request.scope))
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _response(
        request,
        *_error_body(
            exc.status, exc.err_type, exc.code, exc.message, exc.param, _request_id(request)
        ),
    )


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return _response(request, *from_service(exc, _request_id(request)))


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals: no route (404) and a method the path lacks (405)."""
    assert isinstance(exc, HTTPException)
    rid, method = _request_id(request), request.method
    if exc.status_code == 405:
        message = f"{method} is not allowed here."
        status, body = _error_body(
            405, "invalid_request_error", "method_not_allowed", message, None, rid
        )
        return _response(request, status, body, **dict(exc.headers or {}))
    message = f"Unrecognized request URL ({method} {request.url.path})."
    return _response(
        request,
        *_error_body(
            exc.status_code, "invalid_request_error", "route_not_found", message, None, rid
        ),
    )


async def _unhandled(request: Request, exc: Exception) -> Response:
    return _response(request, *internal_error(_request_id(request)))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: _api_error,
    ServiceError: _service_error,
    HTTPException: _http_exception,
    Exception: _unhandled,
}
"""For ``Starlette(exception_handlers=...)``."""
