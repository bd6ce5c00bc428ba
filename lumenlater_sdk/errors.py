"""The exception tree raised by the LumenLater client.

``LumenLaterError`` is the root. HTTP failures are :class:`APIError` subclasses
chosen from the status code and ``error.type``; network failures are
:class:`APIConnectionError` (and :class:`APITimeoutError`).

Self-custody signing (a merchant that keeps its own Stellar key) fails before any
request with an :class:`AuthorizationError`: no signer was configured
(:class:`AuthorizationRequiredError`), the entry the API asked to sign is not exactly
this bill's ``create_bill`` (:class:`AuthorizationMismatchError`), or the signer is not
the bill's merchant key (:class:`SignerMismatchError`). :class:`MissingExtraError` says
which install extra an optional feature needs (signing needs ``lumenlater-sdk[stellar]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Bill, CheckoutSession

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "AuthorizationError",
    "AuthorizationMismatchError",
    "AuthorizationRequiredError",
    "BadRequestError",
    "ChainError",
    "ConflictError",
    "IdempotencyError",
    "InternalServerError",
    "LumenLaterError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SignerMismatchError",
]


class LumenLaterError(Exception):
    """Base class of every error the SDK raises on purpose."""


class APIError(LumenLaterError):
    """The API answered with an error status.

    Attributes mirror the wire error object: ``status_code``, ``type``, ``code``,
    ``param``, ``request_id`` and the decoded ``body`` (or raw text if it was not JSON).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body
        self.headers = headers or {}

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.code:
            parts.append(self.code)
        text = f"[{' '.join(parts)}] {self.message}"
        if self.param:
            text += f" (param: {self.param})"
        if self.request_id:
            text += f" [request_id: {self.request_id}]"
        return text


class BadRequestError(APIError):
    """400: the request was invalid (see ``code`` and ``param``)."""


class AuthenticationError(APIError):
    """401: missing or invalid API key."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (e.g. a publishable key, or a live key on a test helper)."""


class NotFoundError(APIError):
    """404: no such object for this merchant."""


class ConflictError(APIError):
    """409: the request conflicts with the current state."""


class IdempotencyError(ConflictError):
    """409 ``idempotency_error``: the key was reused with another body, or is in use."""


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ChainError(APIError):
    """502/503 ``chain_error``: the contract relay failed or is unreachable (retryable)."""


class InternalServerError(APIError):
    """5xx other than a chain error."""


class APIConnectionError(LumenLaterError):
    """The request never got an HTTP answer (DNS, refused connection, reset...)."""

    def __init__(self, message: str = "Connection error", *, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out", *, request_id: str | None = None):
        super().__init__(message, request_id=request_id)


class MissingExtraError(LumenLaterError, ImportError):
    """An optional feature needs a package from an install extra that is not installed.

    ``extra`` names the extra (e.g. ``"stellar"``); the message holds the ``pip install``
    line that fixes it.
    """

    def __init__(self, message: str, *, extra: str, name: str | None = None) -> None:
        super().__init__(message)
        self.msg = message
        self.name = name
        self.extra = extra


class AuthorizationError(LumenLaterError):
    """A self-custody bill could not be authorized on the client side (nothing was sent).

    ``bill`` is the bill awaiting authorization (status ``requires_authorization``): it
    exists in the API but not on chain until its merchant signs. ``session`` is the
    checkout session that bill pays, when the error comes from
    ``client.checkout.sessions.create(..., customer=...)``.
    """

    def __init__(
        self, message: str, *, bill: Bill | None = None, session: CheckoutSession | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.bill = bill
        self.session = session


class AuthorizationRequiredError(AuthorizationError):
    """The bill needs the merchant's signature and the client has no ``stellar_signer``.

    Complete it later with ``client.bills.authorize(error.bill)`` from a client created
    with ``stellar_signer=``.
    """


class AuthorizationMismatchError(AuthorizationError):
    """The authorization entry the API sent is not exactly this bill's ``create_bill``.

    The SDK refused to sign it. ``field`` names the first part that differs (e.g.
    ``"amount"``, ``"contract_id"``, ``"sub_invocations"``, ``"nonce"``).
    """

    def __init__(self, message: str, *, field: str, bill: Bill | None = None) -> None:
        super().__init__(message, bill=bill)
        self.field = field


class SignerMismatchError(AuthorizationError):
    """The ``stellar_signer`` is not the bill's merchant key, or what it returned is not a
    valid ed25519 signature of the payload by that key. Nothing was sent."""
