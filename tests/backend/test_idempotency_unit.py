"""The idempotency unit as services see it: its writes commit only with its answer.

These are the guards a route adapter relies on (tests/backend/test_idempotency*.py
drive the same rules over HTTP): a unit left without an answer, or one whose step
failed while a caller swallowed the error, commits nothing and frees its key.
"""

from __future__ import annotations

import threading
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


def test_after_a_failed_unit_the_key_runs_again_at_once(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    with pytest.raises(ValueError), idempotency.unit(db, MERCHANT, "k3", fp, NOW, box=BOX) as unit:
        first = unit.claim
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
        raise ValueError("boom")
    assert first is not None and _probes(db) == 0
    with idempotency.unit(db, MERCHANT, "k3", fp, NOW + 1, box=BOX) as again:
        assert again.replay is None and again.claim is not None
        assert again.claim.owner != first.owner
        again.complete(200, b"{}")


def test_a_refusal_rolls_back_the_writes_and_is_the_answer(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    with idempotency.unit(db, MERCHANT, "k5", fp, NOW, box=BOX) as unit:
        with unit.db.transaction() as tx:
            tx.execute("INSERT INTO unit_probe (n) VALUES (1)")
        unit.refuse(400, b'{"error":{"code":"declined"}}')
    assert _probes(db) == 0
    with idempotency.unit(db, MERCHANT, "k5", fp, NOW + 1, box=BOX) as replayed:
        assert replayed.replay == idempotency.Replay(400, b'{"error":{"code":"declined"}}')


def test_a_twin_of_an_open_unit_is_in_use_and_runs_once_it_is_gone(db: Database) -> None:
    fp = idempotency.fingerprint("POST", "/v1/bills", b"{}")
    twin: list[BaseException | str] = []

    def run_twin() -> None:
        try:
            with idempotency.unit(db, MERCHANT, "k6", fp, NOW, box=BOX):
                twin.append("ran")
        except idempotency.IdempotencyConflict as exc:
            twin.append(exc)

    with pytest.raises(ValueError), idempotency.unit(db, MERCHANT, "k6", fp, NOW, box=BOX):
        thread = threading.Thread(target=run_twin)
        thread.start()
        thread.join()
        raise ValueError("the holder dies")
    assert len(twin) == 1 and isinstance(twin[0], idempotency.IdempotencyConflict)
    assert twin[0].code == "idempotency_key_in_use"
    with idempotency.unit(db, MERCHANT, "k6", fp, NOW, box=BOX) as unit:
        assert unit.claim is not None
        unit.complete(201, b"{}")


def test_json_that_differs_in_whitespace_or_key_order_is_the_same_request() -> None:
    def fp(body: bytes) -> str:
        return idempotency.fingerprint("POST", "/v1/bills", body).canonical

    same = fp(b'{"amount":1,"meta":{"a":"\u00e9","b":[1,2]}}')
    assert fp(b'{ "meta" : { "b" : [ 1 , 2 ], "a": "\xc3\xa9" },\n\t"amount": 1 }') == same
    assert fp(b'{"amount":2,"meta":{"a":"\u00e9","b":[1,2]}}') != same
    assert fp(b'{"amount":1,"meta":{"a":"\u00e9","b":[2,1]}}') != same
    assert fp(b"not json") != fp(b"not  json")
    assert fp(b"") == fp(b" \n") == fp(b"{ }")  # no body is read as {}
    assert fp(b"") != fp(b"[]")
    assert idempotency.fingerprint("POST", "/v1/x", b"{}").canonical != fp(b"{}")


def test_a_body_already_read_gives_the_fingerprint_of_its_bytes() -> None:
    # The endpoint hands over the JSON its strict reader made, so the body is not
    # parsed twice: the fingerprint must be the one the bytes alone give.
    from lumenlater_sdk.backend.http._json import read_json

    bodies = [
        b'{"amount":1,"meta":{"a":"\u00e9","b":[1,2]}}',
        b'{ "meta" : { "b" : [ 1 , 2 ], "a": "\xc3\xa9" },\n\t"amount": 1 }',
        b'{"x":1.5,"y":-0.0,"z":12345678901234567890123,"n":null,"t":true,"s":"\\ud83d\\ude00"}',
        b"{}",
    ]
    for body in bodies:
        bare = idempotency.fingerprint("POST", "/v1/bills", body)
        read = idempotency.fingerprint("POST", "/v1/bills", body, parsed=read_json(body))
        assert read == bare, body


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


def test_a_key_answered_between_the_unlocked_look_and_the_lock_replays(db: Database) -> None:
    # unit() looks for a stored answer before it takes the key's lock; a twin may
    # complete in between, and the claim under the lock must then replay it, not run.
    fp = idempotency.fingerprint("POST", "/v1/bills", b'{"a":1}')
    with idempotency.unit(db, MERCHANT, "k7", fp, NOW, box=BOX) as unit:
        unit.complete(200, b'{"id":"bill_7"}')
    other = idempotency.fingerprint("POST", "/v1/bills", b'{"a":2}')
    with db.transaction() as tx:
        got = idempotency._claim(tx, MERCHANT, "k7", fp, NOW + 1, BOX)
        assert got == idempotency.Replay(200, b'{"id":"bill_7"}')
        with pytest.raises(idempotency.IdempotencyConflict) as refused:
            idempotency._claim(tx, MERCHANT, "k7", other, NOW + 1, BOX)
        assert refused.value.code == "idempotency_key_reused"
