"""Re-sealing values written in the legacy (PyNaCl) format, once, when the backend starts."""

from __future__ import annotations

from .._crypto import SEALED_PREFIX, SealError, SecretBox, is_legacy
from ..db import Database
from ..store import sealed as sealed_store

__all__ = ["reseal_legacy"]


def reseal_legacy(db: Database, box: SecretBox) -> int:
    """Re-seal every legacy-format value (every column in
    :data:`~lumenlater_sdk.backend.store.sealed.SEALED_COLUMNS`) in the current format.

    One transaction: either every value moves or none does. Returns how many values
    changed, so 0 on every start after the first. A legacy value that does not open
    (tampered with, or sealed under another ``secret_key``) stops the start with a
    :class:`~lumenlater_sdk.backend._crypto.SealError` naming the column and row.
    """
    changed = 0
    with db.transaction() as tx:
        for column in sealed_store.SEALED_COLUMNS:
            for row in sealed_store.values_without(tx, column, SEALED_PREFIX):
                old = row["sealed"]
                if not is_legacy(old):  # a newer format than this process knows: keep it
                    continue
                try:
                    plain = box.open(old)
                except SealError as exc:
                    raise SealError(f"cannot re-seal {column} of row {row['id']}: {exc}") from exc
                # Compare-and-set: a process starting at the same moment may have won.
                changed += sealed_store.replace(tx, column, row["id"], old, box.seal(plain))
    return changed
