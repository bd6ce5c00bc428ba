"""Database access for the backend: one small interface over SQLite and PostgreSQL.

SQL is written once with ``?`` placeholders; the PostgreSQL driver sees ``%s``.
Rows come back as ``dict``. Schema changes are versioned per component with
:func:`migrate`, so a database made by an older version upgrades on start.
"""

from ._base import Database, Dialect, Row, Tx
from ._bound_rows import ID_ARRAY, json_rows, marks
from ._connect import connect
from ._joined import JoinedDatabase
from ._migrate import Migration, migrate

__all__ = [
    "ID_ARRAY",
    "Database",
    "Dialect",
    "JoinedDatabase",
    "Migration",
    "Row",
    "Tx",
    "connect",
    "json_rows",
    "marks",
    "migrate",
]
