"""Open a database from a URL."""

from __future__ import annotations

from pathlib import Path

from ._base import Database


def connect(url: str, *, connect_timeout: float = 5.0) -> Database:
    """``sqlite:///path/to.db`` (or a bare path) → SQLite; ``postgresql://…`` → PostgreSQL,
    waiting up to *connect_timeout* seconds for the server to accept a connection
    (then ``DatabaseUnavailable``, a ``ConnectionError`` naming host and port)."""
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresDatabase

        return PostgresDatabase(url, connect_timeout=connect_timeout)
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
