"""The database layer on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import threading

import pytest

from lumenlater_sdk.backend.db import Migration, connect, migrate

MIGRATIONS = [
    Migration(1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"),
    Migration(
        2,
        "counter",
        "CREATE TABLE counter (k TEXT PRIMARY KEY, n BIGINT NOT NULL);\n"
        "INSERT INTO counter (k, n) VALUES ('c', 0)",
    ),
]


def test_migrate_applies_once_and_upgrades(db_url: str) -> None:
    with connect(db_url) as db:
        assert migrate(db, "t", MIGRATIONS[:1]) == 1
        assert migrate(db, "t", MIGRATIONS[:1]) == 0
        assert migrate(db, "t", MIGRATIONS) == 1  # an older database upgrades
        with db.transaction(write=False) as tx:
            assert tx.scalar("SELECT n FROM counter WHERE k = ?", ("c",)) == 0


def test_rollback_on_error_leaves_nothing(db_url: str) -> None:
    with connect(db_url) as db:
        migrate(db, "t", MIGRATIONS)
        with pytest.raises(RuntimeError), db.transaction() as tx:
            tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (1, "a"))
            raise RuntimeError("boom")
        with db.transaction(write=False) as tx:
            assert tx.fetchall("SELECT * FROM items") == []


def test_concurrent_increments_are_serialised(db_url: str) -> None:
    with connect(db_url) as db:
        migrate(db, "t", MIGRATIONS)

        def bump() -> None:
            for _ in range(25):
                with db.transaction() as tx:
                    n = tx.scalar("SELECT n FROM counter WHERE k = 'c'" + tx.for_update)
                    tx.execute("UPDATE counter SET n = ? WHERE k = 'c'", (n + 1,))

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db.transaction(write=False) as tx:
            assert tx.scalar("SELECT n FROM counter") == 100


def test_iterate_streams_rows(db_url: str) -> None:
    with connect(db_url) as db:
        migrate(db, "t", MIGRATIONS)
        with db.transaction() as tx:
            for i in range(1, 1201):
                tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (i, f"n{i}"))
        with db.transaction(write=False) as tx:
            ids = [r["id"] for r in tx.iterate("SELECT id FROM items ORDER BY id", batch=100)]
        assert ids == list(range(1, 1201))


def test_percent_sign_in_sql_is_literal(db_url: str) -> None:
    with connect(db_url) as db:
        migrate(db, "t", MIGRATIONS)
        with db.transaction() as tx:
            tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (1, "50%"))
            assert tx.scalar("SELECT name FROM items WHERE name LIKE '%\\%' ESCAPE '\\'") == "50%"


def test_a_read_ahead_gives_the_rows_a_read_gives(db_url: str) -> None:
    with connect(db_url) as db:
        migrate(db, "t", MIGRATIONS)
        with db.transaction() as tx:
            tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (1, "a"))
            written = tx.fetch_ahead("SELECT name FROM items WHERE id = ?", (1,))
            assert written() == [{"name": "a"}]  # its own transaction's write
        for opened in (db.reads, lambda: db.transaction(write=False)):
            with opened() as tx:
                found = tx.fetch_ahead("SELECT id, name FROM items WHERE id = ?", (1,))
                missing = tx.fetch_ahead("SELECT id FROM items WHERE id = ?", (2,))
                assert tx.scalar("SELECT count(*) FROM items") == 1
                assert found() == [{"id": 1, "name": "a"}] and missing() == []
