"""Rate-limit buckets shared by several backend processes, in Redis through ``limits``.

Each bucket becomes a moving window: at most ``burst`` requests in any
``burst / rate`` seconds (``limits``' Lua scripts make each take atomic), kept under a
key that Redis expires on its own once the window has passed. If Redis stops
answering, requests are limited by this process's memory (logged), rather than all
refused or all kept waiting: for ``retry_after`` seconds no request asks Redis, then
the next one tries again.
"""

from __future__ import annotations

import logging
import math
import time

from ._ratelimit import Limit, MemoryBuckets, RateDecision, RateStore

__all__ = ["RedisBuckets", "rate_store"]

log = logging.getLogger("lumenlater.backend")

_SCHEMES = ("redis://", "rediss://")
_WARN_EVERY = 30.0


def rate_store(url: str | None, *, connect_timeout: float = 2.0) -> RateStore | None:
    """The store a ``rate_limit_store`` URL names (``None``: this process's memory).

    ``ValueError`` for a URL that is not ``redis://`` / ``rediss://``, for a missing
    ``limits`` package and for a server that does not answer within *connect_timeout*.
    """
    if not url:
        return None
    if not url.startswith(_SCHEMES):
        raise ValueError("rate_limit_store must be a redis:// or rediss:// URL")
    return RedisBuckets(url, connect_timeout=connect_timeout)


class RedisBuckets(RateStore):
    """Buckets in the Redis at *url*, shared by every process configured with it."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 2.0,
        prefix: str = "lumenlater-rl",
        retry_after: float = 5.0,
    ):
        try:
            import redis
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import MovingWindowRateLimiter
        except ImportError:
            raise ValueError(
                "rate_limit_store needs the limits and redis packages: "
                "pip install 'lumenlater-sdk[ratelimit]'"
            ) from None
        where = url.split("@")[-1]  # never the password
        probe = redis.Redis.from_url(url, socket_connect_timeout=connect_timeout)
        try:
            probe.ping()
        except redis.RedisError as exc:
            raise ValueError(f"rate-limit store {where} does not answer: {exc}") from None
        finally:
            probe.close()
        self._where = where
        self._storage = RedisStorage(
            "async+" + url,
            implementation="redispy",
            key_prefix=prefix,
            socket_connect_timeout=connect_timeout,
            socket_timeout=connect_timeout,
        )
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._fallback = MemoryBuckets()
        self._warned = -_WARN_EVERY
        self._retry_after = retry_after
        self._down_until = 0.0

    async def take(self, limit: Limit, key: str) -> RateDecision:
        return await self._decide(limit, key, take=True)

    async def peek(self, limit: Limit, key: str) -> RateDecision:
        return await self._decide(limit, key, take=False)

    async def _decide(self, limit: Limit, key: str, *, take: bool) -> RateDecision:
        from limits import RateLimitItemPerSecond

        if time.monotonic() < self._down_until:
            return self._fallback.decide(limit, key, take=take)
        item = RateLimitItemPerSecond(limit.burst, max(1, round(limit.refill_seconds)))
        try:
            if take:
                allowed = await self._strategy.hit(item, limit.name, key)
            else:
                allowed = await self._strategy.test(item, limit.name, key)
            stats = await self._strategy.get_window_stats(item, limit.name, key)
        except Exception as exc:  # any failure of the store: limit locally meanwhile
            self._down_until = time.monotonic() + self._retry_after
            self._warn(exc)
            return self._fallback.decide(limit, key, take=take)
        now = time.time()
        retry = 0 if allowed else max(1, math.ceil(stats.reset_time - now))
        return RateDecision(
            allowed, limit.burst, stats.remaining, math.ceil(stats.reset_time), retry
        )

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            log.warning(
                "rate-limit store unreachable; limiting in this process meanwhile",
                extra={"fields": {"store": self._where, "error": type(exc).__name__}},
            )
