"""Exceptions raised while receiving webhooks."""

from __future__ import annotations

from ..errors import LumenLaterError

__all__ = [
    "InvalidPayloadError",
    "ProcessLocalStoreWarning",
    "SignatureVerificationError",
    "WebhookError",
]


class WebhookError(LumenLaterError):
    """Base class of the errors raised by :mod:`lumenlater_sdk.webhooks`."""


class SignatureVerificationError(WebhookError):
    """The ``X-LumenLater-Signature`` header does not prove the payload came from LumenLater.

    ``reason`` names the check that failed, one of ``"missing_header"``,
    ``"malformed_header"``, ``"no_matching_signature"``, ``"timestamp_too_old"``,
    ``"timestamp_in_future"``, ``"no_secret"`` (a secret resolver knew no secret for
    the request); the message says the same in words.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class InvalidPayloadError(WebhookError, ValueError):
    """The (correctly signed) body is not a LumenLater event.

    ``reason`` is ``"invalid_json"`` (not JSON at all) or ``"invalid_event"`` (JSON, but
    not shaped like an event). The message names the fields at fault, never their values.
    """

    def __init__(self, message: str, *, reason: str = "invalid_event") -> None:
        super().__init__(message)
        self.reason = reason


class ProcessLocalStoreWarning(UserWarning):
    """A :class:`WebhookApp` was made without ``store=``: its in-memory default
    suppresses duplicate deliveries only within one process (and forgets them on
    restart). Issued once per process; pass a store to silence it."""
