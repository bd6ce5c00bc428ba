"""Every column that holds :meth:`SecretBox.seal` output, read and rewritten in one way
(for moving values between sealing formats)."""

from __future__ import annotations

from ..db import Row, Tx

__all__ = ["SEALED_COLUMNS", "replace", "values_without"]

SEALED_COLUMNS: dict[str, tuple[str, str, str]] = {
    "merchants.seed_encrypted": ("merchants", "id", "seed_encrypted"),
    "wallets.seed_encrypted": ("wallets", "id", "seed_encrypted"),
    "webhook_endpoint_secrets.ciphertext": ("webhook_endpoint_secrets", "seq", "ciphertext"),
    "api_keys.sealed_key": ("api_keys", "id", "sealed_key"),
}
"""``table.column`` → (table, row key, column). The SQL below is built only from these
constants, never from input."""


def values_without(tx: Tx, column: str, prefix: str) -> list[Row]:
    """``id`` (the row key) and ``sealed`` of each value of *column* that does not start
    with *prefix* (which holds no ``%`` or ``_``); expired webhook secrets included, NULLs
    (keys kept hash-only) not."""
    table, key, name = SEALED_COLUMNS[column]
    return tx.fetchall(
        f"SELECT {key} AS id, {name} AS sealed FROM {table} WHERE {name} NOT LIKE ?",
        (prefix + "%",),
    )


def replace(tx: Tx, column: str, row_id: object, old: str, new: str) -> int:
    """Store *new* in *column* of row *row_id* if it still holds *old*; rows changed (0 or 1)."""
    table, key, name = SEALED_COLUMNS[column]
    return tx.execute(
        f"UPDATE {table} SET {name} = ? WHERE {key} = ? AND {name} = ?", (new, row_id, old)
    )
