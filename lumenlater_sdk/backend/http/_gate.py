"""Who may call a route: the rate limit first, then the API key and what it may reach."""

from __future__ import annotations

import threading

import anyio.to_thread
from starlette.types import Scope

from .._crypto import hash_key
from ..services.context import Principal, ServiceContext
from ..services.merchants import authenticate
from ._errors import ApiError, response_headers
from ._ratelimit import RateLimiter
from ._spec import RouteSpec

__all__ = ["Gate"]


class _KeyCache:
    """API key hash → :class:`Principal` of keys that authenticated.

    Keys are never revoked through the API, so an entry stays valid; bounded all the
    same, as merchants (and their keys) can be many.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: dict[str, Principal] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Principal | None:
        return self._entries.get(key_hash)

    def put(self, key_hash: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[key_hash] = principal


class Gate:
    """Rate-limits by API key (or client address without one) and authenticates.

    A key seen before costs no database round trip.
    """

    def __init__(self, ctx: ServiceContext, limiter: RateLimiter) -> None:
        self.ctx = ctx
        self.limiter = limiter
        self._keys = _KeyCache()

    async def admit(
        self, spec: RouteSpec, headers: dict[str, str], scope: Scope
    ) -> Principal | None:
        """The caller of *spec*, or an :class:`ApiError` that says why not."""
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        bucket = hash_key(token) if token else "ip:" + str((scope.get("client") or ("?",))[0])
        decision = self.limiter.take(bucket)
        response_headers(scope).extend(decision.headers())
        if not decision.allowed:
            raise ApiError(429, "rate_limit_error", "rate_limited", "Too many requests; slow down.")
        if spec.auth == "none":
            return None
        if not token:
            raise ApiError(
                401,
                "authentication_error",
                "api_key_missing",
                "No API key provided: send Authorization: Bearer sk_test_…",
            )
        principal = self._keys.get(bucket)
        if principal is None:
            principal = await anyio.to_thread.run_sync(authenticate, self.ctx, token)
            if principal is None:
                raise ApiError(401, "authentication_error", "api_key_invalid", "Invalid API key.")
            self._keys.put(bucket, principal)
        # Allow-list: a secret route takes exactly a secret key, whatever else a key's
        # kind might ever be; publishable routes take either kind.
        if spec.auth == "secret" and principal.kind != "secret":
            raise ApiError(
                403,
                "permission_error",
                "secret_key_required",
                "Publishable keys can only read a checkout session by its client_secret.",
            )
        if spec.test_only and principal.livemode:
            raise ApiError(
                404,
                "invalid_request_error",
                "route_not_found",
                "Test helpers are not available in live mode.",
            )
        return principal
