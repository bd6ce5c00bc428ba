"""Sandbox test wallets (funded customers). Built-in ones have no merchant."""

from __future__ import annotations

from ..db import Row, Tx

__all__ = [
    "builtin_wallet_id",
    "customer_wallet",
    "find_wallet",
    "insert_wallet",
    "list_wallets",
]


def insert_wallet(
    tx: Tx,
    *,
    wallet_id: str,
    merchant_id: str | None,
    name: str,
    address: str,
    seed_encrypted: str,
    created: int,
) -> None:
    """Record a wallet."""
    tx.execute(
        "INSERT INTO wallets (id, merchant_id, name, address, seed_encrypted, created)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (wallet_id, merchant_id, name, address, seed_encrypted, created),
    )


def find_wallet(tx: Tx, merchant_id: str, ref: str) -> Row | None:
    """A wallet visible to the merchant, by id or by name (its own before built-ins)."""
    return tx.fetchone(
        "SELECT * FROM wallets WHERE (merchant_id = ? OR merchant_id IS NULL)"
        " AND (id = ? OR name = ?) ORDER BY merchant_id IS NULL, id DESC LIMIT 1",
        (merchant_id, ref, ref),
    )


def builtin_wallet_id(tx: Tx, name: str) -> str | None:
    """The id of the built-in (merchant-less) wallet called *name*, or ``None``."""
    value = tx.scalar("SELECT id FROM wallets WHERE merchant_id IS NULL AND name = ?", (name,))
    return None if value is None else str(value)


def customer_wallet(tx: Tx, merchant_id: str, address: str) -> Row | None:
    """A wallet visible to the merchant whose address is *address*, or ``None``."""
    return tx.fetchone(
        "SELECT * FROM wallets WHERE address = ? AND (merchant_id = ? OR merchant_id IS NULL)",
        (address, merchant_id),
    )


def list_wallets(tx: Tx, merchant_id: str) -> list[Row]:
    """Built-in wallets first, then the merchant's own, oldest first."""
    return tx.fetchall(
        "SELECT * FROM wallets WHERE merchant_id = ? OR merchant_id IS NULL"
        " ORDER BY merchant_id IS NOT NULL, id",
        (merchant_id,),
    )
