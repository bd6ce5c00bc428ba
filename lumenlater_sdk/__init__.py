"""LumenLater: Buy-Now-Pay-Later on Stellar for merchants.

The client (``LumenLater`` / ``AsyncLumenLater``), the error tree, money helpers
and response models. Webhooks, checkout and the bundled backend live in the
``lumenlater_sdk.webhooks``, ``lumenlater_sdk.checkout`` and
``lumenlater_sdk.backend`` subpackages.
"""

from ._client import AsyncLumenLater, LumenLater
from ._money import format_usdc, usdc
from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._version import API_VERSION, __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    AuthorizationMismatchError,
    AuthorizationRequiredError,
    BadRequestError,
    ChainError,
    ConflictError,
    IdempotencyError,
    InternalServerError,
    LumenLaterError,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SignerMismatchError,
)

__all__ = [
    "API_VERSION",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncLumenLater",
    "AsyncPage",
    "AsyncPaginator",
    "AuthenticationError",
    "AuthorizationError",
    "AuthorizationMismatchError",
    "AuthorizationRequiredError",
    "BadRequestError",
    "ChainError",
    "ConflictError",
    "IdempotencyError",
    "InternalServerError",
    "LumenLater",
    "LumenLaterError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SignerMismatchError",
    "SyncPage",
    "__version__",
    "format_usdc",
    "usdc",
]
