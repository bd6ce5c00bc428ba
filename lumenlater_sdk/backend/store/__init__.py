"""The store: the only place with SQL. Each module covers one table (or one concern)."""

from . import bills, events, idempotency, ledger, merchants, sessions, wallets
from ._pagination import Page, PageRequest
from ._schema import COMPONENT, MIGRATIONS

__all__ = [
    "COMPONENT",
    "MIGRATIONS",
    "Page",
    "PageRequest",
    "bills",
    "events",
    "idempotency",
    "ledger",
    "merchants",
    "sessions",
    "wallets",
]
