"""Health: whether this process can reach its database."""

from __future__ import annotations

from ..store import health as health_store
from .context import ServiceContext

__all__ = ["check_database"]


def check_database(ctx: ServiceContext) -> None:
    """Run one read-only round trip; raises if the database cannot answer."""
    with ctx.db.transaction(write=False) as tx:
        health_store.ping(tx)
