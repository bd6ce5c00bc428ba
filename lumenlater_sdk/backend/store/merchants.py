"""Merchants (their API keys are in :mod:`.api_keys`)."""

from __future__ import annotations

from ..db import Row, Tx
from ._rows import insert_row, update_row

__all__ = [
    "delete_authorization",
    "get_authorization",
    "get_merchant",
    "insert_merchant",
    "is_live",
    "put_authorization",
    "set_embed_origins",
    "set_status",
]


def insert_merchant(
    tx: Tx,
    *,
    merchant_id: str,
    business_name: str,
    status: str,
    seed_encrypted: str,
    livemode: bool,
    created: int,
    custody: str = "managed",
) -> None:
    """Record a merchant (its id is its Stellar address). A ``self`` custody merchant's
    *seed_encrypted* is empty: the backend never has its key."""
    tx.execute(
        "INSERT INTO merchants (id, business_name, status, seed_encrypted, livemode, created,"
        " custody) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (merchant_id, business_name, status, seed_encrypted, int(livemode), created, custody),
    )


def get_merchant(tx: Tx, merchant_id: str, *, lock: bool = False) -> Row | None:
    """The merchant row, or ``None``."""
    return tx.fetchone(
        "SELECT * FROM merchants WHERE id = ?" + (tx.for_update if lock else ""), (merchant_id,)
    )


def is_live(tx: Tx, merchant_id: str) -> bool:
    """Whether the merchant (and so every key of it) is in live mode."""
    return bool(tx.scalar("SELECT livemode FROM merchants WHERE id = ?", (merchant_id,)))


def set_status(tx: Tx, merchant_id: str, status: str) -> None:
    """Record the merchant's status as the chain last reported it."""
    update_row(tx, "merchants", merchant_id, {"status": status})


def put_authorization(tx: Tx, row: Row) -> None:
    """Keep the unsigned ``enroll_merchant`` entry a merchant was handed (replacing an
    earlier one)."""
    delete_authorization(tx, row["merchant_id"])
    insert_row(tx, "merchant_authorizations", row)


def get_authorization(tx: Tx, merchant_id: str) -> Row | None:
    """The enrollment entry *merchant_id* was handed, or ``None``."""
    return tx.fetchone(
        "SELECT * FROM merchant_authorizations WHERE merchant_id = ?", (merchant_id,)
    )


def delete_authorization(tx: Tx, merchant_id: str) -> None:
    """The merchant enrolled (or asked for a new entry): the entry is spent."""
    tx.execute("DELETE FROM merchant_authorizations WHERE merchant_id = ?", (merchant_id,))


def set_embed_origins(tx: Tx, merchant_id: str, origins_json: str) -> None:
    """Record the origins that may embed the merchant's checkout (a JSON list)."""
    update_row(tx, "merchants", merchant_id, {"embed_origins": origins_json})
