"""Many rows, or many ids, bound as one PostgreSQL parameter.

psycopg rewrites a statement's placeholders in Python on every call once it has more
than 50 parameters (it caches only smaller ones), ~5 us a parameter, and each new count
of placeholders is a new statement text for the server to parse and plan. A jsonb array
of rows, or a text array of ids, is one parameter in a text that is the same for any
count: psycopg prepares it once. SQLite keeps its own placeholders (it has no arrays).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ID_ARRAY", "json_rows", "marks"]

ID_ARRAY = "ANY(?::text[])"
"""``col = ID_ARRAY`` matches the ids of one parameter, a Python list of str."""


def marks(n: int) -> str:
    """*n* placeholders, ``?, ?, ?``: a list of values bound one parameter each (SQLite's
    ``IN (...)``; on PostgreSQL :data:`ID_ARRAY` binds the list as one)."""
    return ", ".join("?" * n)


def json_rows(types: Sequence[str]) -> str:
    """A ``SELECT`` of the rows of one jsonb parameter (``?``: a list of rows, each a list
    of values, as ``_json_text.compact`` writes it), its columns cast to the PostgreSQL
    *types*, in order (``text`` is left as read)."""
    picks = ", ".join(
        f"r->>{i}" if kind == "text" else f"(r->>{i})::{kind}" for i, kind in enumerate(types)
    )
    return f"SELECT {picks} FROM jsonb_array_elements(?::jsonb) AS r"
