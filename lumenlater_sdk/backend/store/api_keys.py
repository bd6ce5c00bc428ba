"""API keys: stored by hash (test keys also sealed), listed, rolled, revoked."""

from __future__ import annotations

from ..db import Row, Tx
from ..paging import Page, PageRequest
from ._pagination import fetch_page

__all__ = [
    "count_lasting_secret_keys",
    "find_key",
    "get_key",
    "insert_key",
    "list_keys",
    "merchant_keys",
    "revoke_key",
    "set_expiry",
]

_COLUMNS = (
    "id, merchant_id, kind, livemode, hint, name, created, expires_at, revoked_at, sealed_key"
)


def insert_key(
    tx: Tx,
    *,
    key_id: str,
    merchant_id: str,
    kind: str,
    livemode: bool,
    key_hash: str,
    hint: str,
    created: int,
    name: str | None = None,
    sealed_key: str | None = None,
) -> None:
    """Store an API key by its hash, and sealed too when *sealed_key* is given (test
    keys, which may be shown again)."""
    tx.execute(
        "INSERT INTO api_keys (id, merchant_id, kind, livemode, key_hash, hint, created, name,"
        " sealed_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key_id, merchant_id, kind, int(livemode), key_hash, hint, created, name, sealed_key),
    )


def find_key(tx: Tx, key_hash: str) -> Row | None:
    """The key row whose hash is *key_hash* (authentication), or ``None``."""
    return tx.fetchone(
        "SELECT id, merchant_id, kind, livemode, key_hash, expires_at, revoked_at"
        " FROM api_keys WHERE key_hash = ?",
        (key_hash,),
    )


def get_key(tx: Tx, merchant_id: str, key_id: str, *, lock: bool = False) -> Row | None:
    """One of the merchant's keys (never another merchant's), or ``None``."""
    return tx.fetchone(
        f"SELECT {_COLUMNS} FROM api_keys WHERE id = ? AND merchant_id = ?"
        + (tx.for_update if lock else ""),
        (key_id, merchant_id),
    )


def list_keys(tx: Tx, merchant_id: str, page: PageRequest) -> Page:
    """The merchant's keys, newest first."""
    return fetch_page(tx, "api_keys", ["merchant_id = ?"], [merchant_id], page, columns=_COLUMNS)


def merchant_keys(tx: Tx, merchant_id: str) -> list[Row]:
    """Every key of the merchant, oldest first (the CLI's ``lumenlater keys``)."""
    return tx.fetchall(
        f"SELECT {_COLUMNS} FROM api_keys WHERE merchant_id = ? ORDER BY id", (merchant_id,)
    )


def count_lasting_secret_keys(tx: Tx, merchant_id: str, livemode: bool) -> int:
    """How many of the merchant's secret keys of this mode are neither revoked nor set to
    expire."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM api_keys WHERE merchant_id = ? AND livemode = ?"
            " AND kind = 'secret' AND revoked_at IS NULL AND expires_at IS NULL",
            (merchant_id, int(livemode)),
        )
        or 0
    )


def set_expiry(tx: Tx, key_id: str, expires_at: int) -> None:
    """Make the key stop working at *expires_at* (Unix seconds)."""
    tx.execute("UPDATE api_keys SET expires_at = ? WHERE id = ?", (expires_at, key_id))


def revoke_key(tx: Tx, key_id: str, revoked_at: int) -> None:
    """Revoke the key for good: it stops working and its sealed copy is erased."""
    tx.execute(
        "UPDATE api_keys SET revoked_at = ?, sealed_key = NULL WHERE id = ? AND revoked_at IS NULL",
        (revoked_at, key_id),
    )
