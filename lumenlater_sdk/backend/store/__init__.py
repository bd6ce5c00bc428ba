"""The store: the only place with SQL. Each module covers one table (or one concern)."""

from . import (
    api_keys,
    bills,
    events,
    health,
    idempotency,
    ledger,
    merchants,
    sessions,
    wallets,
    webhook_endpoints,
)
from ._schema import COMPONENT, MIGRATIONS

__all__ = [
    "COMPONENT",
    "MIGRATIONS",
    "api_keys",
    "bills",
    "events",
    "health",
    "idempotency",
    "ledger",
    "merchants",
    "sessions",
    "wallets",
    "webhook_endpoints",
]
