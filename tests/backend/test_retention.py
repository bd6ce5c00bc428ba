"""Retention on both databases: what is past its window goes, in bounded batches, while
everything inside it (and every pending delivery) stays and answers as before.

Rows are aged with the backend's wall clock (``BackendConfig.clock``, moved forward by
``Clock.offset``) and the delivery engine's own claim/record functions called at
chosen times; nothing sleeps for days. The webhook endpoint points at a closed port
and the delivery worker is off, so outbox rows move only when a test moves them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_helpers import Api, new_bill_body

from lumenlater_sdk.backend.app import journal_url
from lumenlater_sdk.backend.db import Database, Row, Tx, connect
from lumenlater_sdk.backend.delivery import DEFAULT_SCHEDULE, DISABLE_AFTER, Claim, Outcome
from lumenlater_sdk.backend.delivery._attempts import record_outcomes
from lumenlater_sdk.backend.delivery._claims import claim_batch
from lumenlater_sdk.backend.services.retention import (
    IDEMPOTENCY_GRACE,
    SEEN_GRACE,
    Pruner,
    RetentionPolicy,
    prune,
)
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

DAY = 86_400
POLICY = RetentionPolicy(batch=7, pause=0.0)  # small batches: every step takes several


class Clock:
    """The backend's wall clock, real time plus an offset a test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(params=["sqlite", "postgresql"])
def aged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SandboxHandle, Clock]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'retention.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    clock = Clock()
    with run_sandbox(
        url,
        run_delivery=False,
        tick_interval=3600,
        log_requests=True,
        retention=False,
        clock=clock,
    ) as sb:
        yield sb, clock


def _deliver(
    sb: SandboxHandle,
    now: float,
    status_code: int,
    *,
    limit: int = 1000,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
) -> list[int]:
    """Claim up to *limit* due outbox rows at *now* and record *status_code* for each,
    as the worker does (same functions); the seqs handled."""
    db, box = sb.backend.db, sb.backend.ctx.box
    token = uuid.uuid4().hex
    with db.transaction() as tx:
        claims, _ = claim_batch(
            tx,
            now=now,
            lease=30,
            token=token,
            limit=limit,
            per_endpoint=limit,
            secret=box.open,
        )
        outcomes = [
            Outcome(c, status_code, None if status_code < 300 else "refused", 5, now)
            for c in claims
        ]
        record_outcomes(
            tx,
            outcomes,
            tokens={c.seq: token for c in claims},
            schedule=schedule,
            disable_after=DISABLE_AFTER,
            now=now,
        )
    return [c.seq for c in claims]


def _rows(sb: SandboxHandle, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    with sb.backend.db.transaction(write=False) as tx:
        return tx.fetchall(sql, params)


def _count(sb: SandboxHandle, table: str) -> int:
    return int(_rows(sb, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def _outbox(sb: SandboxHandle) -> dict[int, str]:
    return {r["seq"]: r["status"] for r in _rows(sb, "SELECT seq, status FROM webhook_outbox")}


def _bills(api: Api, n: int) -> None:
    body = new_bill_body(api)
    for _ in range(n):
        assert api.post("/v1/bills", body).status_code == 200


def _all(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = api.ok("GET", path, params={"limit": 100, **params})
    out += page["data"]
    while page["has_more"]:
        page = api.ok("GET", path, params={"limit": 100, "starting_after": out[-1]["id"], **params})
        out += page["data"]
    return out


def _answers(api: Api, endpoint: str, since: dict[str, int]) -> dict[str, Any]:
    """What the API answers about everything inside the windows (*since*: the oldest
    ``created`` each list keeps)."""
    return {
        "bills": _all(api, "/v1/bills"),
        "events": _all(api, "/v1/events"),
        "deliveries": [
            d
            for d in _all(api, f"/v1/webhook_endpoints/{endpoint}/deliveries")
            if d["created"] >= since["deliveries"]
        ],
        "request_logs": [
            r for r in _all(api, "/v1/request_logs") if r["created"] >= since["request_logs"]
        ],
    }


def test_old_rows_go_newer_and_pending_stay_and_answers_hold(
    aged: tuple[SandboxHandle, Clock],
) -> None:
    sb, clock = aged
    assert sb.webhook_endpoint is not None
    with Api(sb.base_url, sb.secret_key) as api:
        # Long ago: bills whose deliveries are final (delivered, failed for good), one
        # still retrying (next attempt in 200 days), an idempotency key, request logs.
        _bills(api, 6)
        old_key = api.post("/v1/bills", new_bill_body(api), headers={"Idempotency-Key": "old"})
        assert old_key.status_code == 200
        t0 = clock()
        delivered_old = _deliver(sb, t0 + 1, 200, limit=3)
        failed_old = _deliver(sb, t0 + 1, 500, limit=2, schedule=(0,))
        retrying = _deliver(sb, t0 + 1, 500, schedule=(0, 200 * DAY))
        assert len(delivered_old) == 3 and len(failed_old) == 2 and retrying
        assert {_outbox(sb)[s] for s in retrying} == {"pending"}
        # 23 hours before "now": a key that must still replay after pruning.
        clock.offset = 40 * DAY - 23 * 3600
        recent_body = new_bill_body(api, amount=12_345_678)
        recent = api.post("/v1/bills", recent_body, headers={"Idempotency-Key": "recent"})
        assert recent.status_code == 200
        # Now: bills delivered just now, and bills whose deliveries were never tried.
        clock.offset = 40 * DAY
        _bills(api, 5)
        delivered_new = _deliver(sb, clock(), 200)
        assert delivered_new and not set(delivered_new) & set(retrying)
        _bills(api, 4)
        sb.backend.request_log.flush()

        now = clock()
        since = {
            "deliveries": int(now - 30 * DAY),  # the default windows
            "request_logs": int(now - 30 * DAY),
        }
        before_outbox = _outbox(sb)
        before = _answers(api, sb.webhook_endpoint, since)
        old_attempts = _rows(
            sb, "SELECT id FROM webhook_deliveries WHERE created < ?", (since["deliveries"],)
        )
        old_logs = _rows(
            sb, "SELECT id FROM request_logs WHERE created < ?", (since["request_logs"],)
        )
        assert old_attempts and old_logs and before["deliveries"] and before["request_logs"]
        assert (POLICY.attempts_days, POLICY.request_logs_days) == (30, 30)

        report = Pruner(sb.backend.db, POLICY, clock).run_once()

        gone = set(delivered_old) | set(failed_old)
        assert _outbox(sb) == {s: st for s, st in before_outbox.items() if s not in gone}
        assert report.deleted["webhook_outbox"] == len(gone)
        assert report.deleted["webhook_deliveries"] == len(old_attempts)
        assert report.deleted["request_logs"] == len(old_logs)
        assert report.deleted["idempotency_keys"] == 1
        assert not _rows(
            sb, "SELECT id FROM webhook_deliveries WHERE created < ?", (since["deliveries"],)
        )
        keys = [r["idem_key"] for r in _rows(sb, "SELECT idem_key FROM idempotency_keys")]
        assert keys == ["recent"]
        # Every answer inside the windows is what it was (the request log has grown by
        # the requests that read the answers: those are left out).
        sb.backend.request_log.flush()
        after = _answers(api, sb.webhook_endpoint, since)
        kept = {r["id"] for r in before["request_logs"]}
        after["request_logs"] = [r for r in after["request_logs"] if r["id"] in kept]
        assert after == before
        again = api.post("/v1/bills", recent_body, headers={"Idempotency-Key": "recent"})
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == recent.json()
        # Nothing else is old enough: a second run deletes nothing.
        assert Pruner(sb.backend.db, POLICY, clock).run_once().total == 0


def test_idempotency_keys_stay_their_24_hours(aged: tuple[SandboxHandle, Clock]) -> None:
    sb, clock = aged
    with Api(sb.base_url, sb.secret_key) as api:
        body = new_bill_body(api)
        first = api.post("/v1/bills", body, headers={"Idempotency-Key": "k"})
        assert first.status_code == 200
        pruner = Pruner(sb.backend.db, POLICY, clock)
        for hours in (1, 23, 24):
            clock.offset = hours * 3600 - 5
            assert pruner.run_once().deleted.get("idempotency_keys", 0) == 0
            replay = api.post("/v1/bills", body, headers={"Idempotency-Key": "k"})
            assert replay.headers.get("Idempotent-Replayed") == "true"
            assert replay.json()["id"] == first.json()["id"]
        clock.offset = 24 * 3600 + IDEMPOTENCY_GRACE + 5
        assert pruner.run_once().deleted["idempotency_keys"] == 1
        # As without pruning: an expired key runs the request anew.
        fresh = api.post("/v1/bills", body, headers={"Idempotency-Key": "k"})
        assert fresh.status_code == 200 and fresh.json()["id"] != first.json()["id"]


def _event_counts(sb: SandboxHandle) -> dict[str, int]:
    rows = _rows(sb, "SELECT type, COUNT(*) AS n FROM events GROUP BY type")
    return {r["type"]: int(r["n"]) for r in rows}


def test_seen_chain_events_go_only_once_the_sweep_is_a_day_past(
    aged: tuple[SandboxHandle, Clock],
) -> None:
    sb, clock = aged
    pruner = Pruner(sb.backend.db, POLICY, clock)
    with Api(sb.base_url, sb.secret_key) as api:
        _bills(api, 5)
        sb.run_time_triggers()  # the sweep passes every event made so far
        marked = _count(sb, "chain_events_seen")
        assert marked >= 5
        assert pruner.run_once().deleted.get("chain_events_seen", 0) == 0  # noted, kept
        _bills(api, 3)  # marked after the note: their marks outlive the next prune
        clock.offset = SEEN_GRACE - 60
        assert pruner.run_once().deleted.get("chain_events_seen", 0) == 0
        clock.offset = SEEN_GRACE + 60
        assert pruner.run_once().deleted["chain_events_seen"] == marked
        assert _count(sb, "chain_events_seen") >= 3
        counts = _event_counts(sb)
        # The sweep and the calls after pruning apply nothing twice.
        sb.run_time_triggers()
        _bills(api, 2)
        sb.run_time_triggers()
        after = _event_counts(sb)
        assert after.pop("bill.created") == counts.pop("bill.created") + 2
        after.pop("bill.expired", None), counts.pop("bill.expired", None)  # the clock moved
        assert after == counts


@pytest.mark.parametrize("fixture", ["sandbox_soroban", "sandbox_soroban_pg"])
def test_the_soroban_journal_forgets_events_the_sweep_is_past(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    sb: SandboxHandle = request.getfixturevalue(fixture)
    clock = Clock()
    pruner = Pruner(sb.backend.db, POLICY, clock, chain=sb.backend.ctx.chain)
    journal = connect(journal_url(sb.config.database_url))

    def cursors() -> list[int]:
        with journal.transaction(write=False) as tx:
            return [r["cursor"] for r in tx.fetchall("SELECT cursor FROM soroban_events")]

    try:
        with Api(sb.base_url, sb.secret_key) as api:
            _bills(api, 3)
            sb.run_time_triggers()
            before = cursors()
            assert len(before) >= 3
            assert pruner.run_once().deleted.get("chain_events", 0) == 0
            clock.offset = SEEN_GRACE + 60
            report = pruner.run_once()
            # All but the newest, which numbers the next.
            assert report.deleted["chain_events"] == len(before) - 1
            assert cursors() == [max(before)]
            counts = _event_counts(sb)
            _bills(api, 2)
            sb.run_time_triggers()
            assert min(set(cursors()) - {max(before)}) > max(before)
            after = _event_counts(sb)
            assert after.pop("bill.created") == counts.pop("bill.created") + 2
            assert after == counts
    finally:
        journal.close()


def _attempt_rows(sb: SandboxHandle, n: int, created: float, *, per_tx: int = 500) -> None:
    """*n* attempt-log rows made at *created*, written by the engine's recorder."""
    assert sb.webhook_endpoint is not None
    for start in range(0, n, per_tx):
        claims = [
            Claim(
                seq=-(i + 1),  # no outbox row: only the log is written
                event_id=f"evt_seed{i}",
                event_type="bill.created",
                payload=b"{}",
                endpoint_id=sb.webhook_endpoint,
                merchant_id=sb.merchant_id,
                url="http://127.0.0.1:9/",
                secrets=(),
                attempt=1,
                cycle_attempt=1,
                cycle_started=created,
            )
            for i in range(start, min(start + per_tx, n))
        ]
        with sb.backend.db.transaction() as tx:
            record_outcomes(
                tx,
                [Outcome(c, 200, None, 3, created) for c in claims],
                tokens={c.seq: "seed" for c in claims},
                schedule=DEFAULT_SCHEDULE,
                disable_after=DISABLE_AFTER,
                now=created,
            )


class _Counting(Database):
    """The database, counting the rows each write transaction deletes and its DELETEs."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.url = inner.url
        self.deletes: list[tuple[int, int]] = []  # (statements, rows) per transaction

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Tx]:
        counted = [0, 0]
        with self.inner.transaction(write=write) as tx:
            plain = tx.execute

            def execute(sql: str, params: Sequence[Any] = ()) -> int:
                n = plain(sql, params)
                if sql.lstrip().upper().startswith("DELETE"):
                    counted[0] += 1
                    counted[1] += n
                return n

            tx.execute = execute  # type: ignore[method-assign]
            yield tx
        self.deletes.append((counted[0], counted[1]))

    def transaction(self, *, write: bool = True) -> AbstractContextManager[Tx]:
        return self._tx(write)

    async def watch(self, channel: str, callback: Callable[[], None], **kw: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.inner.close()


def test_each_transaction_deletes_one_bounded_batch(aged: tuple[SandboxHandle, Clock]) -> None:
    sb, clock = aged
    _attempt_rows(sb, 530, clock() - 40 * DAY, per_tx=200)
    _attempt_rows(sb, 20, clock())
    counting = _Counting(sb.backend.db)
    policy = RetentionPolicy(batch=50, pause=0.0)
    report = prune(counting, policy, now=clock())
    assert report.deleted["webhook_deliveries"] == 530
    assert max(rows for _, rows in counting.deletes) == 50
    assert all(statements <= 1 for statements, _ in counting.deletes)
    assert sum(rows for _, rows in counting.deletes) == report.total
    assert report.batches.count(50) >= 10 and max(report.batches) == 50
    assert _count(sb, "webhook_deliveries") == 20


def test_writers_keep_going_while_a_big_prune_runs(aged: tuple[SandboxHandle, Clock]) -> None:
    sb, clock = aged
    _attempt_rows(sb, 20_000, clock() - 40 * DAY)
    answers: list[tuple[float, float, int]] = []
    done = threading.Event()
    pruning: list[float] = []

    def write() -> None:
        with httpx.Client(
            base_url=sb.base_url, headers={"Authorization": f"Bearer {sb.secret_key}"}, timeout=60
        ) as http:
            customer = http.get("/v1/test_helpers/wallets/approve").json()["address"]
            while not done.is_set():
                started = time.monotonic()
                r = http.post(
                    "/v1/bills",
                    json={"customer": customer, "amount": 1_000_000},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                answers.append((started, time.monotonic(), r.status_code))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while not answers:
            time.sleep(0.01)
        pruning.append(time.monotonic())
        report = prune(sb.backend.db, RetentionPolicy(batch=500, pause=0.02), now=clock())
        pruning.append(time.monotonic())
    finally:
        done.set()
        writer.join()
    assert report.deleted["webhook_deliveries"] == 20_000
    assert {code for *_, code in answers} == {200}
    during = [a for a in answers if a[0] >= pruning[0] and a[1] <= pruning[1]]
    assert during, "no POST ran while the prune did"


def test_two_pruners_at_once_delete_each_row_once(aged: tuple[SandboxHandle, Clock]) -> None:
    sb, clock = aged
    _attempt_rows(sb, 3_000, clock() - 40 * DAY)
    _attempt_rows(sb, 10, clock())
    # A second pool on the same database: another backend process's.
    other = connect(sb.config.database_url)
    reports: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(db: Database) -> None:
        try:
            start.wait()
            reports.append(prune(db, RetentionPolicy(batch=100, pause=0.001), now=clock()))
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(db,)) for db in (sb.backend.db, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    assert not errors
    deleted = sum(r.deleted.get("webhook_deliveries", 0) for r in reports)
    leftover = _count(sb, "webhook_deliveries") - 10
    # A pruner that yielded to the other one leaves nothing behind: the next run takes it.
    assert deleted + leftover == 3_000
    if leftover:
        assert any(r.yielded for r in reports)
        assert prune(sb.backend.db, POLICY, now=clock()).deleted["webhook_deliveries"] == leftover
    assert _count(sb, "webhook_deliveries") == 10


def test_the_backend_prunes_in_the_background(db_url: str) -> None:
    clock = Clock()
    with run_sandbox(
        db_url, run_delivery=False, tick_interval=3600, retention_interval=0.2, clock=clock
    ) as sb:
        assert sb.backend.pruner is not None
        _attempt_rows(sb, 120, clock() - 31 * DAY)
        _attempt_rows(sb, 5, clock())
        deadline = time.monotonic() + 60
        while _count(sb, "webhook_deliveries") > 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(sb, "webhook_deliveries") == 5


def test_retention_off_keeps_everything(tmp_path: Path) -> None:
    with run_sandbox(f"sqlite:///{tmp_path / 'keep.db'}", retention=False) as sb:
        assert sb.backend.pruner is None


@pytest.mark.parametrize(
    "bad",
    [{"batch": 0}, {"pause": -1.0}, {"interval": 0.0}, {"attempts_days": 0.0}],
)
def test_a_policy_that_cannot_work_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="retention_"):
        RetentionPolicy(**bad)
