"""LumenLater: Buy-Now-Pay-Later on Stellar for merchants.

The client (``LumenLater`` / ``AsyncLumenLater``), the error tree, money helpers
and response models. Webhooks, checkout and the bundled backend live in the
``lumenlater_sdk.webhooks``, ``lumenlater_sdk.checkout`` and
``lumenlater_sdk.backend`` subpackages.
"""

from ._client import AsyncLumenLater, LumenLater
from ._money import usdc
from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._version import API_VERSION, __version__
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChainError,
    ConflictError,
    IdempotencyError,
    InternalServerError,
    LumenLaterError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
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
    "BadRequestError",
    "ChainError",
    "ConflictError",
    "IdempotencyError",
    "InternalServerError",
    "LumenLater",
    "LumenLaterError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SyncPage",
    "__version__",
    "usdc",
]
