"""Analytics from hourly rollups equal a full recomputation from raw rows, on both databases.

A real sandbox is driven through days of activity: bills created, paid, repaid,
cancelled, left to expire, liquidated after the clock moved past the liquidation
threshold, left paid past the grace period (overdue); checkout sessions completed,
expired and left open; refused payments; a second merchant alongside. Then, for many
windows (on the hour and not, shorter than an hour, across everything) and bucket
bounds (days, weeks, months, uneven), at several values of *now*:

* ``store.metrics.window_counts`` / ``series`` (rollups for whole hours, raw rows at
  the edges) equal the ``*_raw`` aggregates over the whole window;
* ``GET /v1/analytics/metrics`` shows the same counts and series;
* migration 16, run again on this database, fills the same rollup rows the writes
  kept, and a ``ROLLBACK TO SAVEPOINT`` (a refused keyed request) leaves them right.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from backend_helpers import Api

from lumenlater_sdk.backend.db import Tx, migrate
from lumenlater_sdk.backend.services.bills import NewBill, issue_bill
from lumenlater_sdk.backend.store import (
    COMPONENT,
    MIGRATIONS,
    ledger,
    metrics,
    payment_failures,
    rollups,
)
from lumenlater_sdk.backend.store import bills as bill_store
from lumenlater_sdk.backend.testing import SandboxHandle, run_sandbox

HOUR = 3600
DAY = 86_400


@dataclass
class History:
    """A sandbox with days of history, its merchants and the time it spans."""

    sb: SandboxHandle
    merchants: list[str]
    first: int
    now: int


def _clock(sb: SandboxHandle, seconds: int) -> None:
    # The sandbox's own clock, as the query-plan test moves it: the HTTP helper refuses
    # a move that changes another merchant's bills, which this history wants.
    assert sb.backend.sandbox is not None
    sb.backend.sandbox.advance_clock(seconds)
    while sb.run_time_triggers():
        pass


def _trigger(api: Api, event_type: str, amount: int) -> None:
    body: dict[str, Any] = {"type": event_type}
    made = "checkout_session" if event_type.startswith(("checkout.", "payment.")) else "bill"
    body["overrides"] = {made: {"amount": amount}}
    api.ok("POST", "/v1/test_helpers/events/trigger", json=body)


def _round(
    api: Api, approve: str, n: int, unpaid: list[str], tick: Callable[[], None] = lambda: None
) -> None:
    """One stretch of a shop's day: bills in every state, sessions, a refusal (*tick*
    moves the clock between steps, so that they fall at different minutes)."""
    made = [
        api.ok("POST", "/v1/bills", json={"customer": approve, "amount": 1_000_000 * k + n})
        for k in range(1, 6)
    ]
    for bill in made[:3]:
        api.ok("POST", f"/v1/test_helpers/bills/{bill['id']}/pay", json={"wallet": "approve"})
        tick()
    api.ok("POST", f"/v1/test_helpers/bills/{made[0]['id']}/repay", json={})
    unpaid.extend(b["id"] for b in made[1:3])  # paid, not repaid: overdue later
    api.ok("POST", f"/v1/bills/{made[3]['id']}/cancel")  # made[4] expires
    _trigger(api, "checkout.session.completed", 2_000_000 + n)
    tick()
    _trigger(api, "checkout.session.expired", 3_000_000 + n)
    _trigger(api, "payment.failed", 4_000_000 + n)
    api.ok(
        "POST",
        "/v1/checkout/sessions",
        json={
            "amount": 5_000_000 + n,
            "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/back",
        },
    )


def _drive(sb: SandboxHandle) -> History:
    rival = sb.create_merchant("Rival Shop")
    with Api(sb.base_url, sb.secret_key) as api, Api(sb.base_url, rival.secret_key) as other:
        first = int(api.ok("GET", "/v1/test_helpers/clock")["now"])
        approve = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
        rival_approve = other.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
        unpaid: list[str] = []
        rival_unpaid: list[str] = []
        # Uneven steps: activity in many hours of several days, some hours twice.
        steps = [1_234, 5 * HOUR + 17, 40 * 60, 26 * HOUR + 999, 3 * HOUR, DAY + 7]
        steps += [HOUR - 1, 50 * 60, 7 * DAY + 11 * HOUR, 2 * HOUR + 3, 4 * DAY]
        for n, step in enumerate(steps):
            _round(api, approve, n, unpaid, lambda: _clock(sb, 7 * 60 + 11))
            if n % 2 == 0:
                _round(other, rival_approve, n, rival_unpaid)
            _clock(sb, step)
        # Past the liquidation threshold: some debts liquidated, the others overdue.
        _clock(sb, 29 * DAY)
        for bill_id in unpaid[::3]:
            api.ok("POST", f"/v1/test_helpers/bills/{bill_id}/liquidate", json={})
        for bill_id in unpaid[1::3]:
            api.ok("POST", f"/v1/test_helpers/bills/{bill_id}/repay", json={})
        other.ok("POST", f"/v1/test_helpers/bills/{rival_unpaid[0]}/liquidate", json={})
        # Recent activity: bills paid and still within their grace period.
        for n, step in enumerate([2 * HOUR + 5, 9 * HOUR, 1_800]):
            _round(api, approve, 10 + n, [])
            _clock(sb, step)
        now = int(api.ok("GET", "/v1/test_helpers/clock")["now"])
    return History(sb, [sb.merchant_id, rival.merchant_id], first, now)


@pytest.fixture(scope="module")
def history(module_db_url: str) -> Iterator[History]:
    with run_sandbox(module_db_url, run_delivery=False, tick_interval=3600) as sb:
        yield _drive(sb)


def _raw(tx: Tx, merchant: str, start: int, end: int, now: int, grace: int) -> dict[str, int]:
    return {
        **ledger.line_totals_raw(tx, merchant, start, end),
        **ledger.bill_counts_raw(tx, merchant, start, end, now, grace),
        **ledger.session_counts_raw(tx, merchant, start, end),
        "payment_failures": payment_failures.count(tx, merchant, start, end),
    }


def _windows(h: History) -> list[tuple[int, int]]:
    """Windows over the history: everything, on the hour, within one hour, across an
    hour's end, many uneven ones (seeded, so a failure repeats), and windows that start
    or end right before, at or after the moments payments happened: their partial hours
    and their buckets' (whose bounds are a day apart) cut hours that hold facts."""
    with h.sb.backend.ctx.db.transaction(write=False) as tx:
        moments = [
            int(r["created"])
            for r in tx.fetchall(
                "SELECT DISTINCT created FROM ledger_lines WHERE merchant_id = ? ORDER BY created",
                (h.merchants[0],),
            )
        ]
    assert len(moments) > 20
    lo, hi = h.first - 2 * HOUR, h.now + HOUR
    on_hour = h.first // HOUR * HOUR
    out = [
        (lo, hi),
        (on_hour, on_hour + 3 * DAY),
        (on_hour + HOUR, on_hour + 2 * HOUR),
        (h.first + 10, h.first + 20),
        (on_hour + HOUR - 30, on_hour + HOUR + 30),
        (h.now - 30 * DAY, h.now + 1),
        (h.now - 365 * DAY, h.now + 1),
    ]
    for t in moments[::2]:
        out += [
            (t - 1, t + 1),
            (t, t + 3 * DAY + 7),
            (t + 1, h.now + 1),
            (t - 3 * DAY + 1, t + DAY),
        ]
    rnd = random.Random(17)
    for _ in range(40):
        start = rnd.randrange(lo, hi)
        out.append((start, rnd.randrange(start + 1, hi + 1)))
    return out


def _bounds(start: int, end: int, kind: int) -> list[int]:
    """Bucket bounds: days, weeks, uneven (month-like) widths, or one bucket."""
    if kind == 3:
        return [start, end]
    if kind == 2:
        widths = [31 * DAY, 28 * DAY + 3 * HOUR, 13 * HOUR + 1, 30 * DAY]
        bounds, i = [start], 0
        while bounds[-1] + widths[i % 4] < end:
            bounds.append(bounds[-1] + widths[i % 4])
            i += 1
        return [*bounds, end]
    width = DAY if kind == 0 else 7 * DAY
    return [*range(start, end, width), end]


def test_windows_from_rollups_equal_raw_recomputation(history: History) -> None:
    ctx = history.sb.backend.ctx
    grace = ctx.constants.grace_period
    nows = [history.now, history.now - 20 * DAY, history.first + 15 * DAY + 7]
    checked = 0
    windows = _windows(history)
    with ctx.db.transaction(write=False) as tx:
        # And the moments a still-paid bill turns overdue: a bill on the boundary.
        still_paid = tx.fetchall("SELECT created FROM bills WHERE status = 'paid' ORDER BY id")
        assert still_paid
        nows += [int(r["created"]) + grace + d for r in still_paid[::2] for d in (0, 1)]
        for merchant in history.merchants:
            for n, (start, end) in enumerate(windows):
                now = nows[n % len(nows)]
                got = metrics.window_counts(tx, merchant, start, end, now=now, grace_period=grace)
                assert got == _raw(tx, merchant, start, end, now, grace), (merchant, start, end)
                bounds = _bounds(start, end, n % 4)
                assert metrics.series(tx, merchant, bounds) == ledger.series_raw(
                    tx, merchant, bounds
                ), (merchant, bounds)
                checked += 1
        whole = _raw(
            tx, history.merchants[0], history.first - HOUR, history.now + 1, nows[0], grace
        )
    # The history holds every kind of fact, so equality above compared real counts.
    assert checked == 2 * len(windows)
    for key in (
        "volume",
        "bills_created",
        "bills_paid",
        "repaid_count",
        "liquidated_count",
        "overdue_count",
        "sessions_created",
        "sessions_completed",
        "payment_failures",
    ):
        assert whole[key] > 0, key
    assert whole["bills_paid"] > whole["repaid_count"] + whole["liquidated_count"]


def test_metrics_endpoint_shows_the_raw_figures(history: History) -> None:
    ctx = history.sb.backend.ctx
    grace = ctx.constants.grace_period
    with Api(history.sb.base_url, history.sb.secret_key) as api:
        for n, (start, end) in enumerate(_windows(history)[:16]):
            interval = ("day", "week", "month")[n % 3]
            with ctx.db.transaction(write=False) as tx:
                before = _raw(tx, history.merchants[0], start, end, ctx.chain.now(tx), grace)
            got = api.ok(
                "GET",
                "/v1/analytics/metrics",
                params={"start": start, "end": end, "interval": interval},
            )
            with ctx.db.transaction(write=False) as tx:
                after = _raw(tx, history.merchants[0], start, end, ctx.chain.now(tx), grace)
                series = [
                    {"start": s["start"], "volume": s["volume"], "bills_paid": s["bills_paid"]}
                    for s in got["series"]
                ]
                bounds = [s["start"] for s in got["series"]] + [end]
                assert series == ledger.series_raw(tx, history.merchants[0], bounds)
            # Ledger time runs on during the call: overdue is as at one of the two.
            assert {k: got[k] for k in before} in (before, after), (start, end, interval)


def _rollup_rows(tx: Tx) -> dict[tuple[str, int], tuple[int, ...]]:
    rows = tx.fetchall(f"SELECT * FROM {rollups.TABLE}")
    out = {}
    for r in rows:
        counts = tuple(int(r[c]) for c in rollups.COUNTERS)
        if any(counts):  # an hour whose facts all moved away keeps a row of zeros
            out[(str(r["merchant_id"]), int(r["hour"]))] = counts
    return out


def _recounted(tx: Tx) -> dict[tuple[str, int], tuple[int, ...]]:
    out = {}
    for r in tx.fetchall(rollups.RECOUNT):
        counts = tuple(int(r[c]) for c in rollups.COUNTERS)
        if any(counts):
            out[(str(r["merchant_id"]), int(r["hour"]))] = counts
    return out


def test_concurrent_writers_keep_the_rollups_exact(history: History) -> None:
    """Bills made and paid by several clients at once (PostgreSQL runs them in
    parallel; each commit adds to the same hour's row): no lost update, no deadlock."""
    sb = history.sb

    def work(n: int) -> None:
        with Api(sb.base_url, sb.secret_key) as api:
            approve = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
            for k in range(6):
                bill = api.ok(
                    "POST", "/v1/bills", json={"customer": approve, "amount": 1_000_000 + n + k}
                )
                if k % 2 == 0:
                    path = f"/v1/test_helpers/bills/{bill['id']}/pay"
                    api.ok("POST", path, json={"wallet": "approve"})
                _trigger(api, "checkout.session.completed", 2_000_000 + n + k)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    with sb.backend.ctx.db.transaction(write=False) as tx:
        assert _rollup_rows(tx) == _recounted(tx)


def test_migration_16_fills_what_the_writes_kept(history: History) -> None:
    db = history.sb.backend.ctx.db
    with db.transaction(write=False) as tx:
        live = _rollup_rows(tx)
    with db.transaction() as tx:
        tx.execute(f"DROP TABLE {rollups.TABLE}")
        tx.execute("DROP INDEX ledger_lines_type_created")
        tx.execute(
            "DELETE FROM schema_migrations WHERE component = ? AND version = 16", (COMPONENT,)
        )
    assert migrate(db, COMPONENT, MIGRATIONS) == 1
    with db.transaction(write=False) as tx:
        filled = _rollup_rows(tx)
    assert len(live) > 15
    assert filled == live


def test_a_rolled_back_savepoint_takes_its_counts_back(history: History) -> None:
    ctx = history.sb.backend.ctx
    merchant = history.merchants[0]
    with ctx.db.transaction(write=False) as tx:
        before = _rollup_rows(tx)
        paid = tx.scalar(
            "SELECT id FROM bills WHERE merchant_id = ? AND status = 'paid' ORDER BY id LIMIT 1",
            (merchant,),
        )
    assert paid is not None
    with ctx.db.transaction() as tx:
        # As a refused keyed request: everything since the savepoint is undone, and the
        # transaction commits what came before (here, nothing counted).
        tx.execute("SAVEPOINT refused")
        wallet = tx.scalar(
            "SELECT address FROM wallets WHERE merchant_id = ? AND builtin = 'approve'",
            (merchant,),
        )
        issue_bill(ctx, tx, merchant, NewBill(customer=str(wallet), amount=7_000_000), None)
        bill_store.update_bill(tx, str(paid), status="repaid")
        tx.execute("ROLLBACK TO SAVEPOINT refused")
        # Changed again after the rollback: counted from its state before the transaction.
        bill_store.update_bill(tx, str(paid), status="liquidated")
        bill_store.update_bill(tx, str(paid), status="paid")
    with ctx.db.transaction(write=False) as tx:
        assert _rollup_rows(tx) == before


def test_a_sweep_over_more_hours_than_a_flush_chunk_keeps_the_rollups_exact(db_url: str) -> None:
    """Unpaid bills issued an hour apart for more hours than one flush statement holds
    earlier contributions of, then expired by one sweep (as after a backend was down for
    days): the sweep commits, and the rollups still equal a recount."""
    hours = rollups._CHUNK // 16 + 10  # more (merchant, hour) rows than one chunk's VALUES
    with run_sandbox(db_url, run_delivery=False, tick_interval=3600) as sb:
        assert sb.backend.sandbox is not None
        with Api(sb.base_url, sb.secret_key) as api:
            approve = api.ok("GET", "/v1/test_helpers/wallets/approve")["address"]
            for n in range(hours):
                api.ok("POST", "/v1/bills", json={"customer": approve, "amount": 1_000_000 + n})
                sb.backend.sandbox.advance_clock(HOUR)  # no sweep between: none due yet
            sb.backend.sandbox.advance_clock(2 * DAY)
            assert sb.run_time_triggers() >= hours
            listed = api.ok("GET", "/v1/bills", params={"status": "expired", "limit": 100})
            assert len(listed["data"]) == 100
        with sb.backend.ctx.db.transaction(write=False) as tx:
            assert tx.scalar("SELECT count(*) FROM bills WHERE status = 'expired'") == hours
            assert _rollup_rows(tx) == _recounted(tx)
