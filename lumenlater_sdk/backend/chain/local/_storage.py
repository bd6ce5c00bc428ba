"""Contract storage over ``chain_state``, with a write overlay.

Reads look at the writes of earlier calls of the same transaction that wait in its
:class:`~._ledger_hold.LedgerHold`, then at a :class:`StateCache` valid for the state
version the caller found, then at the database (once per key); a call's writes stay
here until :meth:`Storage.written` hands them to the hold, so a call the contract
refuses half-way writes nothing.

Values are JSON data (ints, strings, flat dicts and lists). Storage keeps its own
copy of each, in the form a read of its stored text gives, and hands out copies: no
contract can change a stored, held or cached value by mutating what it got or set,
so the parsed values themselves are shared with the hold and the cache (no re-parse
per call).
"""

from __future__ import annotations

from typing import Any

from ...db import Tx
from ._json import dumps, loads
from ._ledger_hold import held
from ._state_cache import MISSING, StateCache

__all__ = ["Storage", "dumps", "loads"]

Key = tuple[str, str]


def _stored(value: Any) -> Any:
    """A copy of *value* as ``loads(dumps(value))`` gives it, without the text."""
    kind = type(value)
    if kind is int or kind is str or kind is bool:
        return value
    if kind is dict:
        if all(type(k) is str for k in value):
            return {k: _stored(v) for k, v in value.items()}
    elif kind is list or kind is tuple:
        return [_stored(v) for v in value]
    return loads(dumps(value))  # anything else (floats, non-string keys): as stored


def _clone(value: Any) -> Any:
    """A copy of a stored value (JSON data already): scalars as they are, containers
    copied down to their scalars."""
    kind = type(value)
    if kind is dict:
        out = value.copy()
        for k, v in value.items():
            if type(v) in _CONTAINERS:
                out[k] = _clone(v)
        return out
    if kind is list:
        return [_clone(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = (dict, list)


class Storage:
    """Key-value storage of every contract, seen through one database transaction.

    With a *cache* and the *version* of the state the transaction sees, a key the
    cache knows at that version costs no query.
    """

    def __init__(self, tx: Tx, cache: StateCache | None = None, version: str = "") -> None:
        self._tx = tx
        self._cache = cache
        self._version = version
        self._held = held(tx).state
        # Every key this storage knows (None: unset), as read or as set: its own copies,
        # never handed out (see the module's docstring).
        self._values: dict[Key, Any] = {}
        self._dirty: set[Key] = set()

    def get(self, contract: str, key: str, default: Any = None) -> Any:
        """The stored value (a copy), or *default* if the key was never set."""
        k = (contract, key)
        value = self._values.get(k, MISSING)
        if value is MISSING:
            value = self._held.get(k, MISSING)
            if value is MISSING and self._cache is not None:
                value = self._cache.get(self._version, k)
            if value is MISSING:
                text = self._tx.scalar(
                    "SELECT value FROM chain_state WHERE contract = ? AND key = ?", (contract, key)
                )
                value = None if text is None else loads(text)
            self._values[k] = value
        return default if value is None else _clone(value)

    def known(self) -> dict[Key, Any]:
        """Every key read or written, with its value (``None``: unset): what the state
        holds once the call's writes are kept. The values are not to be mutated."""
        return self._values

    def set(self, contract: str, key: str, value: Any) -> None:
        """Set a value (``None`` is not storable: nothing in the contracts needs it)."""
        if value is None:
            raise ValueError("cannot store None")
        self._values[(contract, key)] = _stored(value)
        self._dirty.add((contract, key))

    def scan(self, contract: str, prefix: str) -> dict[str, Any]:
        """Every key of *contract* starting with *prefix*, with pending writes applied."""
        # LIKE rather than a key range: a range depends on the collation. "_" in a
        # prefix is a LIKE wildcard, hence the exact startswith filter after it.
        rows = self._tx.fetchall(
            "SELECT key, value FROM chain_state WHERE contract = ? AND key LIKE ?",
            (contract, prefix.replace("%", "") + "%"),
        )
        found = {r["key"]: loads(r["value"]) for r in rows if r["key"].startswith(prefix)}
        for pending in (self._held, {k: self._values[k] for k in self._dirty}):
            for (c, key), value in pending.items():
                if c == contract and key.startswith(prefix):
                    found[key] = _clone(value)
        return found

    def written(self) -> dict[Key, Any]:
        """The call's writes, by key (values not to be mutated); none are pending after."""
        out = {k: self._values[k] for k in self._dirty}
        self._dirty.clear()
        return out
