"""Prefixed object ids that sort by creation time, so ``ORDER BY id`` is newest-last."""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["new_id", "new_secret"]

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_SPACE = len(_ALPHABET) ** 10
_lock = threading.Lock()
_last = 0


def _tick() -> int:
    # Microseconds, forced strictly increasing within the process so ids minted in
    # the same microsecond still sort in creation order.
    global _last
    with _lock:
        now = time.time_ns() // 1000
        _last = now if now > _last else _last + 1
        return _last


def new_id(prefix: str) -> str:
    """``{prefix}_`` + 13 hex digits of time + 10 random characters (lowercase, sortable)."""
    # One draw below 36**10 is the same uniform choice as ten secrets.choice() calls,
    # at one urandom read instead of ten (ids are minted per delivery attempt).
    n = secrets.randbelow(_SPACE)
    rand = []
    for _ in range(10):
        n, digit = divmod(n, 36)
        rand.append(_ALPHABET[digit])
    return f"{prefix}_{_tick():013x}{''.join(rand)}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """An unguessable token such as ``sk_test_…``; not time-ordered."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes).replace('-', 'x').replace('_', 'y')}"
