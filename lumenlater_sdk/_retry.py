"""Retry decisions and backoff (DESIGN §5), free of I/O and shared by both clients.

Retried: connection errors, timeouts, 408, 409 ``idempotency_key_in_use``, 429,
500, 502, 503, 504 and any ``chain_error``; never another 4xx. The wait is
``0.5 s * 2**n`` capped at 8 s with jitter, unless the server sent ``Retry-After``
(seconds or an HTTP date), which is honoured up to 60 s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

__all__ = [
    "INITIAL_DELAY",
    "MAX_DELAY",
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUSES",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
    "retry_delay",
]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
# Jitter only shortens a wait (by up to this fraction) so the 8 s cap stays a cap.
JITTER = 0.25

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_retryable(status: int, error_type: str | None, error_code: str | None) -> bool:
    """Whether an error answer may be retried safely."""
    if status in RETRYABLE_STATUSES or error_type == "chain_error":
        return True
    return status == 409 and error_code == "idempotency_key_in_use"


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds from a delta-seconds or HTTP-date value; ``None`` if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


_JITTER_RANDOM = random.Random()
# A private generator: a retry's jitter must not move the application's global
# ``random`` state (a caller that seeds it for reproducible runs keeps them).


def backoff_delay(retry_index: int, rand: Callable[[], float] = _JITTER_RANDOM.random) -> float:
    """Exponential backoff with jitter for the *retry_index*-th retry (0-based)."""
    base = min(INITIAL_DELAY * (2.0 ** min(retry_index, 32)), MAX_DELAY)
    return base * (1.0 - JITTER * rand())


def retry_delay(
    retry_index: int,
    headers: Mapping[str, str] | None,
    rand: Callable[[], float] = _JITTER_RANDOM.random,
) -> float:
    """How long to wait before the next attempt: the server's hint if any, else backoff."""
    if headers is not None:
        hint = parse_retry_after(headers.get("retry-after"))
        if hint is not None:
            return min(hint, MAX_RETRY_AFTER)
    return backoff_delay(retry_index, rand)
