"""LumenLater: Buy-Now-Pay-Later on Stellar for merchants.

The client (``LumenLater`` / ``AsyncLumenLater``), the error tree, money helpers
and response models. Webhooks, checkout and the bundled backend live in the
``lumenlater_sdk.webhooks``, ``lumenlater_sdk.checkout`` and
``lumenlater_sdk.backend`` subpackages.
"""

from ._money import usdc
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
    "AuthenticationError",
    "BadRequestError",
    "ChainError",
    "ConflictError",
    "IdempotencyError",
    "InternalServerError",
    "LumenLaterError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "__version__",
    "usdc",
]
