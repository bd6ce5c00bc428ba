"""Event stores: claim / complete / release, leases, and races between claimers."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import redis

from lumenlater_sdk.webhooks import (
    ClaimStatus,
    EventStore,
    InMemoryEventStore,
    RedisEventStore,
    SQLiteEventStore,
)

CLAIMED, DONE, BUSY = ClaimStatus.CLAIMED, ClaimStatus.DONE, ClaimStatus.BUSY


def test_claim_complete_release_cycle(store: EventStore) -> None:
    first = store.claim("evt_a")
    assert first.status is CLAIMED and first.token
    assert store.claim("evt_a").status is BUSY
    store.release("evt_a", first.token)
    second = store.claim("evt_a")
    assert second.status is CLAIMED
    store.complete("evt_a", second.token)
    assert store.claim("evt_a").status is DONE
    assert store.claim("evt_b").status is CLAIMED  # ids are independent


def test_release_with_a_stale_token_keeps_the_new_claim(store: EventStore) -> None:
    claim = store.claim("evt_a")
    store.release("evt_a", claim.token + "-not-mine")
    assert store.claim("evt_a").status is BUSY


def test_threads_racing_for_one_id_claim_it_once(store: EventStore) -> None:
    n = 16
    barrier = threading.Barrier(n)
    results: list[ClaimStatus] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        status = store.claim("evt_race").status
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(CLAIMED) == 1
    assert results.count(BUSY) == n - 1


def test_memory_lease_expires_with_the_clock() -> None:
    now = [100.0]
    store = InMemoryEventStore(lease=30, clock=lambda: now[0])
    old = store.claim("evt_a")
    now[0] += 29
    assert store.claim("evt_a").status is BUSY
    now[0] += 2
    taken = store.claim("evt_a")
    assert taken.status is CLAIMED
    store.release("evt_a", old.token)  # the crashed claimer's late release changes nothing
    assert store.claim("evt_a").status is BUSY


def test_memory_forgets_oldest_done_ids_beyond_max() -> None:
    store = InMemoryEventStore(max_done=2)
    for event_id in ("e1", "e2", "e3"):
        store.complete(event_id, store.claim(event_id).token)
    assert store.claim("e1").status is CLAIMED
    assert store.claim("e3").status is DONE


def test_sqlite_lease_takeover_after_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    crashed = SQLiteEventStore(path, lease=60)
    stale = crashed.claim("evt_a")
    assert SQLiteEventStore(path).claim("evt_a").status is BUSY
    later = SQLiteEventStore(path, clock=lambda: time.time() + 61)
    taken = later.claim("evt_a")
    assert taken.status is CLAIMED and taken.token != stale.token
    crashed.release("evt_a", stale.token)  # must not free the new claimer's lease
    assert later.claim("evt_a").status is BUSY
    later.complete("evt_a", taken.token)
    assert crashed.claim("evt_a").status is DONE


def test_sqlite_persists_and_prunes(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    first = SQLiteEventStore(path)
    first.complete("evt_a", first.claim("evt_a").token)
    first.close()
    reopened = SQLiteEventStore(path)
    assert reopened.claim("evt_a").status is DONE
    assert reopened.prune(older_than=3600) == 0
    assert SQLiteEventStore(path, clock=lambda: time.time() + 7200).prune(older_than=3600) == 1
    assert reopened.claim("evt_a").status is CLAIMED


def _claim_in_process(path: str, ids: list[str], start: Any, out: Any) -> None:
    store = SQLiteEventStore(path)
    start.wait()
    claimed = [i for i in ids if store.claim(i).status is CLAIMED]
    out.put(claimed)


def test_sqlite_processes_racing_claim_each_id_once(tmp_path: Path) -> None:
    path = str(tmp_path / "events.db")
    SQLiteEventStore(path)  # create the schema once
    ids = [f"evt_{i}" for i in range(200)]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_in_process, args=(path, ids if k % 2 else ids[::-1], start, out))
        for k in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    claimed = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    flat = [i for part in claimed for i in part]
    assert sorted(flat) == sorted(ids)  # every id claimed, none twice
    assert sum(1 for part in claimed if part) >= 1


def test_redis_single_key_lifecycle(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisEventStore(client, prefix="t1:", lease=30, done_ttl=3600)
    claim = store.claim("evt_a")
    assert 0 < client.pttl("t1:evt_a") <= 30_000
    assert client.get("t1:evt_a") == claim.token.encode()
    store.complete("evt_a", claim.token)
    assert client.get("t1:evt_a") == b"done"
    assert 3500 < client.ttl("t1:evt_a") <= 3600


def test_redis_lease_expires_on_the_server(redis_url: str) -> None:
    store = RedisEventStore(redis_url, prefix="t2:", lease=0.2)
    assert store.claim("evt_a").status is CLAIMED
    assert store.claim("evt_a").status is BUSY
    deadline = time.monotonic() + 10
    while (status := store.claim("evt_a").status) is BUSY and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status is CLAIMED


def test_redis_client_with_decoded_responses(redis_url: str) -> None:
    store = RedisEventStore(redis.Redis.from_url(redis_url, decode_responses=True), prefix="t3:")
    store.complete("evt_a", store.claim("evt_a").token)
    assert store.claim("evt_a").status is DONE
