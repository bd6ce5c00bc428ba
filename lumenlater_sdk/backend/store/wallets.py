"""Sandbox test wallets (funded customers).

The genesis built-in wallets have no merchant; each merchant has its own copies of them
(``builtin`` names the one a row copies). A merchant sees its own wallets and its
copies, and the genesis ones only while it has no copies (a merchant recorded before
copies existed), so no merchant can spend the borrowing power another pays with.
"""

from __future__ import annotations

from ..db import Row, Tx

__all__ = [
    "builtin_copies",
    "builtin_wallet_id",
    "customer_wallet",
    "delete_prepared",
    "find_wallet",
    "get_prepared",
    "insert_wallet",
    "list_wallets",
    "merchants_without_copies",
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
    builtin: str | None = None,
) -> None:
    """Record a wallet: an *external* one signs for itself (``seed_encrypted`` is empty);
    a *builtin* one is the merchant's copy of that built-in wallet."""
    tx.execute(
        "INSERT INTO wallets (id, merchant_id, name, address, seed_encrypted, created,"
        " external, builtin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (wallet_id, merchant_id, name, address, seed_encrypted, created, int(external), builtin),
    )


# The rows a merchant may use: its own (copies included), and the genesis built-ins
# only while it has no copies of its own.
_VISIBLE = (
    "(merchant_id = ? OR (merchant_id IS NULL AND NOT EXISTS (SELECT 1 FROM wallets c"
    " WHERE c.merchant_id = ? AND c.builtin IS NOT NULL)))"
)


def find_wallet(tx: Tx, merchant_id: str, ref: str) -> Row | None:
    """A wallet visible to the merchant, by id or by name (the ones it made before the
    built-ins, newest first)."""
    return tx.fetchone(
        f"SELECT * FROM wallets WHERE {_VISIBLE} AND (id = ? OR name = ?)"
        " ORDER BY merchant_id IS NULL, builtin IS NOT NULL, id DESC LIMIT 1",
        (merchant_id, merchant_id, ref, ref),
    )


def builtin_copies(tx: Tx, merchant_id: str) -> set[str]:
    """The names of the built-in wallets the merchant has its own copies of."""
    rows = tx.fetchall(
        "SELECT builtin FROM wallets WHERE merchant_id = ? AND builtin IS NOT NULL",
        (merchant_id,),
    )
    return {str(r["builtin"]) for r in rows}


def merchants_without_copies(tx: Tx) -> list[str]:
    """Merchants with no copy of any built-in wallet (made before merchants had them)."""
    rows = tx.fetchall(
        "SELECT id FROM merchants m WHERE NOT EXISTS (SELECT 1 FROM wallets w"
        " WHERE w.merchant_id = m.id AND w.builtin IS NOT NULL) ORDER BY id"
    )
    return [str(r["id"]) for r in rows]


def builtin_wallet_id(tx: Tx, name: str) -> str | None:
    """The id of the built-in (merchant-less) wallet called *name*, or ``None``."""
    value = tx.scalar("SELECT id FROM wallets WHERE merchant_id IS NULL AND name = ?", (name,))
    return None if value is None else str(value)


def customer_wallet(tx: Tx, merchant_id: str, address: str) -> Row | None:
    """A wallet visible to the merchant whose address is *address*, or ``None``."""
    return tx.fetchone(
        f"SELECT * FROM wallets WHERE address = ? AND {_VISIBLE}"
        " ORDER BY merchant_id IS NULL, id DESC LIMIT 1",
        (address, merchant_id, merchant_id),
    )


def list_wallets(tx: Tx, merchant_id: str) -> list[Row]:
    """Built-in wallets first, then the merchant's own, oldest first."""
    return tx.fetchall(
        f"SELECT * FROM wallets WHERE {_VISIBLE}"
        " ORDER BY merchant_id IS NOT NULL AND builtin IS NULL, id",
        (merchant_id, merchant_id),
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
