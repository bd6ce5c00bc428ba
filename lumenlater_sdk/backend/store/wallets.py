"""Sandbox test wallets (funded customers). Built-in ones have no merchant."""

from __future__ import annotations

from ..db import Row, Tx

__all__ = [
    "builtin_wallet_id",
    "customer_wallet",
    "delete_prepared",
    "find_wallet",
    "get_prepared",
    "insert_wallet",
    "list_wallets",
    "put_prepared",
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
    external: bool = False,
) -> None:
    """Record a wallet: an *external* one signs for itself (``seed_encrypted`` is empty)."""
    tx.execute(
        "INSERT INTO wallets (id, merchant_id, name, address, seed_encrypted, created, external)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (wallet_id, merchant_id, name, address, seed_encrypted, created, int(external)),
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


_PREPARED_COLUMNS = (
    "session_id",
    "bill_id",
    "xdr",
    "hash",
    "network_passphrase",
    "source",
    "contract",
    "contract_id",
    "function",
    "sequence",
    "fee",
    "max_time",
    "created",
)


def put_prepared(tx: Tx, row: Row) -> None:
    """Keep the transaction prepared for a session's shopper (replacing an earlier one)."""
    tx.execute("DELETE FROM prepared_transactions WHERE session_id = ?", (row["session_id"],))
    tx.execute(
        f"INSERT INTO prepared_transactions ({', '.join(_PREPARED_COLUMNS)})"
        f" VALUES ({', '.join('?' for _ in _PREPARED_COLUMNS)})",
        tuple(row[c] for c in _PREPARED_COLUMNS),
    )


def get_prepared(tx: Tx, session_id: str) -> Row | None:
    """The transaction last prepared for the session's shopper, or ``None``."""
    return tx.fetchone("SELECT * FROM prepared_transactions WHERE session_id = ?", (session_id,))


def delete_prepared(tx: Tx, session_id: str) -> None:
    """Forget the session's prepared transaction (submitted, or the session closed)."""
    tx.execute("DELETE FROM prepared_transactions WHERE session_id = ?", (session_id,))
