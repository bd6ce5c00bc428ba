"""Turning an HTTP error answer into the right :mod:`lumenlater_sdk.errors` class."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._retry import parse_retry_after
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ChainError,
    ConflictError,
    IdempotencyError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

__all__ = ["ErrorInfo", "make_api_error", "read_error"]

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


class ErrorInfo:
    """The decoded parts of an error answer (tolerant of non-JSON bodies)."""

    __slots__ = ("body", "code", "message", "param", "request_id", "type")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        body: Any
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = content.decode("utf-8", "replace")
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            err = {}
        self.body = body
        self.type = _str_or_none(err.get("type"))
        self.code = _str_or_none(err.get("code"))
        self.param = _str_or_none(err.get("param"))
        self.request_id = headers.get("request-id") or _str_or_none(err.get("request_id"))
        message = _str_or_none(err.get("message"))
        if message is None:
            text = body.strip()[:200] if isinstance(body, str) else ""
            message = f"HTTP {status}" + (f": {text}" if text else "")
        self.message = message


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_error(status: int, headers: Mapping[str, str], content: bytes) -> ErrorInfo:
    """Decode an error body once; the retry decision and the exception both use it."""
    return ErrorInfo(status, headers, content)


def make_api_error(status: int, headers: Mapping[str, str], info: ErrorInfo) -> APIError:
    """The exception for an error answer, chosen from ``error.type`` then the status."""
    cls: type[APIError]
    if info.type == "chain_error":
        cls = ChainError
    elif status == 409 and info.type == "idempotency_error":
        cls = IdempotencyError
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status >= 500:
        cls = InternalServerError
    else:
        cls = APIError
    kw: dict[str, Any] = {
        "status_code": status,
        "type": info.type,
        "code": info.code,
        "param": info.param,
        "request_id": info.request_id,
        "body": info.body,
        "headers": dict(headers),
    }
    if cls is RateLimitError:
        return RateLimitError(
            info.message, retry_after=parse_retry_after(headers.get("retry-after")), **kw
        )
    return cls(info.message, **kw)
