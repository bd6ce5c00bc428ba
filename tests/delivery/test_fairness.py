"""Fair delivery: one merchant's hanging endpoint and its backlog never hold up another's.

Every claim is proved by what happened, not by how long it took: the other merchant's
event is handled while the hanging endpoint still holds every request it was sent,
and the requests open at once at a receiver never exceed the cap per endpoint.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from delivery_receiver import Receiver
from delivery_support import MERCHANT, OTHER_MERCHANT, SECRET_KEY, emit, prepare, serving
from endpoint_support import Endpoints

from lumenlater_sdk.backend.config import BackendConfig
from lumenlater_sdk.backend.db import Database, connect
from lumenlater_sdk.backend.delivery import DeliveryWorker, worker_for
from lumenlater_sdk.backend.delivery._fair import DEFAULT_PER_ENDPOINT, pick_due
from lumenlater_sdk.backend.delivery._outbox import claim_due

HERE = Path(__file__).parent
THIRD_MERCHANT = "GTHIRDCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with connect(db_url) as database:
        prepare(database)
        yield database


@pytest.fixture
def held() -> Iterator[Receiver]:
    """A receiver that takes every request and answers none until released."""
    r = Receiver().start()
    r.mode = "hold"
    yield r
    r.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def endpoint(db: Database, merchant: str, receiver: Receiver) -> str:
    ep = Endpoints(db).create(merchant, url=receiver.url, enabled_events=["*"])
    receiver.set_secret(ep["secret"])
    return str(ep["id"])


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def snapshot_when_handled(receiver: Receiver, other: Receiver) -> list[tuple[int, int]]:
    """On each event *receiver* handles, note (requests *other* got, of which answered)."""
    seen: list[tuple[int, int]] = []

    def note(_: object) -> None:
        hits = list(other.hits)
        seen.append((len(hits), sum(1 for h in hits if h.ended)))

    receiver.on_handled = note
    return seen


def test_a_hanging_endpoint_with_a_backlog_holds_only_its_cap(
    db: Database, held: Receiver, receiver: Receiver
) -> None:
    endpoint(db, MERCHANT, held)
    endpoint(db, OTHER_MERCHANT, receiver)
    emit(db, 20, merchant=MERCHANT)  # a backlog larger than every slot of the worker
    seen = snapshot_when_handled(receiver, held)
    worker = DeliveryWorker(
        db, secret_key=SECRET_KEY, concurrency=6, endpoint_concurrency=2, timeout=60.0
    )
    with serving(worker):
        wait_until(lambda: held.open_now == 2)
        emit(db, 3, merchant=OTHER_MERCHANT)
        receiver.wait_handled(3)
        opened = len(held.hits)
        held.release()
        wait_until(lambda: len({e.id for e in held.handled}) == 20)
    # The other merchant's events were handled while the hanging endpoint held its
    # two requests, none answered, and it was sent no third.
    assert seen == [(2, 0)] * 3
    assert opened == 2
    assert held.most_open == 2  # once released, its backlog still went two at a time
    assert receiver.most_open <= 2


def test_the_cap_is_reached_and_never_exceeded_at_the_receiver(
    db: Database, held: Receiver
) -> None:
    endpoint(db, MERCHANT, held)
    emit(db, 30)
    with serving(DeliveryWorker(db, secret_key=SECRET_KEY, concurrency=16, endpoint_concurrency=3)):
        wait_until(lambda: held.open_now == 3)  # three at once: the cap is used
        emit(db, 1)  # a wake-up while the worker has free slots
        held.release()
        held.wait_handled(31)
    assert held.most_open == 3
    assert len(held.hits) == 31


def test_the_default_cap_is_small_and_configurable_through_the_backend_config(
    db: Database,
) -> None:
    assert 1 < DEFAULT_PER_ENDPOINT <= 16
    default = worker_for(db, BackendConfig(secret_key=SECRET_KEY))
    assert default is not None and default.endpoint_concurrency == DEFAULT_PER_ENDPOINT
    config = BackendConfig(secret_key=SECRET_KEY, delivery={"endpoint_concurrency": 3})
    configured = worker_for(db, config)
    assert configured is not None and configured.endpoint_concurrency == 3
    assert DeliveryWorker(db, secret_key=SECRET_KEY, concurrency=2).endpoint_concurrency == 2
    with pytest.raises(ValueError, match="endpoint_concurrency"):
        DeliveryWorker(db, secret_key=SECRET_KEY, endpoint_concurrency=0)


def claimed_endpoints(db: Database, *, limit: int, per_endpoint: int, token: str) -> list[str]:
    with db.transaction() as tx:
        due = claim_due(
            tx, now=time.time() + 1, lease=60, token=token, limit=limit, per_endpoint=per_endpoint
        )
    return [r["endpoint_id"] for r in due.rows]


def test_a_claim_deals_rows_to_endpoints_in_turn(db: Database, receiver: Receiver) -> None:
    backlogged = endpoint(db, MERCHANT, receiver)
    emit(db, 40, merchant=MERCHANT)  # the oldest rows by far
    second = endpoint(db, OTHER_MERCHANT, receiver)
    emit(db, 2, merchant=OTHER_MERCHANT)
    third = endpoint(db, THIRD_MERCHANT, receiver)
    emit(db, 1, merchant=THIRD_MERCHANT)
    # Oldest first would give all four to the backlog; in turn, each endpoint gets one
    # per round, the one waiting longest first.
    assert claimed_endpoints(db, limit=4, per_endpoint=10, token="a") == [
        backlogged,
        second,
        third,
        backlogged,
    ]
    # The backlog has 2 of its 3 in flight now: one more, then only the others'.
    assert claimed_endpoints(db, limit=10, per_endpoint=3, token="b") == [backlogged, second]
    assert claimed_endpoints(db, limit=10, per_endpoint=3, token="c") == []
    with db.transaction() as tx:
        picked = pick_due(tx, now_ms=int(time.time() * 1000) + 1000, limit=10, per_endpoint=3)
    assert picked.rows == [] and picked.capped  # due rows held back by the cap


def test_an_expired_lease_frees_its_slot(db: Database, receiver: Receiver) -> None:
    ep = endpoint(db, MERCHANT, receiver)
    emit(db, 5)
    assert claimed_endpoints(db, limit=10, per_endpoint=2, token="a") == [ep, ep]
    with db.transaction() as tx:  # the worker that claimed them died; its lease ran out
        tx.execute("UPDATE webhook_outbox SET locked_until_ms = 0, next_attempt_ms = 0")
    assert claimed_endpoints(db, limit=10, per_endpoint=2, token="b") == [ep, ep]


def test_two_worker_processes_share_one_cap_per_endpoint(
    pg_url: str, held: Receiver, receiver: Receiver
) -> None:
    procs: list[subprocess.Popen[str]] = []
    with connect(pg_url) as db:
        prepare(db)
        endpoint(db, MERCHANT, held)
        endpoint(db, OTHER_MERCHANT, receiver)
        emit(db, 30, merchant=MERCHANT)
        seen = snapshot_when_handled(receiver, held)
        try:
            for _ in range(2):
                p = subprocess.Popen(
                    [sys.executable, str(HERE / "run_worker.py"), pg_url, "2", "60"],
                    cwd=HERE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                procs.append(p)
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            wait_until(lambda: held.open_now == 2)
            # Each event wakes both workers, and each claims with the backlog due: a cap
            # counted per process would let the second worker open two more.
            for _ in range(10):
                emit(db, 1, merchant=OTHER_MERCHANT)
            receiver.wait_handled(10, timeout=60)
            assert len(held.hits) == 2
            held.release()
            wait_until(lambda: len({e.id for e in held.handled}) == 30, timeout=90)
        finally:
            for p in procs:
                p.terminate()
                p.wait(15)
    assert seen == [(2, 0)] * 10
    assert held.most_open == 2


def test_endpoints_dealt_part_of_their_due_rows_take_their_oldest(
    db: Database, receiver: Receiver
) -> None:
    first = endpoint(db, MERCHANT, receiver)
    emit(db, 5, merchant=MERCHANT)
    second = endpoint(db, OTHER_MERCHANT, receiver)
    emit(db, 5, merchant=OTHER_MERCHANT)
    with db.transaction(write=False) as tx:
        oldest = {
            ep: [
                r["seq"]
                for r in tx.fetchall(
                    "SELECT seq FROM webhook_outbox WHERE endpoint_id = ? ORDER BY seq LIMIT 2",
                    (ep,),
                )
            ]
            for ep in (first, second)
        }
    with db.transaction() as tx:
        due = claim_due(tx, now=time.time() + 1, lease=60, token="a", limit=4, per_endpoint=10)
    # Two rounds, each endpoint in turn (the one waiting longest first), oldest rows first.
    assert [(r["endpoint_id"], r["seq"]) for r in due.rows] == [
        (first, oldest[first][0]),
        (second, oldest[second][0]),
        (first, oldest[first][1]),
        (second, oldest[second][1]),
    ]
