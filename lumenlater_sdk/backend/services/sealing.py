"""Re-sealing values written in the legacy (PyNaCl) format, once, when the backend starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._crypto import SEALED_PREFIX, SealError, SecretBox, is_legacy
from ..db import Database, Row, Tx
from ..store import merchants as merchant_store
from ..store import wallets as wallet_store
from ..store import webhook_endpoints as endpoint_store

__all__ = ["SEALED_COLUMNS", "reseal_legacy"]

_List = Callable[[Tx, str], list[Row]]
_Replace = Callable[[Tx, Any, str, str], int]

SEALED_COLUMNS: tuple[tuple[str, _List, _Replace], ...] = (
    (
        "merchants.seed_encrypted",
        merchant_store.sealed_seeds_without,
        merchant_store.replace_sealed_seed,
    ),
    ("wallets.seed_encrypted", wallet_store.sealed_seeds_without, wallet_store.replace_sealed_seed),
    (
        "webhook_endpoint_secrets.ciphertext",
        endpoint_store.sealed_secrets_without,
        endpoint_store.replace_sealed_secret,
    ),
)
"""Every column holding :meth:`SecretBox.seal` output: its name, how to list the
values not in the current format, and how to replace one."""


def reseal_legacy(db: Database, box: SecretBox) -> int:
    """Re-seal every legacy-format value in :data:`SEALED_COLUMNS` in the current format.

    One transaction: either every value moves or none does. Returns how many values
    changed, so 0 on every start after the first. A legacy value that does not open
    (tampered with, or sealed under another ``secret_key``) stops the start with a
    :class:`~lumenlater_sdk.backend._crypto.SealError` naming the column and row.
    """
    changed = 0
    with db.transaction() as tx:
        for column, list_rows, replace in SEALED_COLUMNS:
            for row in list_rows(tx, SEALED_PREFIX):
                old = row["sealed"]
                if not is_legacy(old):  # a newer format than this process knows: keep it
                    continue
                try:
                    plain = box.open(old)
                except SealError as exc:
                    raise SealError(f"cannot re-seal {column} of row {row['id']}: {exc}") from exc
                # Compare-and-set: a process starting at the same moment may have won.
                changed += replace(tx, row["id"], old, box.seal(plain))
    return changed
