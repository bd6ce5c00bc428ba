"""Errors the service layer raises. They know nothing of HTTP: routes map ``kind`` to a status.

``code`` is the machine-readable reason on the wire, ``param`` the offending
request field if any.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal[
    "invalid_request",  # 400
    "not_found",  # 404
    "authentication",  # 401
    "permission",  # 403
    "conflict",  # 400 invalid_request_error (state conflict)
    "idempotency",  # 409 idempotency_error
    "rate_limit",  # 429
    "chain_refused",  # 400/402-like contract refusal: 400 invalid_request_error, code = reason
    "chain_unavailable",  # 503 chain_error (retryable)
]


class ServiceError(Exception):
    """A request the rules refuse, with a wire ``code`` and optional ``param``."""

    kind: ErrorKind = "invalid_request"

    def __init__(self, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param


class InvalidRequest(ServiceError):
    """400: the input is wrong (``parameter_invalid``, ``parameter_missing``, ...)."""

    kind: ErrorKind = "invalid_request"


class NotFound(ServiceError):
    """404: no such object *for this merchant* (another merchant's id looks the same)."""

    kind: ErrorKind = "not_found"

    def __init__(self, message: str, *, code: str = "resource_missing", param: str | None = None):
        super().__init__(message, code=code, param=param)


class PermissionDenied(ServiceError):
    """403: the caller may not do this."""

    kind: ErrorKind = "permission"


class SandboxOnly(PermissionDenied):
    """403 ``sandbox_only``: a sandbox power (moving the clock, funding a wallet,
    approving a merchant as the admin) asked of a backend on a real chain."""

    def __init__(self, message: str, *, code: str = "sandbox_only", param: str | None = None):
        super().__init__(message, code=code, param=param)


class Conflict(ServiceError):
    """400: the object is not in a state that allows this (e.g. cancelling a paid bill)."""

    kind: ErrorKind = "conflict"


class ChainRefused(ServiceError):
    """The contract refused the call; ``code`` is its reason (``insufficient_collateral``...)."""

    kind: ErrorKind = "chain_refused"


class ChainUnavailable(ServiceError):
    """The chain could not be reached; nothing changed, so a retry may succeed."""

    kind: ErrorKind = "chain_unavailable"
