"""Token buckets per API key (in process memory; each process limits its own share)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateDecision", "RateLimiter"]


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


class RateLimiter:
    """``rate`` tokens per second into a bucket of ``burst``; each request takes one.

    ``X-RateLimit-Reset`` is the Unix time at which the bucket is full again.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: str) -> RateDecision:
        """Take a token for *key*."""
        if not self.enabled:
            return RateDecision(True, self.burst, self.burst, int(time.time()), 0)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()
            self._buckets[key] = (tokens, now)
        full_in = (self.burst - tokens) / self.rate
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        return RateDecision(
            allowed, self.burst, int(tokens), math.ceil(time.time() + full_in), retry
        )
