"""Open a database from a URL."""

from __future__ import annotations

from pathlib import Path

from ._base import Database


def connect(url: str) -> Database:
    """``sqlite:///path/to.db`` (or a bare path) → SQLite; ``postgresql://…`` → PostgreSQL."""
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresDatabase

        return PostgresDatabase(url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    elif url.startswith("sqlite://"):
        raise ValueError("use sqlite:///relative.db or sqlite:////absolute/path.db")
    elif "://" in url:
        raise ValueError(f"unsupported database URL scheme: {url.split('://')[0]!r}")
    else:
        path = url
    from ._sqlite import SQLiteDatabase

    return SQLiteDatabase(Path(path).expanduser())
