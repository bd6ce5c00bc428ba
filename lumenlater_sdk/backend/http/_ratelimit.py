"""Rate limits: token buckets per API key, per client address, and per address for
failed keys.

Buckets live in process memory unless a shared store is given (Redis, see
``_ratestore``): then every backend process takes from the same buckets. A bucket that
has refilled is the same as no bucket, so each is dropped on its own once it is full
again (no periodic clear-all that would hand every caller a fresh burst).
"""

from __future__ import annotations

import abc
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Limit",
    "MemoryBuckets",
    "RateDecision",
    "RateLimiter",
    "RateStore",
    "address_bucket",
]


_BUCKETS: dict[str, str] = {}
_BUCKETS_KEPT = 4096


def address_bucket(scope: Mapping[str, Any]) -> str:
    """The bucket of a request's client address: the IPv4 address, or the IPv6 /64
    (one host's usual allocation, whose 2**64 addresses would otherwise be as many
    fresh buckets)."""
    host = str((scope.get("client") or ("?",))[0])
    # A pure function of the text: remembered, as parsing an address costs more than
    # the rest of a cached key's admission (a flood of addresses only refills it).
    bucket = _BUCKETS.get(host)
    if bucket is None:
        if len(_BUCKETS) >= _BUCKETS_KEPT:
            _BUCKETS.clear()
        bucket = _BUCKETS[host] = _bucket_of(host)
    return bucket


def _bucket_of(host: str) -> str:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a Unix socket, a test client: as given
        return "ip:" + host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"ip:{ip}"


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may pass, and the ``X-RateLimit-*`` / ``Retry-After`` values."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The headers every response carries (plus ``Retry-After`` when refused)."""
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after).encode()))
        return out


@dataclass(frozen=True)
class Limit:
    """``rate`` tokens per second into a bucket of ``burst``; ``name`` keeps the buckets
    of different limits apart in a shared store."""

    name: str
    rate: float
    burst: int

    @property
    def refill_seconds(self) -> float:
        """How long an empty bucket takes to be full again."""
        return self.burst / self.rate


class RateStore(abc.ABC):
    """Where buckets are kept."""

    @abc.abstractmethod
    async def take(self, limit: Limit, key: str) -> RateDecision:
        """Take a token from *key*'s bucket of *limit* (refused when it has none)."""

    @abc.abstractmethod
    async def peek(self, limit: Limit, key: str) -> RateDecision:
        """Whether *key*'s bucket of *limit* has a token, without taking it."""

    def close(self) -> None:  # noqa: B027 - a store with nothing to close needs no override
        """Release connections (memory has none)."""


class MemoryBuckets(RateStore):
    """Buckets in this process's memory: each process limits its own share.

    Each limit's buckets are kept in order of last use, and the least recently used
    are dropped as soon as they have refilled (a full bucket is the same as none): a
    bucket untouched for a limit's ``refill_seconds`` is gone, so memory holds the
    callers of the last few seconds only. ``max_keys`` bounds it under a flood of
    distinct callers by dropping the least recently used bucket of that limit even
    before it refilled.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        # limit name -> key -> (tokens, last use, when full again)
        self._limits: dict[str, OrderedDict[str, tuple[float, float, float]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(buckets) for buckets in self._limits.values())

    async def take(self, limit: Limit, key: str) -> RateDecision:
        return self.decide(limit, key, take=True)

    async def peek(self, limit: Limit, key: str) -> RateDecision:
        return self.decide(limit, key, take=False)

    def decide(self, limit: Limit, key: str, *, take: bool) -> RateDecision:
        """The synchronous :meth:`take` / :meth:`peek` (no I/O, so callable anywhere)."""
        now = self._clock()
        with self._lock:
            buckets = self._limits.setdefault(limit.name, OrderedDict())
            _expire(buckets, now)
            tokens, last, _ = buckets.pop(key, (float(limit.burst), now, 0.0))
            tokens = min(float(limit.burst), tokens + (now - last) * limit.rate)
            allowed = tokens >= 1.0
            if allowed and take:
                tokens -= 1.0
            full_at = now + (limit.burst - tokens) / limit.rate
            if tokens < limit.burst:  # a full bucket needs no entry
                buckets[key] = (tokens, now, full_at)
                while len(buckets) > self._max_keys:
                    buckets.popitem(last=False)
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / limit.rate))
        reset = math.ceil(time.time() + (full_at - now))
        return RateDecision(allowed, limit.burst, int(tokens), reset, retry)


def _expire(buckets: OrderedDict[str, tuple[float, float, float]], now: float) -> None:
    # Least recently used first, up to the first not yet full: each is full at the
    # latest refill_seconds after its last use, so none older than that survives.
    while buckets:
        key, (_, _, full_at) = next(iter(buckets.items()))
        if full_at > now:
            return
        del buckets[key]


class RateLimiter:
    """The backend's limits: ``rate``/``burst`` for every request (by key once the key
    authenticated, by client address before), and ``failure_rate``/``failure_burst``
    for the failed authentications of one client address (guessing keys).

    *store* keeps the buckets (default: this process's memory). ``enabled=False``
    lets everything through.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        enabled: bool = True,
        failure_rate: float = 0.2,
        failure_burst: int = 10,
        store: RateStore | None = None,
    ) -> None:
        self.requests = Limit("req", rate, burst)
        self.failures = Limit("authfail", failure_rate, failure_burst)
        self.enabled = enabled
        self.store: RateStore = store or MemoryBuckets()

    async def take(self, bucket: str) -> RateDecision:
        """Take a request token from *bucket* (``key:…`` or ``ip:…``)."""
        if not self.enabled:
            return _open(self.requests)
        return await self.store.take(self.requests, bucket)

    async def may_try_key(self, address: str) -> RateDecision:
        """Whether *address* may still present an unknown key (its failures left)."""
        if not self.enabled:
            return _open(self.failures)
        return await self.store.peek(self.failures, address)

    async def failed(self, address: str) -> RateDecision:
        """Count a failed authentication from *address*."""
        if not self.enabled:
            return _open(self.failures)
        return await self.store.take(self.failures, address)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def _open(limit: Limit) -> RateDecision:
    return RateDecision(True, limit.burst, limit.burst, int(time.time()), 0)
