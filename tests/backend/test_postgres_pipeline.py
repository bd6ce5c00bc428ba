"""PostgreSQL transactions in pipeline mode, on the real server the suite starts.

The pool has one connection, so every transaction after a failure runs on the
connection the failure left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import psycopg.errors
import pytest
from pg_wire import RoundTripCounter

from lumenlater_sdk.backend.db import Migration, Tx, migrate
from lumenlater_sdk.backend.db._postgres import PostgresDatabase

SCHEMA = [Migration(1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")]
INSERT = "INSERT INTO items (id, name) VALUES (?, ?)"


@pytest.fixture
def db(pg_url: str) -> Iterator[PostgresDatabase]:
    with PostgresDatabase(pg_url, min_size=1, max_size=1) as database:
        migrate(database, "t", SCHEMA)
        yield database


def _ids(db: PostgresDatabase) -> list[int]:
    with db.transaction(write=False) as tx:
        return [r["id"] for r in tx.fetchall("SELECT id FROM items ORDER BY id")]


def _assert_connection_clean(db: PostgresDatabase) -> None:
    """The pooled connection is out of pipeline mode, idle, and answers."""
    with db._pool.connection() as conn:
        assert conn.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with db.transaction() as tx:
        assert tx.scalar("SELECT ? + 1", (41,)) == 42


def test_sends_are_seen_by_the_next_read(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        for i in (1, 2, 3):
            tx.send(INSERT, (i, f"n{i}"))
        assert tx.scalar("SELECT count(*) FROM items") == 3
        tx.send("UPDATE items SET name = ? WHERE id = ?", ("two", 2))
        assert tx.execute("UPDATE items SET name = name || ? WHERE id > ?", ("!", 1)) == 2
        assert tx.fetchone("SELECT name FROM items WHERE id = ?", (2,)) == {"name": "two!"}
        tx.send(INSERT, (4, "n4"))
    assert _ids(db) == [1, 2, 3, 4]


def test_send_error_surfaces_at_the_next_read_and_rolls_everything_back(
    db: PostgresDatabase,
) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation), db.transaction() as tx:
        tx.execute(INSERT, (1, "read back"))
        tx.send(INSERT, (2, "queued"))
        tx.send(INSERT, (1, "duplicate"))
        tx.send(INSERT, (3, "after the error"))
        tx.fetchall("SELECT id FROM items")
    assert _ids(db) == []
    _assert_connection_clean(db)


def test_send_error_surfaces_at_commit(db: PostgresDatabase) -> None:
    with pytest.raises(psycopg.IntegrityError) as caught, db.transaction() as tx:
        tx.send(INSERT, (1, "a"))
        tx.send(INSERT, (1, "duplicate"))
    assert isinstance(caught.value, psycopg.errors.UniqueViolation)
    assert _ids(db) == []
    _assert_connection_clean(db)


def test_unique_violation_of_a_read_statement_is_psycopgs(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        tx.execute(INSERT, (1, "a"))
    with pytest.raises(psycopg.IntegrityError) as caught, db.transaction() as tx:
        tx.send(INSERT, (2, "b"))
        tx.execute(INSERT, (1, "duplicate"))
    assert isinstance(caught.value, psycopg.errors.UniqueViolation)
    assert caught.value.diag.constraint_name == "items_pkey"
    assert _ids(db) == [1]
    _assert_connection_clean(db)


def test_python_error_rolls_back_sent_and_queued_statements(db: PostgresDatabase) -> None:
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.send(INSERT, (1, "a"))
        tx.scalar("SELECT count(*) FROM items")  # the INSERT reached the server
        tx.send(INSERT, (2, "b"))
        raise RuntimeError("boom")
    assert _ids(db) == []
    _assert_connection_clean(db)


@pytest.mark.parametrize("later", [0, 2000])
def test_savepoint_recovers_after_a_failed_batch(db: PostgresDatabase, later: int) -> None:
    """After the error the pipeline is read to its Sync, so ROLLBACK TO runs.

    With thousands of statements after the failing one, the server reports the
    error while psycopg is still sending them.
    """
    with db.transaction() as tx:
        tx.send(INSERT, (1, "kept"))
        tx.send("SAVEPOINT s")
        tx.send(INSERT, (1, "duplicate"))
        for i in range(later):
            tx.send(INSERT, (100 + i, "skipped"))
        with pytest.raises(psycopg.errors.UniqueViolation):
            tx.scalar("SELECT count(*) FROM items")
        tx.execute("ROLLBACK TO SAVEPOINT s")
        tx.send(INSERT, (2, "after"))
        assert tx.scalar("SELECT count(*) FROM items") == 2
    assert _ids(db) == [1, 2]
    _assert_connection_clean(db)


def test_commit_failure_leaves_a_clean_connection(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        tx.execute(
            "CREATE TABLE deferred (id INTEGER PRIMARY KEY,"
            " parent INTEGER REFERENCES items (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(psycopg.errors.ForeignKeyViolation), db.transaction() as tx:
        tx.execute(INSERT, (1, "a"))
        tx.send("INSERT INTO deferred (id, parent) VALUES (?, ?)", (1, 99))
    assert _ids(db) == []
    _assert_connection_clean(db)


def _stream(tx: Tx, batch: int) -> list[int]:
    return [r["id"] for r in tx.iterate("SELECT id FROM items ORDER BY id", batch=batch)]


def test_iterate_streams_after_queued_sends(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        for start in range(1, 1201, 100):
            values = ", ".join(["(?, ?)"] * 100)
            params = [v for i in range(start, start + 100) for v in (i, f"n{i}")]
            tx.send(f"INSERT INTO items (id, name) VALUES {values}", params)
        assert _stream(tx, 100) == list(range(1, 1201))
        tx.send(INSERT, (1201, "after the stream"))
        # A second stream in the same transaction gets its own cursor.
        assert _stream(tx, 500)[-2:] == [1200, 1201]
        rows = tx.iterate("SELECT id FROM items WHERE id <= ? ORDER BY id", (3,), batch=2)
        assert [r["id"] for r in rows] == [1, 2, 3]
    assert len(_ids(db)) == 1201


def test_iterate_in_autocommit_reads(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        for i in range(1, 8):
            tx.send(INSERT, (i, None))
    with db.reads() as tx:
        assert tx.scalar("SELECT count(*) FROM items") == 7
        assert _stream(tx, 3) == list(range(1, 8))
        assert tx.scalar("SELECT count(*) FROM items WHERE id > ?", (5,)) == 2
    _assert_connection_clean(db)


def test_reads_ahead_in_autocommit(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        for i in range(1, 8):
            tx.send(INSERT, (i, f"n{i}"))
    for _ in range(7):  # past the runs that prepare a statement
        with db.reads() as tx:
            name = tx.fetch_ahead("SELECT name FROM items WHERE id = ?", (3,))
            none = tx.fetch_ahead("SELECT name FROM items WHERE id = ?", (99,))
            assert tx.scalar("SELECT count(*) FROM items") == 7
            assert (name(), none(), name()) == ([{"name": "n3"}], [], [{"name": "n3"}])
    with db.reads() as tx:  # a stream after a read ahead: both in its block
        ahead = tx.fetch_ahead("SELECT count(*) AS n FROM items WHERE id > ?", (5,))
        assert _stream(tx, 3) == list(range(1, 8))
        assert ahead() == [{"n": 2}]
    _assert_connection_clean(db)


def test_an_error_read_ahead_surfaces_where_it_is_sent(db: PostgresDatabase) -> None:
    with db.reads() as tx:
        broken = tx.fetch_ahead("SELECT 1 / (count(*) - count(*)) FROM items")
        with pytest.raises(psycopg.errors.DivisionByZero):
            tx.scalar("SELECT count(*) FROM items")
        with pytest.raises(RuntimeError, match="never answered"):
            broken()
        assert tx.scalar("SELECT count(*) FROM items") == 0  # the session goes on
    _assert_connection_clean(db)
    with pytest.raises(psycopg.errors.DivisionByZero), db.reads() as tx:
        tx.fetch_ahead("SELECT 1 / (count(*) - count(*)) FROM items")()
    _assert_connection_clean(db)


def test_an_abandoned_stream_ends_with_its_transaction(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        for i in range(1, 11):
            tx.send(INSERT, (i, None))
    with db.transaction(write=False) as tx:
        rows = tx.iterate("SELECT id FROM items ORDER BY id", batch=2)
        assert next(rows)["id"] == 1
    rows.close()
    _assert_connection_clean(db)


def test_statements_are_prepared_after_five_runs(db: PostgresDatabase) -> None:
    with db.transaction() as tx:
        tx.send(INSERT, (1, "a"))
    for i in range(12):
        with db.transaction(write=False) as tx:
            assert tx.fetchone("SELECT name FROM items WHERE id = ?", (1,)) == {"name": "a"}
            assert _stream(tx, 10) == [1]
        with db.transaction() as tx:
            tx.send("SAVEPOINT s")
            tx.send("UPDATE items SET name = ? WHERE id = ?", ("a", 1))
            tx.send("RELEASE SAVEPOINT s")
            assert tx.scalar("SELECT count(*) FROM items WHERE id > ?", (i + 1,)) == 0
        with db.reads() as tx:
            assert tx.scalar("SELECT name FROM items WHERE id = ? AND name = ?", (1, "a")) == "a"
    with db.reads() as tx:
        prepared = {
            r["statement"] for r in tx.fetchall("SELECT statement FROM pg_prepared_statements")
        }
    for statement in (
        "SELECT name FROM items WHERE id = $1",
        "UPDATE items SET name = $1 WHERE id = $2",
        "SELECT count(*) FROM items WHERE id > $1",
        "SELECT name FROM items WHERE id = $1 AND name = $2",
        "SAVEPOINT s",
    ):
        assert statement in prepared


def test_question_marks_and_percents_in_literals_reach_the_server_intact(
    db: PostgresDatabase,
) -> None:
    with db.transaction() as tx:
        tx.send(INSERT, (1, "50% off?"))
        tx.send("INSERT INTO items (id, name) VALUES (2, 'what''s 10%?')")
        row = tx.fetchone(
            "SELECT ? AS p, 'it''s ?' AS q, \"name\" AS \"n?\" FROM items"
            " WHERE name LIKE '%\\%%' ESCAPE '\\' AND id = ? -- why?\n",
            ("x", 1),
        )
        assert row == {"p": "x", "q": "it's ?", "n?": "50% off?"}
        assert tx.scalar("SELECT name FROM items WHERE name LIKE ? || '%'", ("what",)) == (
            "what's 10%?"
        )


@pytest.fixture
def counted(pg_url: str) -> Iterator[tuple[PostgresDatabase, RoundTripCounter]]:
    proxy = RoundTripCounter(pg_url)
    database = urlsplit(pg_url).path.lstrip("/")
    try:
        with PostgresDatabase(proxy.url(database), min_size=1, max_size=1) as db:
            migrate(db, "t", SCHEMA)
            yield db, proxy
    finally:
        proxy.close()


def _trips(proxy: RoundTripCounter, run: Callable[[], None]) -> int:
    before = proxy.trips
    run()
    return proxy.trips - before


def test_round_trips(counted: tuple[PostgresDatabase, RoundTripCounter]) -> None:
    db, proxy = counted

    def write() -> None:
        with db.transaction() as tx:
            tx.send(INSERT, (1, "a"))
            tx.send(INSERT, (2, "b"))
            tx.send("SAVEPOINT s")
            assert tx.scalar("SELECT count(*) FROM items") == 2  # BEGIN, sends, this: 1
            tx.send(INSERT, (3, "c"))
            tx.send("RELEASE SAVEPOINT s")
            # the rest and COMMIT: 1

    def write_only() -> None:
        with db.transaction() as tx:
            tx.send(INSERT, (4, "d"))
            tx.send(INSERT, (5, "e"))

    def read() -> None:
        with db.transaction(write=False) as tx:
            assert tx.scalar("SELECT count(*) FROM items") == 5
            assert tx.scalar("SELECT max(id) FROM items") == 5

    def autocommit_reads() -> None:
        with db.reads() as tx:
            assert tx.scalar("SELECT count(*) FROM items") == 5
            assert tx.scalar("SELECT max(id) FROM items") == 5

    def nothing() -> None:
        with db.transaction():
            pass

    def reads_ahead() -> None:
        with db.reads() as tx:
            first = tx.fetch_ahead("SELECT count(*) AS n FROM items")
            second = tx.fetch_ahead("SELECT min(id) AS n FROM items WHERE id > ?", (1,))
            assert tx.scalar("SELECT max(id) FROM items") == 5  # all three: 1
            assert (first(), second()) == ([{"n": 5}], [{"n": 2}])

    def read_ahead_alone() -> None:
        with db.reads() as tx:
            assert tx.fetch_ahead("SELECT count(*) AS n FROM items")() == [{"n": 5}]

    def read_ahead_in_a_transaction() -> None:
        with db.transaction() as tx:
            tx.send(INSERT, (6, "f"))
            seen = tx.fetch_ahead("SELECT count(*) AS n FROM items")
            # BEGIN, the insert, the read ahead and COMMIT: 1
        assert seen() == [{"n": 6}]

    assert _trips(proxy, write) == 2
    assert _trips(proxy, write_only) == 1
    assert _trips(proxy, read) == 3
    assert _trips(proxy, autocommit_reads) == 2
    assert _trips(proxy, reads_ahead) == 1
    assert _trips(proxy, read_ahead_alone) == 1
    assert _trips(proxy, read_ahead_in_a_transaction) == 1
    assert _trips(proxy, nothing) == 0


def test_round_trips_of_a_failed_transaction(
    counted: tuple[PostgresDatabase, RoundTripCounter],
) -> None:
    db, proxy = counted

    def failing() -> None:
        with pytest.raises(psycopg.errors.UniqueViolation), db.transaction() as tx:
            tx.send(INSERT, (1, "duplicate"))
            tx.send(INSERT, (1, "b"))

    def read() -> None:
        with db.transaction(write=False) as tx:
            assert tx.scalar("SELECT count(*) FROM items") == 0

    # The error ends the batch; the COMMIT after it is skipped and a ROLLBACK
    # closes the aborted block. (psycopg then also forgets its prepared statements,
    # DEALLOCATE ALL, which is why this runs before anything was prepared.)
    assert _trips(proxy, failing) == 2
    assert _trips(proxy, read) == 2


def _notifications(pg_url: str, run: Callable[[], None]) -> list[str]:
    """The channels notified to a listener of ``ch`` while *run* runs (after it commits)."""
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute("LISTEN ch")
        run()
        return [n.channel for n in listener.notifies(timeout=0.5, stop_after=5)]


def test_a_channel_is_notified_once_per_transaction(
    db: PostgresDatabase, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    from lumenlater_sdk.backend.db._postgres import _PostgresTx

    original = _PostgresTx.send

    def spy(self: _PostgresTx, sql: str, params: object = ()) -> None:
        if "pg_notify" in sql:
            sent.append(sql)
        original(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(_PostgresTx, "send", spy)

    def three() -> None:
        with db.transaction() as tx:
            for i in (1, 2, 3):
                tx.send(INSERT, (i, "n"))
                tx.notify("ch")

    assert _notifications(pg_url, three) == ["ch"]
    assert len(sent) == 1


def test_a_notification_undone_by_a_savepoint_is_sent_again(
    db: PostgresDatabase, pg_url: str
) -> None:
    def undone_then_again() -> None:
        with db.transaction() as tx:
            tx.savepoint("s")
            tx.send(INSERT, (1, "undone"))
            tx.notify("ch")
            tx.rollback_to("s")
            tx.send(INSERT, (2, "kept"))
            tx.notify("ch")

    assert _notifications(pg_url, undone_then_again) == ["ch"]
    assert _ids(db) == [2]
