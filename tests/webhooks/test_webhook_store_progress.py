"""Event stores: per-handler progress, lease renewal, and opening files of older versions."""

from __future__ import annotations

import multiprocessing
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import redis

from lumenlater_sdk.webhooks import (
    ClaimStatus,
    InMemoryEventStore,
    RedisEventStore,
    SQLiteEventStore,
)

CLAIMED, DONE, BUSY = ClaimStatus.CLAIMED, ClaimStatus.DONE, ClaimStatus.BUSY
# Fresh key prefixes: the Redis server may be an external one that outlives a run.
RUN = secrets.token_hex(4)


def test_finished_handlers_are_listed_on_the_next_claim_until_the_event_completes(
    store: Any,
) -> None:
    first = store.claim("evt_a")
    assert first.status is CLAIMED and first.done_handlers == frozenset()
    store.handler_done("evt_a", first.token, "shop.hooks.fulfil")
    store.release("evt_a", first.token)

    second = store.claim("evt_a")
    assert second.status is CLAIMED
    assert second.done_handlers == {"shop.hooks.fulfil"}
    store.handler_done("evt_a", second.token, "shop.hooks.email")
    store.handler_done("evt_a", second.token, "shop.hooks.email")  # twice: one mark
    store.release("evt_a", second.token)

    third = store.claim("evt_a")
    assert third.done_handlers == {"shop.hooks.fulfil", "shop.hooks.email"}
    assert store.claim("evt_b").done_handlers == frozenset()  # per event id
    store.complete("evt_a", third.token)
    assert store.claim("evt_a").status is DONE
    # A late finisher after completion leaves nothing behind either.
    store.handler_done("evt_a", third.token, "shop.hooks.late")
    assert store.claim("evt_a").status is DONE


def test_extend_renews_only_the_lease_its_token_holds(store: Any) -> None:
    claim = store.claim("evt_a")
    assert store.extend("evt_a", claim.token) is True
    assert store.extend("evt_a", claim.token + "-not-mine") is False
    assert store.extend("evt_never_claimed", claim.token) is False
    store.release("evt_a", claim.token)
    assert store.extend("evt_a", claim.token) is False
    again = store.claim("evt_a")
    store.complete("evt_a", again.token)
    assert store.extend("evt_a", again.token) is False
    assert store.claim("evt_a").status is DONE


def test_memory_extend_pushes_the_expiry_forward() -> None:
    now = [100.0]
    store = InMemoryEventStore(lease=30, clock=lambda: now[0])
    claim = store.claim("evt_a")
    now[0] += 25
    assert store.extend("evt_a", claim.token)
    now[0] += 25  # 50 s after the claim, 25 s after the renewal
    assert store.claim("evt_a").status is BUSY
    now[0] += 6
    assert store.claim("evt_a").status is CLAIMED


def test_sqlite_extend_is_seen_by_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    start = time.time()
    holder = SQLiteEventStore(path, lease=30, clock=lambda: start + 25)
    claim = SQLiteEventStore(path, lease=30, clock=lambda: start).claim("evt_a")
    assert holder.extend("evt_a", claim.token)
    later = SQLiteEventStore(path, lease=30, clock=lambda: start + 50)
    assert later.claim("evt_a").status is BUSY  # the original lease ended at +30
    assert SQLiteEventStore(path, clock=lambda: start + 56).claim("evt_a").status is CLAIMED


def test_redis_extend_resets_the_ttl_on_the_server(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisEventStore(client, prefix=f"p1-{RUN}:", lease=30)
    claim = store.claim("evt_a")
    client.pexpire(f"p1-{RUN}:evt_a", 500)  # as if 29.5 s had passed
    assert store.extend("evt_a", claim.token)
    assert client.pttl(f"p1-{RUN}:evt_a") > 20_000
    store.complete("evt_a", claim.token)
    ttl = client.ttl(f"p1-{RUN}:evt_a")
    assert not store.extend("evt_a", claim.token)
    assert client.get(f"p1-{RUN}:evt_a") == b"done" and client.ttl(f"p1-{RUN}:evt_a") <= ttl


def test_redis_progress_is_one_expiring_set_removed_on_completion(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisEventStore(client, prefix=f"p2-{RUN}:", done_ttl=3600)
    claim = store.claim("evt_a")
    store.handler_done("evt_a", claim.token, "shop.hooks.fulfil")
    assert client.smembers(f"p2-{RUN}:evt_a:handlers") == {b"shop.hooks.fulfil"}
    assert 3500 < client.ttl(f"p2-{RUN}:evt_a:handlers") <= 3600  # abandoned events expire
    store.complete("evt_a", claim.token)
    assert client.exists(f"p2-{RUN}:evt_a:handlers") == 0


def test_redis_progress_with_decoded_responses(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisEventStore(client, prefix=f"p3-{RUN}:")
    claim = store.claim("evt_a")
    store.handler_done("evt_a", claim.token, "shop.hooks.fulfil")
    store.release("evt_a", claim.token)
    assert store.claim("evt_a").done_handlers == {"shop.hooks.fulfil"}


def test_sqlite_complete_and_prune_forget_progress(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SQLiteEventStore(path)
    for event_id in ("evt_done", "evt_abandoned"):
        claim = store.claim(event_id)
        store.handler_done(event_id, claim.token, "shop.hooks.fulfil")
        store.release(event_id, claim.token)
    store.complete("evt_done", store.claim("evt_done").token)

    def marks() -> list[tuple[str, str]]:
        with sqlite3.connect(path) as conn:
            return conn.execute(
                "SELECT event_id, handler FROM lumenlater_webhook_handlers"
            ).fetchall()

    assert marks() == [("evt_abandoned", "shop.hooks.fulfil")]
    assert store.prune(older_than=3600) == 0
    assert marks() != []
    SQLiteEventStore(path, clock=lambda: time.time() + 7200).prune(older_than=3600)
    assert marks() == []


# What versions before per-handler progress created, byte for byte.
_VERSION_0_SCHEMA = """
CREATE TABLE IF NOT EXISTS lumenlater_webhook_events (
    event_id    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- 'processing' or 'done'
    token       TEXT,
    lease_until REAL,
    updated_at  REAL NOT NULL
)
"""


def _old_file(path: Path) -> None:
    now = time.time()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(_VERSION_0_SCHEMA)
        conn.executemany(
            "INSERT INTO lumenlater_webhook_events VALUES (?, ?, ?, ?, ?)",
            [
                ("evt_done", "done", None, None, now),
                ("evt_held", "processing", "oldtoken", now + 3600, now),
                ("evt_crashed", "processing", "oldtoken", now - 1, now - 61),
            ],
        )
    conn.close()


def test_a_file_written_by_an_older_version_opens_and_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _old_file(path)
    store = SQLiteEventStore(path)
    assert store.claim("evt_done").status is DONE
    assert store.claim("evt_held").status is BUSY
    assert store.extend("evt_held", "oldtoken")  # an old receiver's lease stays valid
    taken = store.claim("evt_crashed")
    assert taken.status is CLAIMED and taken.done_handlers == frozenset()
    store.handler_done("evt_crashed", taken.token, "shop.hooks.fulfil")
    store.release("evt_crashed", taken.token)
    assert store.claim("evt_crashed").done_handlers == {"shop.hooks.fulfil"}
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    conn.close()
    assert SQLiteEventStore(path).claim("evt_done").status is DONE  # reopening is a no-op


def _open_and_claim(path: str, start: Any, out: Any) -> None:
    start.wait()
    store = SQLiteEventStore(path)
    claim = store.claim("evt_race")
    if claim.status is CLAIMED:
        store.handler_done("evt_race", claim.token, "shop.hooks.fulfil")
    out.put(claim.status.value)


def test_processes_opening_an_old_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _old_file(path)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_open_and_claim, args=(str(path), start, out)) for _ in range(3)]
    for p in procs:
        p.start()
    start.set()
    statuses = sorted(out.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert statuses == ["busy", "busy", "claimed"]
    claim = SQLiteEventStore(path, clock=lambda: time.time() + 120).claim("evt_race")
    assert claim.done_handlers == {"shop.hooks.fulfil"}
