"""The database round trip behind ``/healthz``."""

from __future__ import annotations

from ..db import Tx

__all__ = ["ping"]


def ping(tx: Tx) -> None:
    """One trivial query: raises if the database cannot answer."""
    tx.scalar("SELECT 1")
