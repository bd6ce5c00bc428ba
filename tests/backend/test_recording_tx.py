"""The statement-recording transaction the query-plan tests and bench explain with: what
it records is what was sent, in order, and a write it is told not to run changes nothing."""

from __future__ import annotations

from lumenlater_sdk.backend.db import connect
from lumenlater_sdk.backend.db._recording import RecordingTx


def test_every_statement_is_recorded_in_order_and_runs(db_url: str) -> None:
    with connect(db_url) as db:
        with db.transaction() as tx:
            tx.execute("CREATE TABLE rec_t (x INTEGER)")
        with db.transaction() as tx:
            rec = RecordingTx(tx)
            assert rec.execute("INSERT INTO rec_t (x) VALUES (?), (?)", (1, 2)) == 2
            rec.send("INSERT INTO rec_t (x) VALUES (?)", [3])
            assert rec.scalar("SELECT count(*) FROM rec_t WHERE x > ?", (0,)) == 3
            assert [r["x"] for r in rec.iterate("SELECT x FROM rec_t ORDER BY x")] == [1, 2, 3]
            assert rec.dialect == db.dialect
        assert rec.statements == [
            ("INSERT INTO rec_t (x) VALUES (?), (?)", [1, 2]),
            ("INSERT INTO rec_t (x) VALUES (?)", [3]),
            ("SELECT count(*) FROM rec_t WHERE x > ?", [0]),
            ("SELECT x FROM rec_t ORDER BY x", []),
        ]
        with db.reads() as tx:
            assert tx.scalar("SELECT count(*) FROM rec_t") == 3


def test_writes_not_run_are_recorded_and_change_nothing(db_url: str) -> None:
    with connect(db_url) as db:
        with db.transaction() as tx:
            tx.execute("CREATE TABLE rec_t (x INTEGER)")
            tx.execute("INSERT INTO rec_t (x) VALUES (1)")
        with db.transaction() as tx:
            rec = RecordingTx(tx, run_writes=False)
            assert rec.execute("DELETE FROM rec_t WHERE x = ?", (1,)) == 0
            assert rec.scalar("SELECT count(*) FROM rec_t") == 1
        assert rec.statements == [
            ("DELETE FROM rec_t WHERE x = ?", [1]),
            ("SELECT count(*) FROM rec_t", []),
        ]
        with db.reads() as tx:
            assert tx.scalar("SELECT count(*) FROM rec_t") == 1
