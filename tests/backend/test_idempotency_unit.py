"""The idempotency unit as services see it: its writes commit only with its answer.

These are the guards a route adapter relies on (tests/backend/test_idempotency*.py
drive the same rules over HTTP): a unit left without an answer, or one whose step
failed while a caller swallowed the error, commits nothing and frees its key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lumenlater_sdk.backend._crypto import SecretBox
from lumenlater_sdk.backend.db import Database, connect, migrate
from lumenlater_sdk.backend.services import idempotency
from lumenlater_sdk.backend.store import COMPONENT, MIGRATIONS

BOX = SecretBox(bytes(range(32)))
MERCHANT = "GMERCHANT"
NOW = 1_800_000_000.0


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with connect(db_url) as database:
        migrate(database, COMPONENT, MIGRATIONS)
        with database.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS unit_probe (n INTEGER)")
            tx.execute("DELETE FROM unit_probe")
            tx.execute("DELETE FROM idempotency_keys")
        yield database


def _probes(db: Database) -> int:
    with db.transaction(write=False) as tx:
        return int(tx.scalar("SELECT COUNT(*) FROM unit_probe"))


def test_a_unit_left_without_its_answer_commits_nothing(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    with (
        pytest.raises(
            RuntimeError, match=r"^the request's writes would commit without its response$"
        ),
        idempotency.unit(db, MERCHANT, "k1", fp, NOW, box=BOX) as unit,
    ):
        assert unit.replay is None and unit.claim is not None
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
    assert _probes(db) == 0


def test_a_failed_step_stops_the_commit_even_if_swallowed(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    with (
        pytest.raises(RuntimeError, match="without its response"),
        idempotency.unit(db, MERCHANT, "k2", fp, NOW, box=BOX) as unit,
    ):
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
        try:
            with unit.db.transaction():
                raise ValueError("a step failed")
        except ValueError:
            pass  # a careless caller
        with pytest.raises(
            RuntimeError, match=r"^a step of this request failed; its writes must not commit$"
        ):
            unit.complete(200, b"{}")
    assert _probes(db) == 0


def test_after_a_failed_unit_the_key_can_be_freed_and_runs_again(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    claim = None
    with pytest.raises(ValueError), idempotency.unit(db, MERCHANT, "k3", fp, NOW, box=BOX) as unit:
        claim = unit.claim
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
        raise ValueError("boom")
    assert claim is not None and _probes(db) == 0
    idempotency.finish(db, claim, 500, b"", store_it=False, box=BOX)
    again = idempotency.begin(db, MERCHANT, "k3", fp, NOW + 1, box=BOX)
    assert isinstance(again, idempotency.Claimed) and again.owner != claim.owner


def test_a_completed_unit_replays_with_no_claim_and_no_transaction(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b'{"a":1}')
    with idempotency.unit(db, MERCHANT, "k4", fp, NOW, box=BOX) as unit:
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
        unit.complete(200, b'{"id":"bill_1"}')
    assert _probes(db) == 1
    with idempotency.unit(db, MERCHANT, "k4", fp, NOW + 60, box=BOX) as replayed:
        assert replayed.claim is None
        assert replayed.replay == idempotency.Replay(200, b'{"id":"bill_1"}')
        assert replayed.db is db
