"""PostgreSQL autocommit reads (``Database.reads``) go straight through libpq
(``db/_pg_direct``): the same values as psycopg's cursor gives inside a transaction,
the same typed errors, prepared once they repeat."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg.errors
import pytest

from lumenlater_sdk.backend.db import Migration, migrate
from lumenlater_sdk.backend.db._pg_direct import PREPARE_AFTER
from lumenlater_sdk.backend.db._postgres import PostgresDatabase

SCHEMA = [
    Migration(
        1,
        "kinds",
        "CREATE TABLE kinds (id BIGINT PRIMARY KEY, small INTEGER, name TEXT, flag BOOLEAN,"
        " raw BYTEA, ratio DOUBLE PRECISION, doc JSONB, exact NUMERIC, nothing TEXT)",
    )
]
ROWS = [
    (2**62, 7, "héllo ? 100%", True, b"\x00\xff?", 0.25, '{"a": [1, "?"]}', "12.50", None),
    (-1, None, "", False, b"", -1e300, "null", "-3", None),
]
SELECT = "SELECT *, ? AS echoed, '?' AS literal, 5 % 3 AS modulo FROM kinds WHERE id = ?"


@pytest.fixture
def db(pg_url: str) -> Iterator[PostgresDatabase]:
    with PostgresDatabase(pg_url, min_size=1, max_size=1) as database:
        migrate(database, "t", SCHEMA)
        with database.transaction() as tx:
            for row in ROWS:
                tx.send(f"INSERT INTO kinds VALUES ({', '.join('?' * len(row))})", row)
        yield database


@pytest.mark.parametrize("echoed", ["text", 3, 2**40, None, True, b"\x01"])
def test_reads_give_what_the_cursor_gives(db: PostgresDatabase, echoed: object) -> None:
    for row in ROWS:
        with db.transaction(write=False) as tx:
            expected = tx.fetchall(SELECT, (echoed, row[0]))
        assert expected and expected[0]["name"] == row[2]
        # unprepared, then prepared
        for _ in range(PREPARE_AFTER + 2):
            with db.reads() as tx:
                assert tx.fetchall(SELECT, (echoed, row[0])) == expected
                assert tx.fetchone(SELECT, (echoed, -5)) is None


def test_reads_prepare_a_repeated_statement(db: PostgresDatabase) -> None:
    query = "SELECT name FROM kinds WHERE id = ?"
    prepared = "SELECT count(*) FROM pg_prepared_statements WHERE statement = ?"
    text = "SELECT name FROM kinds WHERE id = $1"
    for run in range(1, PREPARE_AFTER + 2):
        with db.reads() as tx:
            assert tx.scalar(query, (-1,)) == ""
            # the pool's one connection: the same session
            assert tx.scalar(prepared, (text,)) == (1 if run >= PREPARE_AFTER else 0), run


def test_reads_raise_typed_errors_and_count_rows(db: PostgresDatabase) -> None:
    insert = "INSERT INTO kinds (id, name) VALUES (?, ?)"
    for _ in range(PREPARE_AFTER + 1):
        with db.reads() as tx:
            with pytest.raises(psycopg.errors.UniqueViolation):
                tx.execute(insert, (-1, "again"))
            with pytest.raises(psycopg.errors.UndefinedColumn):
                tx.fetchall("SELECT missing FROM kinds")
            with pytest.raises(psycopg.ProgrammingError):
                tx.fetchall("SELECT ? + ?", (1,))
            # the connection still answers after each error
            assert tx.execute("UPDATE kinds SET small = small WHERE id <= ?", (2**62,)) == 2
            assert tx.fetchall("SELECT id FROM kinds WHERE id > ?", (2**62,)) == []
