"""The HTTP layer: route specs, the ASGI dispatcher, middleware and the OpenAPI document."""

from ._dispatch import ApiApp
from ._fields import Amount, Body, EmptyBody, ListQuery, Metadata, Query, StellarAddress, Url
from ._middleware import RequestContextMiddleware
from ._openapi import build_openapi
from ._ratelimit import RateLimiter
from ._spec import Call, RouteSpec

__all__ = [
    "Amount",
    "ApiApp",
    "Body",
    "Call",
    "EmptyBody",
    "ListQuery",
    "Metadata",
    "Query",
    "RateLimiter",
    "RequestContextMiddleware",
    "RouteSpec",
    "StellarAddress",
    "Url",
    "build_openapi",
]
