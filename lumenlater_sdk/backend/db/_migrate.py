"""Versioned schema migrations, per component, applied once each at start-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._base import Database, Dialect


@dataclass(frozen=True)
class Migration:
    """One schema step. ``sql`` is run as-is; ``postgresql`` overrides it there if given.

    Statements are separated by ``;`` at the end of a line.
    """

    version: int
    name: str
    sql: str
    postgresql: str | None = None

    def statements(self, dialect: Dialect) -> list[str]:
        text = self.postgresql if (dialect == "postgresql" and self.postgresql) else self.sql
        return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";").strip()]


_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
    " PRIMARY KEY (component, version))"
)


def migrate(db: Database, component: str, migrations: Sequence[Migration]) -> int:
    """Apply the migrations of *component* that this database has not seen; return how many.

    Runs in one write transaction (PostgreSQL also takes an advisory lock), so
    two processes starting together do not both apply a step.
    """
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise ValueError(f"{component}: migration versions must be unique and ascending")
    with db.transaction() as tx:
        if tx.dialect == "postgresql":
            tx.execute("SELECT pg_advisory_xact_lock(4242)")
        tx.execute(_LEDGER)
        done = {
            r["version"]
            for r in tx.fetchall(
                "SELECT version FROM schema_migrations WHERE component = ?", (component,)
            )
        }
        applied = 0
        for m in migrations:
            if m.version in done:
                continue
            for stmt in m.statements(tx.dialect):
                tx.execute(stmt.rstrip(";"))
            tx.execute(
                "INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)",
                (component, m.version, m.name),
            )
            applied += 1
        return applied
