"""Who may call a route: the rate limit and the API key, and what the key may reach."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import anyio.to_thread
from starlette.types import Scope

from .._crypto import hash_key
from ..services.api_keys import KeyRefused, authenticate, expired_message
from ..services.context import Principal, ServiceContext
from ._errors import ApiError, response_headers
from ._ratelimit import RateLimiter, address_bucket
from ._spec import RouteSpec

__all__ = ["Gate"]


KEY_CACHE_SECONDS = 2.0
"""How long a process trusts a key it authenticated before looking it up again: the
longest a key revoked (or rolled to expire now) by *another* process sharing the
database keeps working here. The process that revoked it refuses it at once."""


class _KeyCache:
    """API key hash → :class:`Principal` of keys that authenticated.

    An entry holds for :data:`KEY_CACHE_SECONDS`, and only while this process changed
    no key since (the context's :class:`~lumenlater_sdk.backend.services.context.KeyEpoch`);
    a rolled key's ``expires_at`` is checked on every use. Bounded (least recently added
    first out), as merchants (and their keys) can be many.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float, int]] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key_hash: str, epoch: int) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        principal, until, seen = entry
        if seen != epoch or time.monotonic() >= until:
            return None
        return principal

    def put(self, key_hash: str, principal: Principal, epoch: int) -> None:
        with self._lock:
            self._entries[key_hash] = (principal, time.monotonic() + KEY_CACHE_SECONDS, epoch)
            self._entries.move_to_end(key_hash)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)


class Gate:
    """Rate-limits and authenticates.

    A request with a key that authenticated takes from that key's bucket; one without a
    key (or on a route without keys) from its client address's bucket; one with an
    unknown key first needs a token left in its address's bucket of failed
    authentications (refused with 429 before the database is asked), and takes one
    when the key fails. So a flood of guessed keys is throttled by address, and never
    touches another address's or another key's limit. Routes marked
    ``throttled=False`` (health, metrics, static files) are not limited at all, so an
    anonymous flood cannot take them down with it. A key seen before costs no database
    round trip.
    """

    def __init__(self, ctx: ServiceContext, limiter: RateLimiter) -> None:
        self.ctx = ctx
        self.limiter = limiter
        self._keys = _KeyCache()

    async def admit(
        self, spec: RouteSpec, headers: dict[str, str], scope: Scope
    ) -> Principal | None:
        """The caller of *spec*, or an :class:`ApiError` that says why not."""
        if spec.auth == "none":
            if spec.throttled:
                await self._take(scope, address_bucket(scope))
            return None
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            await self._take(scope, address_bucket(scope))
            raise ApiError(
                401,
                "authentication_error",
                "api_key_missing",
                "No API key provided: send Authorization: Bearer sk_test_…",
            )
        key_hash = hash_key(token)
        epoch = self.ctx.key_epoch.value
        principal = self._keys.get(key_hash, epoch)
        if principal is None:
            # The address's bucket only counts failed keys: a key seen before needs none.
            principal = await self._authenticate(scope, address_bucket(scope), token)
            self._keys.put(key_hash, principal, epoch)
        elif principal.expires_at is not None and principal.expires_at <= self.ctx.config.clock():
            raise ApiError(
                401,
                "authentication_error",
                "api_key_expired",
                expired_message(principal.expires_at),
            )
        scope["lumenlater.principal"] = principal  # for the request log (middleware)
        await self._take(scope, "key:" + key_hash)
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

    async def _authenticate(self, scope: Scope, address: str, token: str) -> Principal:
        left = await self.limiter.may_try_key(address)
        if not left.allowed:
            response_headers(scope).extend(left.headers())
            raise _too_many("Too many failed authentications from this address; slow down.")
        try:
            principal = await anyio.to_thread.run_sync(authenticate, self.ctx, token)
        except KeyRefused as exc:  # revoked or expired: a failed authentication all the same
            response_headers(scope).extend((await self.limiter.failed(address)).headers())
            raise ApiError(401, "authentication_error", exc.code, exc.message) from None
        if principal is None:
            response_headers(scope).extend((await self.limiter.failed(address)).headers())
            raise ApiError(401, "authentication_error", "api_key_invalid", "Invalid API key.")
        return principal

    async def _take(self, scope: Scope, bucket: str) -> None:
        decision = await self.limiter.take(bucket)
        response_headers(scope).extend(decision.headers())
        if not decision.allowed:
            raise _too_many("Too many requests; slow down.")


def _too_many(message: str) -> ApiError:
    return ApiError(429, "rate_limit_error", "rate_limited", message)
