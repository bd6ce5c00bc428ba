"""The database round trips behind ``/healthz``."""

from __future__ import annotations

from ..db import Tx

__all__ = ["ping", "touch"]

_KEY = "healthz"


def ping(tx: Tx) -> None:
    """One trivial query: raises if the database cannot answer."""
    tx.scalar("SELECT 1")


def touch(tx: Tx, now: float) -> None:
    """Overwrite one row kept for the purpose: raises if the database cannot be written."""
    tx.execute(
        "INSERT INTO backend_state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = ?",
        (_KEY, repr(now), repr(now)),
    )
