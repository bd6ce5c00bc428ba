"""Prefixed object ids that sort by creation time, so ``ORDER BY id`` is newest-last."""

from __future__ import annotations

import os
import secrets
import threading
import time

__all__ = ["new_id", "new_secret"]

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_BYTE_TO_CHAR = bytes(ord(_ALPHABET[b % 36]) for b in range(256))
_OVER = bytes(range(252, 256))  # 256 is no multiple of 36: bytes from 252 are dropped
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
    # Each random byte below 252 (= 7 * 36) names one of the 36 characters uniformly,
    # and translate() maps and drops the rest in one C call: ten independent uniform
    # characters from one urandom read, without ten divmods in Python (ids are minted
    # several per request and per delivery attempt). Sixteen bytes leave fewer than
    # ten about once in 4e8 draws (2.3e-9); then it draws more.
    rand = b""
    while len(rand) < 10:
        rand += os.urandom(16).translate(_BYTE_TO_CHAR, _OVER)
    return f"{prefix}_{_tick():013x}{rand[:10].decode()}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """An unguessable token such as ``sk_test_…``; not time-ordered."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes).replace('-', 'x').replace('_', 'y')}"
