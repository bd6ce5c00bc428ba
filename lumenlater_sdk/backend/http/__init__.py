"""The HTTP layer: route specs, the adapter that serves them on Starlette, middleware,
the error envelope and the OpenAPI document."""

from ._cors import CorsMiddleware
from ._endpoint import SpecEndpoint, routes_for
from ._errors import EXCEPTION_HANDLERS, ApiError, service_error_body
from ._fields import (
    Amount,
    Body,
    Currency,
    EmbedOrigins,
    EmptyBody,
    ListQuery,
    Metadata,
    MetadataChanges,
    Query,
    ShortText,
    StellarAddress,
    Url,
)
from ._gate import Gate
from ._middleware import RequestContextMiddleware
from ._openapi import build_openapi
from ._ratelimit import Limit, MemoryBuckets, RateLimiter
from ._ratestore import rate_store
from ._spec import CHAIN_ERRORS, SANDBOX_ERRORS, Call, RouteSpec

__all__ = [
    "CHAIN_ERRORS",
    "EXCEPTION_HANDLERS",
    "SANDBOX_ERRORS",
    "Amount",
    "ApiError",
    "Body",
    "Call",
    "CorsMiddleware",
    "Currency",
    "EmbedOrigins",
    "EmptyBody",
    "Gate",
    "Limit",
    "ListQuery",
    "MemoryBuckets",
    "Metadata",
    "MetadataChanges",
    "Query",
    "RateLimiter",
    "RequestContextMiddleware",
    "RouteSpec",
    "ShortText",
    "SpecEndpoint",
    "StellarAddress",
    "Url",
    "build_openapi",
    "rate_store",
    "routes_for",
    "service_error_body",
]
