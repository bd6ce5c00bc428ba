"""Contract storage over ``chain_state``, with a write overlay.

Reads go to the database once per key (or to a :class:`StateCache` valid for the
state version the caller found); writes stay in memory until :meth:`Storage.flush`,
so a call the contract refuses half-way writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from ...db import Tx
from ._state_cache import MISSING, StateCache

__all__ = ["Storage", "dumps", "loads"]

_BATCH = 200  # rows per multi-row INSERT, far below both databases' parameter limits


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): Python ints keep every digit."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return json.loads(text)


class Storage:
    """Key-value storage of every contract, seen through one database transaction.

    With a *cache* and the *version* of the state the transaction sees, a key the
    cache knows at that version costs no query.
    """

    def __init__(self, tx: Tx, cache: StateCache | None = None, version: str = "") -> None:
        self._tx = tx
        self._cache = cache
        self._version = version
        self._values: dict[tuple[str, str], Any] = {}
        # Stored text of every key this storage knows (None: unset), as the cache keeps
        # it: text, so no caller can change a cached value by mutating what it was given.
        self._texts: dict[tuple[str, str], str | None] = {}
        self._dirty: set[tuple[str, str]] = set()

    def get(self, contract: str, key: str, default: Any = None) -> Any:
        """The stored value, or *default* if the key was never set."""
        k = (contract, key)
        value = self._values.get(k, MISSING)
        if value is MISSING:
            text = MISSING if self._cache is None else self._cache.get(self._version, k)
            if text is MISSING:
                text = self._tx.scalar(
                    "SELECT value FROM chain_state WHERE contract = ? AND key = ?", (contract, key)
                )
            self._texts[k] = text
            value = None if text is None else loads(text)
            self._values[k] = value
        return default if value is None else value

    def known(self) -> dict[tuple[str, str], str | None]:
        """The stored text of every key read or flushed (what the state now holds)."""
        return self._texts

    def set(self, contract: str, key: str, value: Any) -> None:
        """Set a value (``None`` is not storable: nothing in the contracts needs it)."""
        if value is None:
            raise ValueError("cannot store None")
        self._values[(contract, key)] = value
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
        for c, key in self._dirty:
            if c == contract and key.startswith(prefix):
                found[key] = self._values[(c, key)]
        return found

    def flush(self) -> None:
        """Write every pending change through the transaction (one statement per batch)."""
        keys = sorted(self._dirty)
        for start in range(0, len(keys), _BATCH):
            batch = keys[start : start + _BATCH]
            params: list[Any] = []
            for contract, key in batch:
                text = self._texts[(contract, key)] = dumps(self._values[(contract, key)])
                params += [contract, key, text]
            self._tx.send(
                "INSERT INTO chain_state (contract, key, value) VALUES "
                + ", ".join(["(?, ?, ?)"] * len(batch))
                + " ON CONFLICT (contract, key) DO UPDATE SET value = excluded.value",
                params,
            )
        self._dirty.clear()
