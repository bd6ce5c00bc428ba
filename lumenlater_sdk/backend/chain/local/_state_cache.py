"""Contract state kept in memory between calls, valid for one state version.

Every call that changes contract state writes a new ``state_version`` (never used
before by any process) into the ``chain_ledger`` row it holds locked. A process that
saw the state at version *V* may answer reads of a transaction that finds *V* in that
row from memory, with no round trip: no other writer can have changed a key since, in
this process or another one sharing the database.

A writer publishes the values it read and wrote under the version it is about to
commit, before the commit. If the transaction rolls back, the database keeps the
old version, which no longer matches, so the next reader finds nothing here and
reads the database; versions never repeat (a random prefix per process, a counter),
so no other writer can commit a matching one. The cache is bounded (least recently
used keys go first), so its size does not grow with the history of bills.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "StateCache", "new_version"]

MISSING: Any = object()
"""What :meth:`StateCache.get` returns for a key it cannot answer."""

Key = tuple[str, str]


def new_version() -> str:
    """A state version no other writer will choose: this process's random prefix (drawn
    again in a forked child) and a counter, without a system call per version."""
    return f"{_prefix}{next(_counter):x}"


def _draw() -> None:
    global _prefix, _counter
    _prefix = secrets.token_hex(8)
    _counter = itertools.count()


_prefix = ""
_counter = itertools.count()
_draw()
os.register_at_fork(after_in_child=_draw)


class StateCache:
    """Thread-safe, bounded map of ``(contract, key)`` to stored value (``None`` = unset)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._max = max_keys
        self._lock = threading.Lock()
        self._version: str | None = None
        self._values: OrderedDict[Key, Any] = OrderedDict()

    @property
    def version(self) -> str | None:
        """The state version the values belong to (``None`` before the first publish)."""
        return self._version

    def get(self, version: str, key: Key) -> Any:
        """The value of *key* at *version*, or :data:`MISSING`."""
        with self._lock:
            if version != self._version:
                return MISSING
            value = self._values.get(key, MISSING)
            if value is not MISSING:
                self._values.move_to_end(key)
            return value

    def remember(self, version: str, values: Mapping[Key, Any]) -> None:
        """A read-only call saw *values* at *version*: kept if the cache holds *version*
        (a writer publishes its version before it commits, so a read that raced with a
        commit finds the cache moved on, and keeps nothing)."""
        with self._lock:
            if version != self._version:
                return
            for key, value in values.items():
                self._values[key] = value
                self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)

    def publish(self, base: str, version: str, values: Mapping[Key, Any]) -> None:
        """After a call at *base* computed *values* (what it read and wrote), the state at
        *version* has them; what was known at *base* and not touched is still true."""
        with self._lock:
            if self._version != base:
                self._values.clear()
            self._version = version
            for key, value in values.items():
                self._values[key] = value
                self._values.move_to_end(key)
            while len(self._values) > self._max:
                self._values.popitem(last=False)
